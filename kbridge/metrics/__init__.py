"""`kbridge.metrics`: Keras 3's metrics, `get`, `serialize` and `deserialize`."""

import inspect

from kbridge.metrics._loss_functions import (
    binary_crossentropy,
    categorical_crossentropy,
    categorical_hinge,
    hinge,
    kl_divergence,
    log_cosh,
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_squared_error,
    mean_squared_logarithmic_error,
    poisson,
    sparse_categorical_crossentropy,
    squared_hinge,
)
from kbridge.metrics.accuracy_metrics import (
    Accuracy,
    BinaryAccuracy,
    CategoricalAccuracy,
    SparseCategoricalAccuracy,
    SparseTopKCategoricalAccuracy,
    TopKCategoricalAccuracy,
    binary_accuracy,
    categorical_accuracy,
    sparse_categorical_accuracy,
    sparse_top_k_categorical_accuracy,
    top_k_categorical_accuracy,
)
from kbridge.metrics.auc import AUC
from kbridge.metrics.confusion_metrics import (
    FalseNegatives,
    FalsePositives,
    Precision,
    PrecisionAtRecall,
    Recall,
    RecallAtPrecision,
    SensitivityAtSpecificity,
    SpecificityAtSensitivity,
    TrueNegatives,
    TruePositives,
)
from kbridge.metrics.f_score_metrics import F1Score, FBetaScore
from kbridge.metrics.iou_metrics import BinaryIoU, IoU, MeanIoU, OneHotIoU, OneHotMeanIoU
from kbridge.metrics.metric import Metric
from kbridge.metrics.probabilistic_metrics import (
    BinaryCrossentropy,
    CategoricalCrossentropy,
    CategoricalHinge,
    Hinge,
    KLDivergence,
    Poisson,
    SparseCategoricalCrossentropy,
    SquaredHinge,
)
from kbridge.metrics.reduction_metrics import Mean, MeanMetricWrapper, Sum
from kbridge.metrics.regression_metrics import (
    CosineSimilarity,
    LogCoshError,
    MeanAbsoluteError,
    MeanAbsolutePercentageError,
    MeanSquaredError,
    MeanSquaredLogarithmicError,
    R2Score,
    RootMeanSquaredError,
)
from kbridge.utils.naming import to_snake_case as _to_snake_case

_CLASSES = (
    Metric, Mean, Sum, MeanMetricWrapper,
    MeanSquaredError, RootMeanSquaredError, MeanAbsoluteError, MeanAbsolutePercentageError,
    MeanSquaredLogarithmicError, CosineSimilarity, LogCoshError, R2Score,
    AUC, FalseNegatives, FalsePositives, Precision, PrecisionAtRecall, Recall, RecallAtPrecision,
    SensitivityAtSpecificity, SpecificityAtSensitivity, TrueNegatives, TruePositives,
    Hinge, SquaredHinge, CategoricalHinge,
    KLDivergence, Poisson, BinaryCrossentropy, CategoricalCrossentropy, SparseCategoricalCrossentropy,
    Accuracy, BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy, TopKCategoricalAccuracy,
    SparseTopKCategoricalAccuracy,
    F1Score, FBetaScore,
    IoU, BinaryIoU, MeanIoU, OneHotIoU, OneHotMeanIoU,
)  # fmt: skip

# Keras 3's lookup table: class names, their snake_case forms, and a few abbreviations.
# Snake-case names map to classes, so `get("binary_crossentropy")` is a metric object.
ALL_OBJECTS_DICT = {cls.__name__: cls for cls in _CLASSES}
ALL_OBJECTS_DICT.update({_to_snake_case(cls.__name__): cls for cls in _CLASSES})
ALL_OBJECTS_DICT.update(
    {
        "bce": BinaryCrossentropy, "BCE": BinaryCrossentropy,
        "mse": MeanSquaredError, "MSE": MeanSquaredError,
        "mae": MeanAbsoluteError, "MAE": MeanAbsoluteError,
        "mape": MeanAbsolutePercentageError, "MAPE": MeanAbsolutePercentageError,
        "msle": MeanSquaredLogarithmicError, "MSLE": MeanSquaredLogarithmicError,
    }
)  # fmt: skip


def serialize(metric):
    """Returns the Keras 3 config of a `Metric` (or the name config of a metric function)."""
    from kbridge.saving import serialization_lib

    return serialization_lib.serialize_keras_object(metric)


def deserialize(config, custom_objects=None):
    """Returns the metric (object or function) described by a `serialize()` config."""
    from kbridge.saving import serialization_lib

    return serialization_lib.deserialize_keras_object(
        config, module_objects=ALL_OBJECTS_DICT, custom_objects=custom_objects
    )


def get(identifier):
    """Returns a metric from a name, a config dict, a class, a `Metric` or a function.

    Names are class names ("AUC"), their snake_case forms ("mean_squared_error") or
    abbreviations ("mse", "mae", "mape", "msle", "bce"); a class is instantiated with
    its defaults. "accuracy" names `Accuracy` here: the compile-time meaning that
    depends on the loss and shapes is `kbridge.metrics.shortcuts.resolve_metric`.

    Raises:
        ValueError: an unknown name (the message lists the valid ones) or a non-callable.
    """
    if identifier is None:
        return None
    if isinstance(identifier, dict):
        obj = deserialize(identifier)
    elif isinstance(identifier, str):
        obj = ALL_OBJECTS_DICT.get(identifier)
        if obj is None:
            from kbridge.saving import serialization_lib

            obj = serialization_lib.get_registered_object(identifier)
        if obj is None:
            raise ValueError(
                f"Could not interpret metric identifier: {identifier!r}. Valid names are: {sorted(ALL_OBJECTS_DICT)}"
            )
    else:
        obj = identifier
    if inspect.isclass(obj):
        obj = obj()
    if not callable(obj):
        raise ValueError(f"Could not interpret metric identifier: {identifier!r}")
    return obj


__all__ = sorted(
    [cls.__name__ for cls in _CLASSES]
    + [
        "binary_accuracy", "binary_crossentropy", "categorical_accuracy", "categorical_crossentropy",
        "categorical_hinge", "hinge", "kl_divergence", "log_cosh", "mean_absolute_error",
        "mean_absolute_percentage_error", "mean_squared_error", "mean_squared_logarithmic_error", "poisson",
        "sparse_categorical_accuracy", "sparse_categorical_crossentropy", "sparse_top_k_categorical_accuracy",
        "squared_hinge", "top_k_categorical_accuracy", "get", "serialize", "deserialize", "ALL_OBJECTS_DICT",
    ]
)  # fmt: skip

from kbridge.metrics import shortcuts  # noqa: E402  (a submodule needing the names above)
