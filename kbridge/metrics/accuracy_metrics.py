"""Accuracy metrics and their per-sample functions."""

from kbridge import config, ops
from kbridge.metrics._utils import squeeze_or_expand_to_same_rank, static_shape
from kbridge.metrics.reduction_metrics import MeanMetricWrapper


def accuracy(y_true, y_pred):
    """1.0 where `y_true == y_pred`, else 0.0."""
    y_pred = ops.convert_to_tensor(y_pred)
    y_true = ops.cast(ops.convert_to_tensor(y_true), ops.dtype(y_pred))
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    return ops.cast(ops.equal(y_true, y_pred), config.floatx())


def binary_accuracy(y_true, y_pred, threshold=0.5):
    """1.0 where `y_true` equals `y_pred > threshold`, else 0.0."""
    y_pred = ops.convert_to_tensor(y_pred)
    y_true = ops.convert_to_tensor(y_true)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    y_pred = ops.cast(ops.greater(y_pred, threshold), ops.dtype(y_true))
    return ops.cast(ops.equal(y_true, y_pred), config.floatx())


def categorical_accuracy(y_true, y_pred):
    """1.0 where the arg-max of one-hot `y_true` equals the arg-max of `y_pred`."""
    y_pred = ops.convert_to_tensor(y_pred)
    y_true = ops.argmax(ops.convert_to_tensor(y_true), axis=-1)
    return ops.cast(ops.equal(y_true, ops.argmax(y_pred, axis=-1)), config.floatx())


def sparse_categorical_accuracy(y_true, y_pred):
    """1.0 where integer label `y_true` equals the arg-max of `y_pred`."""
    y_pred = ops.convert_to_tensor(y_pred)
    y_true = ops.cast(ops.convert_to_tensor(y_true), ops.dtype(y_pred))
    true_shape, pred_shape = static_shape(y_true), static_shape(y_pred)
    if len(true_shape) == len(pred_shape) and true_shape[-1] == 1:
        y_true = ops.squeeze(y_true, axis=-1)
    predicted = ops.cast(ops.argmax(y_pred, axis=-1), ops.dtype(y_true))
    matches = ops.cast(ops.equal(y_true, predicted), config.floatx())
    shape = static_shape(matches)
    if len(shape) > 1 and shape[-1] == 1:
        matches = ops.squeeze(matches, axis=-1)
    return matches


def _in_top_k(labels, y_pred, k):
    pred_shape = static_shape(y_pred)
    label_shape = ops.shape(labels)
    if len(pred_shape) > 2:
        y_pred = ops.reshape(y_pred, (-1, pred_shape[-1]))
    flat = len(label_shape) > 1
    if flat:
        labels = ops.reshape(labels, (-1,))
    matches = ops.cast(ops.in_top_k(ops.cast(labels, "int32"), y_pred, k), config.floatx())
    return ops.reshape(matches, label_shape) if flat else matches


def top_k_categorical_accuracy(y_true, y_pred, k=5):
    """1.0 where the arg-max of one-hot `y_true` is among the `k` largest predictions."""
    y_pred = ops.convert_to_tensor(y_pred)
    return _in_top_k(ops.argmax(ops.convert_to_tensor(y_true), axis=-1), y_pred, k)


def sparse_top_k_categorical_accuracy(y_true, y_pred, k=5, from_sorted_ids=False):
    """1.0 where integer label `y_true` is among the `k` largest predictions.

    With `from_sorted_ids=True`, `y_pred` holds class ids sorted by score (as
    `ops.top_k` returns them) and the label is looked for among the first `k`.
    """
    y_pred = ops.convert_to_tensor(y_pred)
    if not from_sorted_ids:
        return _in_top_k(ops.convert_to_tensor(y_true, dtype="int32"), y_pred, k)
    y_true = ops.cast(ops.convert_to_tensor(y_true), ops.dtype(y_pred))
    label_shape = ops.shape(y_true)
    pred_shape = static_shape(y_pred)
    if len(pred_shape) > 2:
        y_pred = ops.reshape(y_pred, (-1, pred_shape[-1]))
    flat = len(label_shape) > 1
    if flat:
        y_true = ops.reshape(y_true, (-1,))
    top = ops.getitem(y_pred, (slice(None), slice(None, k)))
    matches = ops.cast(ops.any(ops.equal(ops.expand_dims(y_true, 1), top), axis=1), config.floatx())
    return ops.reshape(matches, label_shape) if flat else matches


