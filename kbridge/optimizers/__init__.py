"""`kbridge.optimizers`: Keras 3's optimizers, `get`, `serialize` and `deserialize`.

Every optimizer is written once with `kbridge.ops`; its variables have structural
paths (see `kbridge.optimizers.optimizer`).
"""

from kbridge.optimizers import schedules
from kbridge.optimizers.adadelta import Adadelta
from kbridge.optimizers.adagrad import Adagrad
from kbridge.optimizers.adam import Adam
from kbridge.optimizers.adamax import Adamax
from kbridge.optimizers.adamw import AdamW
from kbridge.optimizers.ftrl import Ftrl
from kbridge.optimizers.lion import Lion
from kbridge.optimizers.nadam import Nadam
from kbridge.optimizers.optimizer import Optimizer
from kbridge.optimizers.rmsprop import RMSprop
from kbridge.optimizers.sgd import SGD
from kbridge.saving import serialization_lib

ALL_OBJECTS = (Optimizer, Adam, SGD, RMSprop, Adadelta, AdamW, Adagrad, Adamax, Nadam, Ftrl, Lion)
ALL_OBJECTS_DICT = {cls.__name__.lower(): cls for cls in ALL_OBJECTS}
# Schedules too, so that `kbridge.saving` finds them from a config's module "keras.optimizers.schedules".
ALL_OBJECTS_DICT.update(schedules.ALL_OBJECTS_DICT)
_OPTIMIZERS = {cls.__name__.lower(): cls for cls in ALL_OBJECTS if cls is not Optimizer}


def serialize(optimizer):
    """Returns Keras 3's serialized dict of `optimizer`."""
    return serialization_lib.serialize_keras_object(optimizer)


def deserialize(config, custom_objects=None):
    """Returns the optimizer described by a serialized dict (built-in class names are case-insensitive)."""
    config = dict(config)
    if isinstance(config.get("class_name"), str) and config["class_name"].lower() in _OPTIMIZERS:
        config["class_name"] = config["class_name"].lower()
    return serialization_lib.deserialize_keras_object(config, module_objects=_OPTIMIZERS, custom_objects=custom_objects)


def get(identifier):
    """Returns an optimizer from a name ("adam", "sgd", ...), a config dict or an instance.

    Raises:
        ValueError: an unknown name (the message lists the valid ones) or another value.
    """
    if identifier is None:
        return None
    if isinstance(identifier, str):
        if identifier.lower() not in _OPTIMIZERS and not serialization_lib.get_registered_object(identifier):
            raise ValueError(
                f"Could not interpret optimizer identifier: {identifier!r}. Valid names: {sorted(_OPTIMIZERS)}"
            )
        identifier = {"class_name": identifier, "config": {}}
    obj = deserialize(identifier) if isinstance(identifier, dict) else identifier
    if isinstance(obj, Optimizer):
        return obj
    raise ValueError(f"Could not interpret optimizer identifier: {identifier}")


__all__ = [
    "ALL_OBJECTS_DICT",
    "SGD",
    "Adadelta",
    "Adagrad",
    "Adam",
    "AdamW",
    "Adamax",
    "Ftrl",
    "Lion",
    "Nadam",
    "Optimizer",
    "RMSprop",
    "deserialize",
    "get",
    "schedules",
    "serialize",
]  # fmt: skip
