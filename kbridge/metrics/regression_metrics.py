"""Regression metrics: mean errors, RMSE, cosine similarity, log-cosh and R2Score."""

from kbridge import ops
from kbridge.metrics import _loss_functions as fns
from kbridge.metrics._utils import squeeze_or_expand_to_same_rank, static_shape
from kbridge.metrics.metric import Metric
from kbridge.metrics.reduction_metrics import FixedFunctionMean, Mean, MeanMetricWrapper


class MeanSquaredError(FixedFunctionMean):
    """The mean of `mean((y_true - y_pred) ** 2, axis=-1)`.

    Args:
        name: the metric's name.
        dtype: the dtype of the result.
    """

    _FN = staticmethod(fns.mean_squared_error)

    def __init__(self, name="mean_squared_error", dtype=None):
        super().__init__(name=name, dtype=dtype)


class MeanAbsoluteError(FixedFunctionMean):
    """The mean of `mean(abs(y_true - y_pred), axis=-1)`.

    Args:
        name: the metric's name.
        dtype: the dtype of the result.
    """

    _FN = staticmethod(fns.mean_absolute_error)

    def __init__(self, name="mean_absolute_error", dtype=None):
        super().__init__(name=name, dtype=dtype)


class MeanAbsolutePercentageError(FixedFunctionMean):
    """The mean of `100 * mean(abs((y_true - y_pred) / y_true), axis=-1)`.

    Args:
        name: the metric's name.
        dtype: the dtype of the result.
    """

    _FN = staticmethod(fns.mean_absolute_percentage_error)

    def __init__(self, name="mean_absolute_percentage_error", dtype=None):
        super().__init__(name=name, dtype=dtype)


class MeanSquaredLogarithmicError(FixedFunctionMean):
    """The mean of `mean((log(y_pred + 1) - log(y_true + 1)) ** 2, axis=-1)`.

    Args:
        name: the metric's name.
        dtype: the dtype of the result.
    """

    _FN = staticmethod(fns.mean_squared_logarithmic_error)

    def __init__(self, name="mean_squared_logarithmic_error", dtype=None):
        super().__init__(name=name, dtype=dtype)


class LogCoshError(FixedFunctionMean):
    """The mean of `mean(log(cosh(y_pred - y_true)), axis=-1)`.

    Args:
        name: the metric's name.
        dtype: the dtype of the result.
    """

    _FN = staticmethod(fns.log_cosh)

    def __init__(self, name="logcosh", dtype=None):
        super().__init__(name=name, dtype=dtype)


class CosineSimilarity(MeanMetricWrapper):
    """The mean cosine similarity between labels and predictions along `axis`.

    Args:
        name: the metric's name.
        dtype: the dtype of the result.
        axis: the axis along which similarity is computed.
    """

    def __init__(self, name="cosine_similarity", dtype=None, axis=-1):
        super().__init__(fns.cosine_similarity, name, dtype=dtype, axis=axis)
        self._direction = "up"

    def get_config(self):
        """Returns {"name", "dtype"} (Keras 3 leaves `axis` out too)."""
        return {"name": self.name, "dtype": self.dtype}


