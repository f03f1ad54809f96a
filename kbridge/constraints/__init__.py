"""`kbridge.constraints`: projections applied to weights after each optimizer step (Keras 3)."""

from kbridge.constraints.constraints import Constraint, MaxNorm, MinMaxNorm, NonNeg, UnitNorm
from kbridge.initializers._objects import deserialize_object, get_object, serialize_object
from kbridge.utils.naming import to_snake_case

max_norm = MaxNorm
min_max_norm = MinMaxNorm
non_neg = NonNeg
unit_norm = UnitNorm

ALL_OBJECTS = (Constraint, MaxNorm, MinMaxNorm, NonNeg, UnitNorm)
ALL_OBJECTS_DICT = {cls.__name__: cls for cls in ALL_OBJECTS}
ALL_OBJECTS_DICT.update({to_snake_case(cls.__name__): cls for cls in ALL_OBJECTS})


def serialize(constraint):
    """Returns Keras 3's serialized dict of `constraint` (None passes through)."""
    return serialize_object(constraint, "keras.constraints")


def deserialize(config, custom_objects=None):
    """Returns the constraint for a name or a serialized dict."""
    return deserialize_object(config, ALL_OBJECTS_DICT, "constraint", custom_objects)


def get(identifier):
    """Returns a constraint from None, a name, a config dict, a class or a callable.

    Raises:
        ValueError: unknown name (the message lists the valid ones) or a non-callable.
    """
    return get_object(identifier, deserialize, "constraint")


__all__ = ["Constraint", "MaxNorm", "MinMaxNorm", "NonNeg", "UnitNorm", "deserialize", "get", "max_norm",
           "min_max_norm", "non_neg", "serialize", "unit_norm"]  # fmt: skip
