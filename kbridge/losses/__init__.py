"""`kbridge.losses`: Keras 3's losses as classes and functions, `get`, `serialize` and `deserialize`.

Every loss is written once against `kbridge.ops` and runs on the backend of its inputs.
"""

import inspect

from kbridge.losses.hinge import (
    CategoricalHinge,
    Dice,
    Hinge,
    SquaredHinge,
    Tversky,
    categorical_hinge,
    dice,
    hinge,
    squared_hinge,
    tversky,
)
from kbridge.losses.loss import Loss, LossFunctionWrapper
from kbridge.losses.probabilistic import (
    BinaryCrossentropy,
    BinaryFocalCrossentropy,
    CategoricalCrossentropy,
    CategoricalFocalCrossentropy,
    CategoricalGeneralizedCrossEntropy,
    KLDivergence,
    Poisson,
    SparseCategoricalCrossentropy,
    binary_crossentropy,
    binary_focal_crossentropy,
    categorical_crossentropy,
    categorical_focal_crossentropy,
    categorical_generalized_cross_entropy,
    kl_divergence,
    poisson,
    sparse_categorical_crossentropy,
)
from kbridge.losses.regression import (
    CosineSimilarity,
    Huber,
    LogCosh,
    MeanAbsoluteError,
    MeanAbsolutePercentageError,
    MeanSquaredError,
    MeanSquaredLogarithmicError,
    cosine_similarity,
    huber,
    log_cosh,
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_squared_error,
    mean_squared_logarithmic_error,
)
from kbridge.losses.similarity import Circle, circle
from kbridge.saving import serialization_lib

ALL_OBJECTS = (
    Loss, LossFunctionWrapper,
    KLDivergence, Poisson, BinaryCrossentropy, BinaryFocalCrossentropy, CategoricalCrossentropy,
    CategoricalFocalCrossentropy, SparseCategoricalCrossentropy, CategoricalGeneralizedCrossEntropy,
    MeanSquaredError, MeanAbsoluteError, MeanAbsolutePercentageError, MeanSquaredLogarithmicError,
    CosineSimilarity, LogCosh, Huber,
    Hinge, SquaredHinge, CategoricalHinge,
    Dice, Tversky, Circle,
    kl_divergence, poisson, binary_crossentropy, binary_focal_crossentropy, categorical_crossentropy,
    categorical_focal_crossentropy, sparse_categorical_crossentropy, categorical_generalized_cross_entropy,
    mean_squared_error, mean_absolute_error, mean_absolute_percentage_error, mean_squared_logarithmic_error,
    cosine_similarity, log_cosh, huber,
    hinge, squared_hinge, categorical_hinge,
    dice, tversky, circle,
)  # fmt: skip
ALL_OBJECTS_DICT = {obj.__name__: obj for obj in ALL_OBJECTS}
ALL_OBJECTS_DICT.update(
    {
        "bce": binary_crossentropy,
        "BCE": binary_crossentropy,
        "kld": kl_divergence,
        "KLD": kl_divergence,
        "kullback_leibler_divergence": kl_divergence,
        "mae": mean_absolute_error,
        "MAE": mean_absolute_error,
        "mse": mean_squared_error,
        "MSE": mean_squared_error,
        "mape": mean_absolute_percentage_error,
        "MAPE": mean_absolute_percentage_error,
        "msle": mean_squared_logarithmic_error,
        "MSLE": mean_squared_logarithmic_error,
        "logcosh": log_cosh,
    }
)


def _unknown(identifier):
    return ValueError(
        f"Could not interpret loss identifier: {identifier!r}. Valid loss names are: {sorted(ALL_OBJECTS_DICT)}. "
        "Custom losses must be passed as objects, through `custom_objects`, or registered with "
        "`register_keras_serializable`."
    )


def _lookup(name, custom_objects=None):
    found = serialization_lib.get_registered_object(name, custom_objects) or ALL_OBJECTS_DICT.get(name)
    if found is None:
        raise _unknown(name)
    return found


def serialize(loss):
    """Returns Keras 3's serialized form of a `Loss` instance or loss function (None passes through)."""
    return serialization_lib.serialize_keras_object(loss)


def deserialize(name, custom_objects=None):
    """Returns the loss a name or a serialized dict stands for.

    A class name gives an instance, a function name the function.

    Raises:
        ValueError: an unknown name (the message lists the valid ones).
    """
    if isinstance(name, str):
        found = _lookup(name, custom_objects)
        return found() if inspect.isclass(found) else found
    return serialization_lib.deserialize_keras_object(
        name, custom_objects=custom_objects, module_objects=ALL_OBJECTS_DICT
    )


def get(identifier):
    """Returns a loss from None, a name ("mse", "CategoricalCrossentropy"), a config dict, a class or a callable.

    Classes are instantiated with their defaults; functions and `Loss` instances come back as they are.

    Example:
        >>> kbridge.losses.get("mse")                 # the function mean_squared_error
        >>> kbridge.losses.get("MeanSquaredError")    # a MeanSquaredError instance

    Raises:
        ValueError: an unknown name (the message lists the valid ones) or an object that is not callable.
    """
    if identifier is None:
        return None
    if isinstance(identifier, dict):
        obj = deserialize(identifier)
    elif isinstance(identifier, str):
        obj = _lookup(identifier)
    else:
        obj = identifier
    if inspect.isclass(obj):
        obj = obj()
    if not callable(obj):
        raise ValueError(f"Could not interpret loss identifier: {identifier!r} (it is not callable).")
    return obj


__all__ = sorted(name for name in ALL_OBJECTS_DICT if name == ALL_OBJECTS_DICT[name].__name__) + [
    "ALL_OBJECTS_DICT",
    "deserialize",
    "get",
    "serialize",
]