class RootMeanSquaredError(Mean):
    """`sqrt` of the (weighted) mean of `(y_true - y_pred) ** 2`.

    Args:
        name: the metric's name.
        dtype: the dtype of the result.
    """

    def __init__(self, name="root_mean_squared_error", dtype=None):
        super().__init__(name, dtype=dtype)
        self._direction = "down"

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Adds the squared errors (weighted) to the mean."""
        y_true = ops.convert_to_tensor(y_true, dtype=self.dtype)
        y_pred = ops.convert_to_tensor(y_pred, dtype=self.dtype)
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        return super().update_state(ops.square(ops.subtract(y_pred, y_true)), sample_weight=sample_weight)

    def result(self):
        """`sqrt(total / count)`."""
        return ops.sqrt(super().result())


class R2Score(Metric):
    """The coefficient of determination, for 2-D `(batch, outputs)` regression targets.

    State is created on the first `update_state` (its size is the number of outputs).

    Args:
        class_aggregation: how the per-output scores combine: "uniform_average",
            "variance_weighted_average", or None (one score per output).
        num_regressors: the number of independent regressors, for the adjusted R2
            score (0 gives the plain score).
        name: the metric's name.
        dtype: the dtype of the result.
    """

    def __init__(self, class_aggregation="uniform_average", num_regressors=0, name="r2_score", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self._direction = "up"
        valid = (None, "uniform_average", "variance_weighted_average")
        if class_aggregation not in valid:
            raise ValueError(
                f"Invalid value for argument `class_aggregation`. Expected one of {valid}. "
                f"Received: class_aggregation={class_aggregation}"
            )
        if num_regressors < 0:
            raise ValueError(
                "Invalid value for argument `num_regressors`. Expected a value >= 0. "
                f"Received: num_regressors={num_regressors}"
            )
        self.class_aggregation = class_aggregation
        self.num_regressors = num_regressors
        self.num_samples = self.add_variable(shape=(), initializer="zeros", name="num_samples")
        self._built = False

    def _build(self, y_true_shape, y_pred_shape):
        if len(y_pred_shape) != 2 or len(y_true_shape) != 2:
            raise ValueError(
                "R2Score expects 2D inputs with shape (batch_size, output_dim). Received input shapes: "
                f"y_pred.shape={y_pred_shape} and y_true.shape={y_true_shape}."
            )
        if y_pred_shape[-1] is None or y_true_shape[-1] is None:
            raise ValueError(
                "R2Score expects 2D inputs with shape (batch_size, output_dim), with output_dim fully defined "
                f"(not None). Received input shapes: y_pred.shape={y_pred_shape} and y_true.shape={y_true_shape}."
            )
        num_classes = y_pred_shape[-1]
        self.squared_sum = self.add_variable(shape=(num_classes,), initializer="zeros", name="squared_sum")
        self.sum = self.add_variable(shape=(num_classes,), initializer="zeros", name="sum")
        self.total_mse = self.add_variable(shape=(num_classes,), initializer="zeros", name="residual")
        self.count = self.add_variable(shape=(num_classes,), initializer="zeros", name="count")
        self._built = True

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Accumulates the sums the score is computed from."""
        y_true = ops.convert_to_tensor(y_true, dtype=self.dtype)
        y_pred = ops.convert_to_tensor(y_pred, dtype=self.dtype)
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        if not self._built:
            self._build(static_shape(y_true), static_shape(y_pred))
        if sample_weight is None:
            sample_weight = 1.0
        sample_weight = ops.convert_to_tensor(sample_weight, dtype=self.dtype)
        if len(static_shape(sample_weight)) == 1:
            sample_weight = ops.expand_dims(sample_weight, axis=1)
        sample_weight = ops.broadcast_to(sample_weight, ops.shape(y_true))
        weighted_y_true = ops.multiply(y_true, sample_weight)
        residual = ops.multiply(ops.square(ops.subtract(y_true, y_pred)), sample_weight)
        self.sum.assign(ops.add(self.sum.value, ops.sum(weighted_y_true, axis=0)))
        self.squared_sum.assign(ops.add(self.squared_sum.value, ops.sum(ops.multiply(y_true, weighted_y_true), axis=0)))
        self.total_mse.assign(ops.add(self.total_mse.value, ops.sum(residual, axis=0)))
        self.count.assign(ops.add(self.count.value, ops.sum(sample_weight, axis=0)))
        size = ops.cast(ops.sum(ops.ones_like(y_true)), self.num_samples.dtype)
        self.num_samples.assign(ops.add(self.num_samples.value, size))

    def result(self):
        """The (aggregated, possibly adjusted) R2 score."""
        if not self._built:
            return ops.zeros((), dtype=self.dtype)
        mean = ops.divide(self.sum.value, self.count.value)
        total = ops.subtract(self.squared_sum.value, ops.multiply(self.sum.value, mean))
        raw_scores = ops.subtract(1.0, ops.divide(self.total_mse.value, total))
        raw_scores = ops.where(ops.isinf(raw_scores), 0.0, raw_scores)
        if self.class_aggregation == "uniform_average":
            score = ops.mean(raw_scores)
        elif self.class_aggregation == "variance_weighted_average":
            score = ops.divide(ops.sum(ops.multiply(total, raw_scores)), ops.sum(total))
        else:
            score = raw_scores
        if self.num_regressors != 0:
            # Keras warns and falls back when n - 1 <= p; a data-dependent warning would
            # need a host sync, so the fallback happens silently (ops.where).
            n = ops.cast(self.num_samples.value, "float32")
            p = float(self.num_regressors)
            adjusted = ops.subtract(1.0, ops.divide(ops.multiply(ops.subtract(1.0, score), ops.subtract(n, 1.0)),
                                                    ops.subtract(ops.subtract(n, p), 1.0)))  # fmt: skip
            score = ops.where(ops.greater(ops.subtract(n, 1.0), p), ops.cast(adjusted, ops.dtype(score)), score)
        return score

    def reset_state(self):
        """Sets the sums back to zero."""
        for variable in self.variables:
            variable.assign(ops.zeros(variable.shape, dtype=variable.dtype))

    def get_config(self):
        """Returns {"name", "dtype", "class_aggregation", "num_regressors"}."""
        return {
            "name": self.name,
            "dtype": self.dtype,
            "class_aggregation": self.class_aggregation,
            "num_regressors": self.num_regressors,
        }
