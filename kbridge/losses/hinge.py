"""Hinge losses (maximum-margin classification) and overlap losses for segmentation (Dice, Tversky)."""

from kbridge import config, ops
from kbridge.losses.loss import BuiltinLoss, loss_function


def _axis(axis):
    # Configs read back from JSON hold lists where tuples were given.
    return tuple(axis) if isinstance(axis, list) else axis


def _cast_pair(y_true, y_pred):
    y_pred = ops.convert_to_tensor(y_pred)
    return ops.cast(y_true, ops.dtype(y_pred)), y_pred


def _binary_to_signed(y_true):
    """Maps labels to -1/1 when they are all 0 or 1; other labels pass through unchanged."""
    is_binary = ops.all(ops.logical_or(ops.equal(y_true, 0.0), ops.equal(y_true, 1.0)))
    # `where` rather than `cond`: no data-dependent branch for compilers to trace.
    return ops.where(is_binary, ops.subtract(ops.multiply(y_true, 2.0), 1.0), y_true)


def _margins(y_true, y_pred):
    y_true, y_pred = _cast_pair(y_true, y_pred)
    y_true = _binary_to_signed(y_true)
    return ops.maximum(ops.subtract(1.0, ops.multiply(y_true, y_pred)), 0.0)


@loss_function
def hinge(y_true, y_pred):
    """Mean of `maximum(1 - y_true * y_pred, 0)` over the last axis; 0/1 labels become -1/1."""
    return ops.mean(_margins(y_true, y_pred), axis=-1)


@loss_function
def squared_hinge(y_true, y_pred):
    """Mean of `square(maximum(1 - y_true * y_pred, 0))` over the last axis; 0/1 labels become -1/1."""
    return ops.mean(ops.square(_margins(y_true, y_pred)), axis=-1)


@loss_function
def categorical_hinge(y_true, y_pred):
    """`maximum(neg - pos + 1, 0)`: `pos` the true class's score, `neg` the best other class's score."""
    y_true, y_pred = _cast_pair(y_true, y_pred)
    pos = ops.sum(ops.multiply(y_true, y_pred), axis=-1)
    neg = ops.max(ops.multiply(ops.subtract(1.0, y_true), y_pred), axis=-1)
    return ops.maximum(ops.add(ops.subtract(neg, pos), 1.0), 0.0)


@loss_function
def dice(y_true, y_pred, axis=None):
    """`1 - 2 * sum(y_true * y_pred) / (sum(y_true) + sum(y_pred) + epsilon)` over `axis`."""
    y_true, y_pred = _cast_pair(y_true, y_pred)
    axis = _axis(axis)
    intersection = ops.sum(ops.multiply(y_true, y_pred), axis=axis)
    total = ops.add(ops.add(ops.sum(y_true, axis=axis), ops.sum(y_pred, axis=axis)), config.epsilon())
    return ops.subtract(1.0, ops.divide(ops.multiply(intersection, 2.0), total))


@loss_function
def tversky(y_true, y_pred, alpha=0.5, beta=0.5, axis=None):
    """`1 - tp / (tp + alpha * fp + beta * fn + epsilon)` over `axis` (soft counts)."""
    y_true, y_pred = _cast_pair(y_true, y_pred)
    axis = _axis(axis)
    tp = ops.sum(ops.multiply(y_true, y_pred), axis=axis)
    fp = ops.sum(ops.multiply(ops.subtract(1.0, y_pred), y_true), axis=axis)
    fn = ops.sum(ops.multiply(y_pred, ops.subtract(1.0, y_true)), axis=axis)
    denominator = ops.add(ops.add(ops.add(tp, ops.multiply(fp, alpha)), ops.multiply(fn, beta)), config.epsilon())
    return ops.subtract(1.0, ops.divide(tp, denominator))


class Hinge(BuiltinLoss):
    """Hinge loss for labels in {-1, 1} (0/1 labels are mapped to -1/1).

    Args:
        reduction: see `Loss`.
        name: the loss's name.
        dtype: the dtype of the computation.
    """

    def __init__(self, reduction="sum_over_batch_size", name="hinge", dtype=None):
        super().__init__(hinge, name=name, reduction=reduction, dtype=dtype)


class SquaredHinge(BuiltinLoss):
    """Squared hinge loss (arguments as `Hinge`)."""

    def __init__(self, reduction="sum_over_batch_size", name="squared_hinge", dtype=None):
        super().__init__(squared_hinge, name=name, reduction=reduction, dtype=dtype)


class CategoricalHinge(BuiltinLoss):
    """Categorical hinge loss for one-hot labels (arguments as `Hinge`)."""

    def __init__(self, reduction="sum_over_batch_size", name="categorical_hinge", dtype=None):
        super().__init__(categorical_hinge, name=name, reduction=reduction, dtype=dtype)


class Dice(BuiltinLoss):
    """Dice loss `1 - 2 |y_true . y_pred| / (|y_true| + |y_pred|)`, for segmentation.

    Args:
        reduction, name, dtype: see `Hinge`.
        axis: the axes summed over (None: all, giving one loss for the batch).
    """

    def __init__(self, reduction="sum_over_batch_size", name="dice", axis=None, dtype=None):
        super().__init__(dice, name=name, reduction=reduction, dtype=dtype, axis=axis)


class Tversky(BuiltinLoss):
    """Tversky loss: Dice with false positives weighted by `alpha` and false negatives by `beta`.

    Args:
        alpha: the weight of false positives.
        beta: the weight of false negatives.
        reduction, name, axis, dtype: see `Dice`.
    """

    def __init__(self, alpha=0.5, beta=0.5, reduction="sum_over_batch_size", name="tversky", axis=None, dtype=None):
        super().__init__(tversky, name=name, reduction=reduction, dtype=dtype, alpha=alpha, beta=beta, axis=axis)
