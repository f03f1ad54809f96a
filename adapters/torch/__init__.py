"""PyTorch adapter: the torch backend (`kbridge.adapters.torch.backend`), `to_module` and
`TorchModuleLayer`.

`to_module` and `TorchModuleLayer` are loaded on first use, so importing the backend
stays light and free of import cycles with the core.
"""

__all__ = ["KbridgeModule", "TorchModuleLayer", "to_module"]

_LAZY = {
    "KbridgeModule": "module",
    "to_module": "module",
    "TorchModuleLayer": "torch_module_layer",
}


def __getattr__(name):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"kbridge.adapters.torch.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
