"""`kbridge.initializers`: Keras 3's initializers, `get`, `serialize` and `deserialize`."""

import inspect

import numpy as np

from kbridge.initializers._objects import deserialize_object, serialize_object
from kbridge.initializers.initializers import (
    Constant,
    GlorotNormal,
    GlorotUniform,
    HeNormal,
    HeUniform,
    Identity,
    Initializer,
    LecunNormal,
    LecunUniform,
    Ones,
    Orthogonal,
    RandomInitializer,
    RandomNormal,
    RandomUniform,
    TruncatedNormal,
    VarianceScaling,
    Zeros,
    compute_fans,
)
from kbridge.utils.naming import to_snake_case

IdentityInitializer = Identity
OrthogonalInitializer = Orthogonal

ALL_OBJECTS = (
    Initializer, Constant, Identity, Ones, Zeros, GlorotNormal, GlorotUniform, HeNormal, HeUniform,
    LecunNormal, LecunUniform, Orthogonal, RandomNormal, RandomUniform, TruncatedNormal, VarianceScaling,
)  # fmt: skip
ALL_OBJECTS_DICT = {cls.__name__: cls for cls in ALL_OBJECTS}
ALL_OBJECTS_DICT.update({to_snake_case(cls.__name__): cls for cls in ALL_OBJECTS})
ALL_OBJECTS_DICT.update(
    {
        "IdentityInitializer": Identity,
        "OrthogonalInitializer": Orthogonal,
        "normal": RandomNormal,
        "uniform": RandomUniform,
        "one": Ones,
        "zero": Zeros,
    }
)


def serialize(initializer):
    """Returns Keras 3's serialized dict of `initializer` (None passes through)."""
    return serialize_object(initializer, "keras.initializers")


def deserialize(config, custom_objects=None):
    """Returns the initializer for a name or a serialized dict."""
    return deserialize_object(config, ALL_OBJECTS_DICT, "initializer", custom_objects)


def get(identifier):
    """Returns an initializer from a name, config dict, class, callable or array.

    An array (or tensor) becomes an initializer returning it, for a matching shape.

    Raises:
        ValueError: unknown name (the message lists the valid ones) or a non-callable.
    """
    if identifier is None:
        return None
    if isinstance(identifier, (str, dict)):
        return deserialize(identifier)
    if inspect.isclass(identifier):
        return identifier()
    if isinstance(identifier, (np.ndarray, np.generic)) or (hasattr(identifier, "shape") and hasattr(identifier, "dtype")):
        return _array_initializer(identifier)
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret initializer identifier: {identifier!r}")


def _array_initializer(array):
    from kbridge import ops
    from kbridge.backend.dtypes import standardize_dtype

    def initialize_fn(shape, dtype=None):
        if tuple(shape) != tuple(array.shape):
            raise ValueError(
                f"Expected `shape` to be {tuple(array.shape)} for direct tensor as initializer. "
                f"Received shape={tuple(shape)}"
            )
        return ops.convert_to_tensor(np.asarray(array), dtype=standardize_dtype(dtype))

    return initialize_fn


__all__ = [
    "ALL_OBJECTS_DICT", "Constant", "GlorotNormal", "GlorotUniform", "HeNormal", "HeUniform", "Identity",
    "IdentityInitializer", "Initializer", "LecunNormal", "LecunUniform", "Ones", "Orthogonal",
    "OrthogonalInitializer", "RandomInitializer", "RandomNormal", "RandomUniform", "TruncatedNormal",
    "VarianceScaling", "Zeros", "compute_fans", "deserialize", "get", "serialize",
]  # fmt: skip
# Keras 3 also exports snake_case aliases (`kbridge.initializers.glorot_uniform`).
globals().update({to_snake_case(cls.__name__): cls for cls in ALL_OBJECTS if cls is not Initializer})