class Accuracy(MeanMetricWrapper):
    """How often predictions equal labels.

    Args:
        name: the metric's name.
        dtype: the dtype of the result.
    """

    def __init__(self, name="accuracy", dtype=None):
        super().__init__(fn=accuracy, name=name, dtype=dtype)
        self._direction = "up"

    def get_config(self):
        """Returns {"name", "dtype"}."""
        return {"name": self.name, "dtype": self.dtype}


class BinaryAccuracy(MeanMetricWrapper):
    """How often `y_pred > threshold` equals binary labels.

    Args:
        name: the metric's name.
        dtype: the dtype of the result.
        threshold: the probability above which a prediction counts as 1.
    """

    def __init__(self, name="binary_accuracy", dtype=None, threshold=0.5):
        super().__init__(fn=binary_accuracy, name=name, dtype=dtype, threshold=threshold)
        self.threshold = threshold
        self._direction = "up"

    def get_config(self):
        """Returns {"name", "dtype", "threshold"}."""
        return {"name": self.name, "dtype": self.dtype, "threshold": self.threshold}


class CategoricalAccuracy(MeanMetricWrapper):
    """How often the arg-max of the predictions matches one-hot labels.

    Args:
        name: the metric's name.
        dtype: the dtype of the result.
    """

    def __init__(self, name="categorical_accuracy", dtype=None):
        super().__init__(fn=categorical_accuracy, name=name, dtype=dtype)
        self._direction = "up"

    def get_config(self):
        """Returns {"name", "dtype"}."""
        return {"name": self.name, "dtype": self.dtype}


class SparseCategoricalAccuracy(MeanMetricWrapper):
    """How often the arg-max of the predictions matches integer labels.

    Args:
        name: the metric's name.
        dtype: the dtype of the result.
    """

    def __init__(self, name="sparse_categorical_accuracy", dtype=None):
        super().__init__(fn=sparse_categorical_accuracy, name=name, dtype=dtype)
        self._direction = "up"

    def get_config(self):
        """Returns {"name", "dtype"}."""
        return {"name": self.name, "dtype": self.dtype}


class TopKCategoricalAccuracy(MeanMetricWrapper):
    """How often one-hot labels are among the `k` highest predictions.

    Args:
        k: how many top predictions count.
        name: the metric's name.
        dtype: the dtype of the result.
    """

    def __init__(self, k=5, name="top_k_categorical_accuracy", dtype=None):
        super().__init__(fn=top_k_categorical_accuracy, name=name, dtype=dtype, k=k)
        self.k = k
        self._direction = "up"

    def get_config(self):
        """Returns {"name", "dtype", "k"}."""
        return {"name": self.name, "dtype": self.dtype, "k": self.k}


class SparseTopKCategoricalAccuracy(MeanMetricWrapper):
    """How often integer labels are among the `k` highest predictions.

    Args:
        k: how many top predictions count.
        name: the metric's name.
        dtype: the dtype of the result.
        from_sorted_ids: `y_pred` holds class ids sorted by score instead of scores.
    """

    def __init__(self, k=5, name="sparse_top_k_categorical_accuracy", dtype=None, from_sorted_ids=False):
        super().__init__(
            fn=sparse_top_k_categorical_accuracy, name=name, dtype=dtype, k=k, from_sorted_ids=from_sorted_ids
        )
        self.k = k
        self.from_sorted_ids = from_sorted_ids
        self._direction = "up"

    def get_config(self):
        """Returns {"name", "dtype", "k"} (and "from_sorted_ids" when set)."""
        config = {"name": self.name, "dtype": self.dtype, "k": self.k}
        if self.from_sorted_ids:
            config["from_sorted_ids"] = True
        return config
