"""Per-sample functions behind the loss-metrics.

Most are `kbridge.losses`' own functions, as in Keras; what differs for metrics lives
here: cosine similarity (a metric reports +1 for aligned vectors, the loss -1) and the
`ignore_class` handling of sparse crossentropy.
"""

from kbridge import ops
from kbridge.losses import (  # noqa: F401 - re-exported for the metric classes
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
    squared_hinge,
)
from kbridge.metrics._utils import squeeze_or_expand_to_same_rank, static_shape


def _pair(y_true, y_pred, same_rank=True):
    y_pred = ops.convert_to_tensor(y_pred)
    y_true = ops.cast(ops.convert_to_tensor(y_true), ops.dtype(y_pred))
    if same_rank:
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    return y_true, y_pred












def cosine_similarity(y_true, y_pred, axis=-1):
    """The cosine of the angle between `y_true` and `y_pred` along `axis` (1 means aligned)."""
    y_true, y_pred = _pair(y_true, y_pred)
    return ops.sum(ops.multiply(ops.normalize(y_true, axis=axis), ops.normalize(y_pred, axis=axis)), axis=axis)








def sparse_labels(y_true, y_pred, axis):
    y_true = ops.convert_to_tensor(y_true)
    true_shape, pred_shape = static_shape(y_true), static_shape(y_pred)
    if len(true_shape) == len(pred_shape) and true_shape[axis] == 1:
        y_true = ops.squeeze(y_true, axis=axis)
    return y_true


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, ignore_class=None, axis=-1):
    """Crossentropy between integer labels `y_true` and `y_pred`; `ignore_class` entries give 0."""
    y_pred = ops.convert_to_tensor(y_pred)
    y_true = sparse_labels(y_true, y_pred, axis)
    if ignore_class is None:
        return ops.sparse_categorical_crossentropy(y_true, y_pred, from_logits=from_logits, axis=axis)
    valid = sparse_valid_mask(y_true, ignore_class)
    y_true = ops.where(valid, y_true, 0)
    y_pred = ops.where(ops.expand_dims(valid, axis), y_pred, 0.0)
    res = ops.sparse_categorical_crossentropy(y_true, y_pred, from_logits=from_logits, axis=axis)
    return ops.where(valid, res, 0.0)


def sparse_valid_mask(y_true, ignore_class):
    """Where integer labels `y_true` differ from `ignore_class`."""
    y_true = ops.convert_to_tensor(y_true)
    return ops.not_equal(y_true, ops.cast(ignore_class, ops.dtype(y_true)))
