"""PyTorch adapter: the torch backend (`kbridge.adapters.torch.backend`) and `to_module`.

`to_module` is loaded on first use, so importing the backend stays light and free of
import cycles with the core.
"""

__all__ = ["KbridgeModule", "to_module"]


def __getattr__(name):
    if name in __all__:
        from kbridge.adapters.torch import module

        return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
