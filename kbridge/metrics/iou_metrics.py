"""Intersection-over-union metrics for segmentation: IoU, MeanIoU, BinaryIoU, one-hot variants."""

import warnings

from kbridge import config, ops
from kbridge.metrics.metric import Metric


def confusion_matrix(labels, predictions, num_classes, weights=None, dtype="int32"):
    """The `(num_classes, num_classes)` confusion matrix (rows: labels, columns: predictions)."""
    labels = ops.reshape(ops.cast(ops.convert_to_tensor(labels), "int32"), (-1,))
    predictions = ops.reshape(ops.cast(ops.convert_to_tensor(predictions), "int32"), (-1,))
    if weights is None:
        values = ops.ones_like(predictions, dtype=dtype)
    else:
        values = ops.reshape(ops.cast(ops.convert_to_tensor(weights), dtype), (-1,))
    # segment_sum over the flat index, not scatter: it accumulates repeated pairs on every backend.
    flat = ops.add(ops.multiply(labels, num_classes), predictions)
    counts = ops.segment_sum(values, flat, num_segments=num_classes * num_classes)
    return ops.reshape(counts, (num_classes, num_classes))


class _IoUBase(Metric):
    """Accumulates the confusion matrix that the IoU metrics are computed from."""

    def __init__(self, num_classes, name=None, dtype=None, ignore_class=None, sparse_y_true=True, sparse_y_pred=True,
                 axis=-1):  # fmt: skip
        # Keras's "int" means int32 outside TensorFlow; kbridge uses one meaning on every backend.
        super().__init__(name=name, dtype=dtype or "int32")
        self._direction = "up"
        self.num_classes = num_classes
        self.ignore_class = ignore_class
        self.sparse_y_true = sparse_y_true
        self.sparse_y_pred = sparse_y_pred
        self.axis = axis
        self.total_cm = self.add_variable(
            shape=(num_classes, num_classes), initializer="zeros", dtype=self.dtype, name="total_confusion_matrix"
        )

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Adds the batch's (weighted) confusion matrix; labels outside [0, num_classes) are skipped."""
        if not self.sparse_y_true:
            y_true = ops.argmax(ops.convert_to_tensor(y_true), axis=self.axis)
        if not self.sparse_y_pred:
            y_pred = ops.argmax(ops.convert_to_tensor(y_pred), axis=self.axis)
        y_true = ops.reshape(ops.convert_to_tensor(y_true, dtype=self.dtype), (-1,))
        y_pred = ops.reshape(ops.convert_to_tensor(y_pred, dtype=self.dtype), (-1,))
        if sample_weight is None:
            sample_weight = 1
        elif "float" in str(getattr(sample_weight, "dtype", "")) and "int" in self.dtype:
            warnings.warn(
                "You are passing weight as `float`, but dtype is `int`. This may result in an incorrect weight due "
                "to type casting Consider using integer weights.",
                stacklevel=3,  # past the backend wrapper, to the caller
            )
        sample_weight = ops.convert_to_tensor(sample_weight, dtype=self.dtype)
        if len(ops.shape(sample_weight)) > 1:
            sample_weight = ops.reshape(sample_weight, (-1,))
        sample_weight = ops.broadcast_to(sample_weight, ops.shape(y_true))
        in_bounds = ops.logical_and(
            ops.logical_and(ops.greater_equal(y_true, 0), ops.less(y_true, self.num_classes)),
            ops.logical_and(ops.greater_equal(y_pred, 0), ops.less(y_pred, self.num_classes)),
        )
        if self.ignore_class is not None:
            in_bounds = ops.logical_and(in_bounds, ops.not_equal(y_true, self.ignore_class))
        zero = ops.zeros((), dtype=self.dtype)
        y_true = ops.where(in_bounds, y_true, zero)
        y_pred = ops.where(in_bounds, y_pred, zero)
        sample_weight = ops.where(in_bounds, sample_weight, zero)
        current = confusion_matrix(y_true, y_pred, self.num_classes, weights=sample_weight, dtype=self.dtype)
        self.total_cm.assign(ops.add(self.total_cm.value, current))

    def reset_state(self):
        """Sets the confusion matrix back to zeros."""
        self.total_cm.assign(ops.zeros(self.total_cm.shape, dtype=self.total_cm.dtype))


