"""Regression losses: squared, absolute, percentage and logarithmic errors, Huber, log-cosh, cosine."""

import math

from kbridge import config, ops
from kbridge.losses.loss import BuiltinLoss, loss_function, squeeze_or_expand_to_same_rank


def _pair(y_true, y_pred):
    y_pred = ops.convert_to_tensor(y_pred)
    y_true = ops.convert_to_tensor(y_true, dtype=ops.dtype(y_pred))
    return squeeze_or_expand_to_same_rank(y_true, y_pred)


@loss_function
def mean_squared_error(y_true, y_pred):
    """Mean of `square(y_true - y_pred)` over the last axis."""
    y_true, y_pred = _pair(y_true, y_pred)
    return ops.mean(ops.square(ops.subtract(y_true, y_pred)), axis=-1)


@loss_function
def mean_absolute_error(y_true, y_pred):
    """Mean of `abs(y_true - y_pred)` over the last axis."""
    y_true, y_pred = _pair(y_true, y_pred)
    return ops.mean(ops.abs(ops.subtract(y_true, y_pred)), axis=-1)


@loss_function
def mean_absolute_percentage_error(y_true, y_pred):
    """`100 * mean(abs((y_true - y_pred) / max(abs(y_true), epsilon)))` over the last axis."""
    y_true, y_pred = _pair(y_true, y_pred)
    scale = ops.maximum(ops.abs(y_true), config.epsilon())
    return ops.multiply(ops.mean(ops.abs(ops.divide(ops.subtract(y_true, y_pred), scale)), axis=-1), 100.0)


@loss_function
def mean_squared_logarithmic_error(y_true, y_pred):
    """Mean of `square(log(max(y_pred, eps) + 1) - log(max(y_true, eps) + 1))` over the last axis."""
    y_true, y_pred = _pair(y_true, y_pred)
    epsilon = config.epsilon()
    first = ops.log(ops.add(ops.maximum(y_pred, epsilon), 1.0))
    second = ops.log(ops.add(ops.maximum(y_true, epsilon), 1.0))
    return ops.mean(ops.square(ops.subtract(first, second)), axis=-1)


@loss_function
def cosine_similarity(y_true, y_pred, axis=-1):
    """Negative cosine similarity of `y_true` and `y_pred` along `axis` (-1: opposite, 1: same direction)."""
    y_true, y_pred = _pair(y_true, y_pred)
    y_pred = ops.normalize(y_pred, axis=axis)
    y_true = ops.normalize(y_true, axis=axis)
    return ops.negative(ops.sum(ops.multiply(y_true, y_pred), axis=axis))


@loss_function
def huber(y_true, y_pred, delta=1.0):
    """Mean Huber loss over the last axis: quadratic for errors up to `delta`, linear beyond."""
    y_true, y_pred = _pair(y_true, y_pred)
    error = ops.subtract(y_pred, y_true)
    abs_error = ops.abs(error)
    delta = float(delta)
    quadratic = ops.multiply(ops.square(error), 0.5)
    linear = ops.subtract(ops.multiply(abs_error, delta), 0.5 * delta * delta)
    return ops.mean(ops.where(ops.less_equal(abs_error, delta), quadratic, linear), axis=-1)


@loss_function
def log_cosh(y_true, y_pred):
    """Mean of `log(cosh(y_pred - y_true))` over the last axis, computed without overflow."""
    y_true, y_pred = _pair(y_true, y_pred)
    x = ops.subtract(y_pred, y_true)
    # log(cosh(x)) = x + softplus(-2x) - log(2): finite for large |x|.
    return ops.mean(ops.subtract(ops.add(x, ops.softplus(ops.multiply(x, -2.0))), math.log(2.0)), axis=-1)


class MeanSquaredError(BuiltinLoss):
    """Mean of squares of errors between labels and predictions.

    Args:
        reduction: see `Loss`.
        name: the loss's name.
        dtype: the dtype of the computation.
    """

    def __init__(self, reduction="sum_over_batch_size", name="mean_squared_error", dtype=None):
        super().__init__(mean_squared_error, name=name, reduction=reduction, dtype=dtype)


class MeanAbsoluteError(BuiltinLoss):
    """Mean of absolute errors between labels and predictions (arguments as `MeanSquaredError`)."""

    def __init__(self, reduction="sum_over_batch_size", name="mean_absolute_error", dtype=None):
        super().__init__(mean_absolute_error, name=name, reduction=reduction, dtype=dtype)


class MeanAbsolutePercentageError(BuiltinLoss):
    """Mean absolute percentage error (arguments as `MeanSquaredError`)."""

    def __init__(self, reduction="sum_over_batch_size", name="mean_absolute_percentage_error", dtype=None):
        super().__init__(mean_absolute_percentage_error, name=name, reduction=reduction, dtype=dtype)


class MeanSquaredLogarithmicError(BuiltinLoss):
    """Mean squared logarithmic error (arguments as `MeanSquaredError`)."""

    def __init__(self, reduction="sum_over_batch_size", name="mean_squared_logarithmic_error", dtype=None):
        super().__init__(mean_squared_logarithmic_error, name=name, reduction=reduction, dtype=dtype)


class CosineSimilarity(BuiltinLoss):
    """Negative cosine similarity between labels and predictions.

    Args:
        axis: the axis along which the similarity is computed.
        reduction, name, dtype: see `MeanSquaredError`.
    """

    def __init__(self, axis=-1, reduction="sum_over_batch_size", name="cosine_similarity", dtype=None):
        super().__init__(cosine_similarity, name=name, reduction=reduction, dtype=dtype, axis=axis)


class Huber(BuiltinLoss):
    """Huber loss: `0.5 * x**2` for `|x| <= delta`, else `delta * |x| - 0.5 * delta**2`.

    Args:
        delta: the error at which the loss turns from quadratic to linear.
        reduction, name, dtype: see `MeanSquaredError`.
    """

    def __init__(self, delta=1.0, reduction="sum_over_batch_size", name="huber_loss", dtype=None):
        super().__init__(huber, name=name, reduction=reduction, dtype=dtype, delta=delta)


class LogCosh(BuiltinLoss):
    """Logarithm of the hyperbolic cosine of the prediction error (arguments as `MeanSquaredError`)."""

    def __init__(self, reduction="sum_over_batch_size", name="log_cosh", dtype=None):
        super().__init__(log_cosh, name=name, reduction=reduction, dtype=dtype)
