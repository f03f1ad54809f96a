"""`kbridge.regularizers`: weight/activity penalties (Keras 3 `keras.regularizers`)."""

from kbridge.initializers._objects import deserialize_object, get_object, serialize_object
from kbridge.regularizers.regularizers import L1, L1L2, L2, OrthogonalRegularizer, Regularizer
from kbridge.utils.naming import to_snake_case

l1 = L1
l2 = L2
l1_l2 = L1L2
orthogonal_regularizer = OrthogonalRegularizer

ALL_OBJECTS = (Regularizer, L1, L2, L1L2, OrthogonalRegularizer)
ALL_OBJECTS_DICT = {cls.__name__: cls for cls in ALL_OBJECTS}
ALL_OBJECTS_DICT.update({to_snake_case(cls.__name__): cls for cls in ALL_OBJECTS})


def serialize(regularizer):
    """Returns Keras 3's serialized dict of `regularizer` (None passes through)."""
    return serialize_object(regularizer, "keras.regularizers")


def deserialize(config, custom_objects=None):
    """Returns the regularizer for a name or a serialized dict."""
    return deserialize_object(config, ALL_OBJECTS_DICT, "regularizer", custom_objects)


def get(identifier):
    """Returns a regularizer from None, a name, a config dict, a class or a callable.

    Raises:
        ValueError: unknown name (the message lists the valid ones) or a non-callable.
    """
    return get_object(identifier, deserialize, "regularizer")


__all__ = ["L1", "L1L2", "L2", "OrthogonalRegularizer", "Regularizer", "deserialize", "get", "l1", "l1_l2", "l2",
           "orthogonal_regularizer", "serialize"]  # fmt: skip