class IoU(_IoUBase):
    """The mean intersection-over-union `tp / (tp + fp + fn)` of the classes `target_class_ids`.

    Args:
        num_classes: the number of classes.
        target_class_ids: the classes to average over.
        name: the metric's name.
        dtype: the dtype of the state (default int32).
        ignore_class: a label value to skip (e.g. void), or None.
        sparse_y_true: labels are class ids (else one-hot / scores along `axis`).
        sparse_y_pred: predictions are class ids (else scores along `axis`).
        axis: the class axis of non-sparse inputs.
    """

    def __init__(self, num_classes, target_class_ids, name=None, dtype=None, ignore_class=None, sparse_y_true=True,
                 sparse_y_pred=True, axis=-1):  # fmt: skip
        super().__init__(name=name, num_classes=num_classes, ignore_class=ignore_class, sparse_y_true=sparse_y_true,
                         sparse_y_pred=sparse_y_pred, axis=axis, dtype=dtype)  # fmt: skip
        if max(target_class_ids) >= num_classes:
            raise ValueError(f"Target class id {max(target_class_ids)} is out of range, which is [0, {num_classes}).")
        self.target_class_ids = list(target_class_ids)

    def result(self):
        """The IoU averaged over the target classes that occur (in labels or predictions)."""
        total_cm = ops.cast(self.total_cm.value, "float32")
        true_positives = ops.diagonal(total_cm)
        denominator = ops.subtract(ops.add(ops.sum(total_cm, axis=0), ops.sum(total_cm, axis=1)), true_positives)
        ids = ops.convert_to_tensor(self.target_class_ids, dtype="int32")
        true_positives = ops.take(true_positives, ids, axis=-1)
        denominator = ops.take(denominator, ids, axis=-1)
        valid = ops.greater(denominator, 1e-9)
        num_valid = ops.sum(ops.cast(valid, "float32"))
        iou = ops.where(valid, ops.divide(true_positives, ops.add(denominator, config.epsilon())), 0.0)
        return ops.divide(ops.sum(iou, axis=self.axis), ops.add(num_valid, config.epsilon()))

    def get_config(self):
        """Returns {"name", "dtype", "num_classes", "target_class_ids", "ignore_class", "sparse_y_true",
        "sparse_y_pred", "axis"}."""
        config = {
            "num_classes": self.num_classes,
            "target_class_ids": self.target_class_ids,
            "ignore_class": self.ignore_class,
            "sparse_y_true": self.sparse_y_true,
            "sparse_y_pred": self.sparse_y_pred,
            "axis": self.axis,
        }
        return {**super().get_config(), **config}


class BinaryIoU(IoU):
    """IoU for binary labels, with predictions thresholded at `threshold`.

    Args:
        target_class_ids: which of the classes (0, 1) to average over.
        threshold: predictions >= threshold count as class 1.
        name: the metric's name.
        dtype: the dtype of the state (default int32).
    """

    def __init__(self, target_class_ids=(0, 1), threshold=0.5, name=None, dtype=None):
        super().__init__(num_classes=2, target_class_ids=target_class_ids, name=name, dtype=dtype)
        self.threshold = threshold

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Thresholds the predictions and adds the batch's confusion matrix."""
        y_true = ops.convert_to_tensor(y_true, dtype=self.dtype)
        y_pred = ops.convert_to_tensor(y_pred, dtype="float32")
        y_pred = ops.cast(ops.greater_equal(y_pred, self.threshold), self.dtype)
        return super().update_state(y_true, y_pred, sample_weight)

    def get_config(self):
        """Returns {"target_class_ids", "threshold", "name", "dtype"}."""
        return {"target_class_ids": self.target_class_ids, "threshold": self.threshold, "name": self.name,
                "dtype": self.dtype}  # fmt: skip


