"""Process-wide settings, with Keras 3's names (`keras.config.*`)."""

import os

from kbridge.backend import registry

_settings = {"backend": None, "floatx": "float32", "epsilon": 1e-7, "image_data_format": "channels_last"}

_FLOAT_TYPES = ("float16", "bfloat16", "float32", "float64")


def backend():
    """Returns the name of the default backend ("jax", "torch", "tensorflow" or "numpy").

    Chosen, in order, by `set_backend`, the `KBRIDGE_BACKEND` environment variable,
    then the first installed of `registry.DEFAULT_ORDER`.
    """
    name = _settings["backend"]
    if name is None:
        env = os.environ.get("KBRIDGE_BACKEND")
        if env:
            name = registry.canonical_name(env)
        else:
            name = next(n for n in registry.DEFAULT_ORDER if registry.is_installed(n))
        _settings["backend"] = name
    return name


def set_backend(name):
    """Sets the default backend for new variables and for array-free ops.

    Unlike Keras 3 this reloads nothing: models already built keep their variables
    on the backend they live on (move them with `model.to_backend(name)`).
    """
    name = registry.canonical_name(name)
    registry.get(name)
    _settings["backend"] = name


def floatx():
    """Returns the default float dtype name ("float32" unless changed)."""
    return _settings["floatx"]


def set_floatx(value):
    """Sets the default float dtype: one of float16, bfloat16, float32, float64."""
    if value not in _FLOAT_TYPES:
        raise ValueError(f"set_floatx: expected one of {_FLOAT_TYPES}, received {value!r}")
    _settings["floatx"] = value


def epsilon():
    """Returns the fuzz factor used in numeric expressions (1e-7 by default)."""
    return _settings["epsilon"]


def set_epsilon(value):
    """Sets the fuzz factor used in numeric expressions."""
    _settings["epsilon"] = float(value)


def image_data_format():
    """Returns "channels_last" or "channels_first"."""
    return _settings["image_data_format"]


def set_image_data_format(data_format):
    """Sets the default image data format: "channels_last" or "channels_first"."""
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(
            f"set_image_data_format: expected 'channels_last' or 'channels_first', received {data_format!r}"
        )
    _settings["image_data_format"] = data_format
