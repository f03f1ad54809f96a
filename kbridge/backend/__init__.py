"""`kbridge.backend`: which framework runs the ops, and Keras 3's `keras.backend` helpers."""

from kbridge.backend import registry
from kbridge.backend.dispatch import current_backend, use
from kbridge.backend.dtypes import is_float_dtype, is_int_dtype, result_type, standardize_dtype
from kbridge.backend.registry import get
from kbridge.config import epsilon, floatx, image_data_format, set_epsilon, set_floatx, set_image_data_format


def backend():
    """Returns the default backend's name (as `keras.backend.backend()`)."""
    from kbridge import config

    return config.backend()


__all__ = [
    "backend",
    "current_backend",
    "epsilon",
    "floatx",
    "get",
    "image_data_format",
    "is_float_dtype",
    "is_int_dtype",
    "registry",
    "result_type",
    "set_epsilon",
    "set_floatx",
    "set_image_data_format",
    "standardize_dtype",
    "use",
]
