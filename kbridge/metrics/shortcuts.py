"""The string shortcuts `compile` accepts for metrics ("accuracy", "acc", "crossentropy", "ce", "mse", ...).

Keras 3 picks the meaning of "accuracy" from the shapes of the first batch's target
and output (`keras/src/trainers/compile_utils.py`), not from the loss:

- the output's last dim is 1: `BinaryAccuracy` (and "crossentropy" is binary crossentropy);
- else the target has a lower rank than the output, or a last dim of 1:
  `SparseCategoricalAccuracy` (sparse categorical crossentropy);
- otherwise `CategoricalAccuracy` (categorical crossentropy).

When the shapes are not known, the loss decides instead (Keras 2's rule): a binary
crossentropy loss gives the binary variant, a sparse categorical one the sparse
variant, anything else the categorical variant.
"""

import inspect

from kbridge.metrics import (
    BinaryAccuracy,
    BinaryCrossentropy,
    CategoricalAccuracy,
    CategoricalCrossentropy,
    Metric,
    MeanMetricWrapper,
    SparseCategoricalAccuracy,
    SparseCategoricalCrossentropy,
    get,
)
from kbridge.utils.naming import to_snake_case

ACCURACY_NAMES = ("accuracy", "acc")
CROSSENTROPY_NAMES = ("crossentropy", "ce")
_BINARY_LOSSES = {"binary_crossentropy", "bce", "binary_focal_crossentropy"}
_SPARSE_LOSSES = {"sparse_categorical_crossentropy"}


def _shape(x):
    if x is None:
        return None
    shape = x if isinstance(x, (tuple, list)) else getattr(x, "shape", None)
    if shape is None:
        return None
    return tuple(d if type(d) is int else None for d in shape)


def _loss_name(loss):
    if loss is None:
        return None
    if isinstance(loss, str):
        return to_snake_case(loss) if loss[:1].isupper() else loss
    fn = getattr(loss, "fn", None) or getattr(loss, "_fn", None)
    if fn is not None and hasattr(fn, "__name__"):
        return fn.__name__
    if inspect.isfunction(loss):
        return loss.__name__
    return to_snake_case(type(loss).__name__ if not inspect.isclass(loss) else loss.__name__)


def is_binary_or_sparse_categorical(y_true, y_pred):
    """Keras 3's test: `(is_binary, is_sparse_categorical)` from the target and output shapes.

    Args:
        y_true, y_pred: tensors, KerasTensors or shape tuples.
    """
    true_shape, pred_shape = _shape(y_true), _shape(y_pred)
    is_binary = pred_shape[-1] == 1
    wide = pred_shape[-1] is not None and pred_shape[-1] > 1
    is_sparse = len(true_shape) < len(pred_shape) or (true_shape[-1] == 1 and wide)
    return is_binary, is_sparse


def _kind(y_true, y_pred, loss):
    """"binary", "sparse" or "categorical", from the shapes when known, else from the loss."""
    if _shape(y_true) and _shape(y_pred):  # known, and not scalars
        is_binary, is_sparse = is_binary_or_sparse_categorical(y_true, y_pred)
        return "binary" if is_binary else "sparse" if is_sparse else "categorical"
    name = _loss_name(loss)
    if name in _BINARY_LOSSES:
        return "binary"
    return "sparse" if name in _SPARSE_LOSSES else "categorical"


def crossentropy_loss_name(y_true=None, y_pred=None, loss=None):
    """The loss function name "crossentropy"/"ce" stands for in `compile(loss=...)`."""
    return {"binary": "binary_crossentropy", "sparse": "sparse_categorical_crossentropy"}.get(
        _kind(y_true, y_pred, loss), "categorical_crossentropy"
    )


def resolve_metric(identifier, y_true=None, y_pred=None, loss=None):
    """Returns the `Metric` object `compile(metrics=[identifier])` uses.

    Args:
        identifier: a name ("accuracy", "mse", "AUC", ...), a config dict, a `Metric`
            class or object, or a function `fn(y_true, y_pred)` (wrapped in
            `MeanMetricWrapper`).
        y_true, y_pred: the target and output (tensors or shapes) the metric will see;
            they decide "accuracy"/"acc" and "crossentropy"/"ce".
        loss: the compiled loss (object, function or name), used when the shapes are unknown.

    Returns:
        A `Metric`, named after a string identifier (as in Keras: "acc" stays "acc").

    Raises:
        ValueError: None, or an unknown name.
    """
    if identifier is None:
        raise ValueError("Expected metric, received `None`")
    key = identifier.lower() if isinstance(identifier, str) else None
    if key in ACCURACY_NAMES:
        kind = _kind(y_true, y_pred, loss)
        cls = {"binary": BinaryAccuracy, "sparse": SparseCategoricalAccuracy}.get(kind, CategoricalAccuracy)
        metric = cls(name=identifier)
    elif key in CROSSENTROPY_NAMES:
        kind = _kind(y_true, y_pred, loss)
        cls = {"binary": BinaryCrossentropy, "sparse": SparseCategoricalCrossentropy}.get(kind, CategoricalCrossentropy)
        metric = cls(name=identifier)
    else:
        metric = get(identifier)
    if not isinstance(metric, Metric):
        metric = MeanMetricWrapper(metric, name=getattr(metric, "__name__", None))
    if isinstance(identifier, str):
        metric.name = identifier
    return metric
