"""TensorFlow adapter: the TF backend (`kbridge.adapters.tf.backend`), `to_module`,
`export_saved_model`, `TFModuleLayer` and `tf.distribute` support.

The public names are loaded on first use, so importing the backend stays light and free
of import cycles with the core.
"""

__all__ = ["KbridgeTFModule", "TFModuleLayer", "export_saved_model", "to_module"]

_LAZY = {
    "KbridgeTFModule": "module",
    "to_module": "module",
    "export_saved_model": "saved_model",
    "TFModuleLayer": "tf_module_layer",
}


def __getattr__(name):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"kbridge.adapters.tf.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