class MeanIoU(IoU):
    """The IoU averaged over all `num_classes` classes.

    Args:
        num_classes: the number of classes.
        name: the metric's name.
        dtype: the dtype of the state (default int32).
        ignore_class: a label value to skip (e.g. void), or None.
        sparse_y_true: labels are class ids (else one-hot / scores along `axis`).
        sparse_y_pred: predictions are class ids (else scores along `axis`).
        axis: the class axis of non-sparse inputs.
    """

    def __init__(self, num_classes, name=None, dtype=None, ignore_class=None, sparse_y_true=True, sparse_y_pred=True,
                 axis=-1):  # fmt: skip
        super().__init__(name=name, num_classes=num_classes, target_class_ids=list(range(num_classes)), axis=axis,
                         dtype=dtype, ignore_class=ignore_class, sparse_y_true=sparse_y_true,
                         sparse_y_pred=sparse_y_pred)  # fmt: skip

    def get_config(self):
        """Returns {"num_classes", "name", "dtype", "ignore_class", "sparse_y_true", "sparse_y_pred", "axis"}."""
        return {"num_classes": self.num_classes, "name": self.name, "dtype": self.dtype,
                "ignore_class": self.ignore_class, "sparse_y_true": self.sparse_y_true,
                "sparse_y_pred": self.sparse_y_pred, "axis": self.axis}  # fmt: skip


class OneHotIoU(IoU):
    """IoU for one-hot labels and score predictions (arg-max along `axis`).

    Args:
        num_classes: the number of classes.
        target_class_ids: the classes to average over.
        name: the metric's name.
        dtype: the dtype of the state (default int32).
        ignore_class: a label value to skip, or None.
        sparse_y_pred: predictions are class ids (else scores along `axis`).
        axis: the class axis.
    """

    def __init__(self, num_classes, target_class_ids, name=None, dtype=None, ignore_class=None, sparse_y_pred=False,
                 axis=-1):  # fmt: skip
        super().__init__(
            num_classes=num_classes, target_class_ids=target_class_ids, name=name, dtype=dtype,
            ignore_class=ignore_class, sparse_y_true=False, sparse_y_pred=sparse_y_pred, axis=axis,
        )  # fmt: skip

    def get_config(self):
        """Returns {"num_classes", "target_class_ids", "name", "dtype", "ignore_class", "sparse_y_pred", "axis"}."""
        return {"num_classes": self.num_classes, "target_class_ids": self.target_class_ids, "name": self.name,
                "dtype": self.dtype, "ignore_class": self.ignore_class, "sparse_y_pred": self.sparse_y_pred,
                "axis": self.axis}  # fmt: skip


class OneHotMeanIoU(MeanIoU):
    """MeanIoU for one-hot labels and score predictions (arg-max along `axis`).

    Args:
        num_classes: the number of classes.
        name: the metric's name.
        dtype: the dtype of the state (default int32).
        ignore_class: a label value to skip, or None.
        sparse_y_pred: predictions are class ids (else scores along `axis`).
        axis: the class axis.
    """

    def __init__(self, num_classes, name=None, dtype=None, ignore_class=None, sparse_y_pred=False, axis=-1):
        super().__init__(num_classes=num_classes, axis=axis, name=name, dtype=dtype, ignore_class=ignore_class,
                         sparse_y_true=False, sparse_y_pred=sparse_y_pred)  # fmt: skip

    def get_config(self):
        """Returns {"num_classes", "name", "dtype", "ignore_class", "sparse_y_pred", "axis"}."""
        return {"num_classes": self.num_classes, "name": self.name, "dtype": self.dtype,
                "ignore_class": self.ignore_class, "sparse_y_pred": self.sparse_y_pred, "axis": self.axis}  # fmt: skip
