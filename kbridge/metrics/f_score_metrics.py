"""FBetaScore and F1Score for multi-class (one-hot) and multi-label classification."""

from kbridge import config, ops
from kbridge.metrics._utils import static_shape
from kbridge.metrics.metric import Metric


class FBetaScore(Metric):
    """The F-beta score `(1 + beta^2) * p * r / (beta^2 * p + r)` per class, optionally averaged.

    State is created on the first `update_state` (its size is the number of classes).

    Args:
        average: None (one score per class), "micro" (counts pooled over classes),
            "macro" (unweighted mean over classes) or "weighted" (mean weighted by
            each class's number of true instances).
        beta: a positive float; recall weighs `beta` times as much as precision.
        threshold: predictions above it count as positive; None marks the highest
            prediction of each sample.
        name: the metric's name.
        dtype: the dtype of the result.
    """

    def __init__(self, average=None, beta=1.0, threshold=None, name="fbeta_score", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self._direction = "up"
        if average not in (None, "micro", "macro", "weighted"):
            raise ValueError(
                "Invalid `average` argument value. Expected one of: {None, 'micro', 'macro', 'weighted'}. "
                f"Received: average={average}"
            )
        if not isinstance(beta, float):
            raise ValueError(
                "Invalid `beta` argument value. It should be a Python float. "
                f"Received: beta={beta} of type '{type(beta)}'"
            )
        if beta <= 0.0:
            raise ValueError(f"Invalid `beta` argument value. It should be > 0. Received: beta={beta}")
        if threshold is not None:
            if not isinstance(threshold, float):
                raise ValueError(
                    "Invalid `threshold` argument value. It should be a Python float. "
                    f"Received: threshold={threshold} of type '{type(threshold)}'"
                )
            if threshold > 1.0 or threshold <= 0.0:
                raise ValueError(
                    "Invalid `threshold` argument value. It should verify 0 < threshold <= 1. "
                    f"Received: threshold={threshold}"
                )
        self.average = average
        self.beta = beta
        self.threshold = threshold
        self.axis = None if average == "micro" else 0
        self._built = False

    def _build(self, y_true_shape, y_pred_shape):
        if len(y_pred_shape) != 2 or len(y_true_shape) != 2:
            raise ValueError(
                "FBetaScore expects 2D inputs with shape (batch_size, output_dim). Received input shapes: "
                f"y_pred.shape={y_pred_shape} and y_true.shape={y_true_shape}."
            )
        if y_pred_shape[-1] is None or y_true_shape[-1] is None:
            raise ValueError(
                "FBetaScore expects 2D inputs with shape (batch_size, output_dim), with output_dim fully defined "
                f"(not None). Received input shapes: y_pred.shape={y_pred_shape} and y_true.shape={y_true_shape}."
            )
        shape = () if self.average == "micro" else (y_pred_shape[-1],)
        for name in ("true_positives", "false_positives", "false_negatives", "intermediate_weights"):
            setattr(self, name, self.add_variable(shape=shape, initializer="zeros", dtype=self.dtype, name=name))
        self._built = True

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Adds the batch's (weighted) per-class counts."""
        y_true = ops.convert_to_tensor(y_true, dtype=self.dtype)
        y_pred = ops.convert_to_tensor(y_pred, dtype=self.dtype)
        if not self._built:
            self._build(static_shape(y_true), static_shape(y_pred))
        if self.threshold is None:
            highest = ops.max(y_pred, axis=-1, keepdims=True)
            # The highest prediction of each sample counts, unless it is (about) zero.
            y_pred = ops.logical_and(ops.greater_equal(y_pred, highest), ops.greater(ops.abs(y_pred), 1e-9))
        else:
            y_pred = ops.greater(y_pred, self.threshold)
        y_pred = ops.cast(y_pred, self.dtype)
        if sample_weight is not None:
            sample_weight = ops.expand_dims(ops.convert_to_tensor(sample_weight, dtype=self.dtype), 1)

        def weighted_sum(value):
            if sample_weight is not None:
                value = ops.multiply(value, sample_weight)
            return ops.sum(value, axis=self.axis)

        not_pred, not_true = ops.subtract(1.0, y_pred), ops.subtract(1.0, y_true)
        updates = (
            (self.true_positives, ops.multiply(y_pred, y_true)),
            (self.false_positives, ops.multiply(y_pred, not_true)),
            (self.false_negatives, ops.multiply(not_pred, y_true)),
            (self.intermediate_weights, y_true),
        )
        for variable, value in updates:
            variable.assign(ops.add(variable.value, weighted_sum(value)))

    def result(self):
        """The score (per class with `average=None`)."""
        if not self._built:
            return ops.zeros((), dtype=self.dtype)
        eps = config.epsilon()
        tp, fp, fn = self.true_positives.value, self.false_positives.value, self.false_negatives.value
        precision = ops.divide(tp, ops.add(ops.add(tp, fp), eps))
        recall = ops.divide(tp, ops.add(ops.add(tp, fn), eps))
        beta_sq = self.beta**2
        denominator = ops.add(ops.add(ops.multiply(beta_sq, precision), recall), eps)
        mean = ops.divide(ops.multiply(precision, recall), denominator)
        score = ops.multiply(mean, 1.0 + beta_sq)
        if self.average == "weighted":
            weights = self.intermediate_weights.value
            weights = ops.divide(weights, ops.add(ops.sum(weights), eps))
            score = ops.sum(ops.multiply(score, weights))
        elif self.average is not None:
            score = ops.mean(score)
        return score

    def reset_state(self):
        """Sets the counts back to zero."""
        for variable in self.variables:
            variable.assign(ops.zeros(variable.shape, dtype=variable.dtype))

    def get_config(self):
        """Returns {"name", "dtype", "average", "beta", "threshold"}."""
        return {**super().get_config(), "average": self.average, "beta": self.beta, "threshold": self.threshold}


class F1Score(FBetaScore):
    """The F1 score `2 * p * r / (p + r)` (FBetaScore with beta 1).

    Args:
        average: None, "micro", "macro" or "weighted" (see `FBetaScore`).
        threshold: predictions above it count as positive; None marks the highest
            prediction of each sample.
        name: the metric's name.
        dtype: the dtype of the result.
    """

    def __init__(self, average=None, threshold=None, name="f1_score", dtype=None):
        super().__init__(average=average, beta=1.0, threshold=threshold, name=name, dtype=dtype)

    def get_config(self):
        """Returns {"name", "dtype", "average", "threshold"}."""
        config = super().get_config()
        del config["beta"]
        return config
