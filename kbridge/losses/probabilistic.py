"""Probabilistic losses: crossentropies (binary, categorical, sparse, focal), KL divergence, Poisson."""

import warnings

import numpy as np

from kbridge import config, ops
from kbridge.backend import registry
from kbridge.losses.loss import BuiltinLoss, loss_function, squeeze_or_expand_to_same_rank


def _cast_pair(y_true, y_pred):
    y_pred = ops.convert_to_tensor(y_pred)
    return ops.cast(y_true, ops.dtype(y_pred)), y_pred


def _check_axis(axis):
    if isinstance(axis, bool):
        raise ValueError(f"`axis` must be of type `int`. Received: axis={axis} of type {type(axis)}")


def _warn_one_class(name, y_pred):
    shape = ops.shape(y_pred)
    if shape and isinstance(shape[-1], int) and shape[-1] == 1:
        warnings.warn(
            f"In loss {name}, expected y_pred.shape to be (batch_size, num_classes) with num_classes > 1. "
            f"Received: y_pred.shape={tuple(shape)}. Consider using 'binary_crossentropy' if you only have 2 classes.",
            SyntaxWarning,
            stacklevel=3,
        )


def _smooth_categorical(y_true, y_pred, label_smoothing):
    num_classes = ops.shape(y_true)[-1]
    if not isinstance(num_classes, int):
        num_classes = ops.cast(num_classes, ops.dtype(y_pred))
    return ops.add(ops.multiply(y_true, 1.0 - label_smoothing), ops.divide(label_smoothing, num_classes))


def _smooth_binary(y_true, label_smoothing):
    return ops.add(ops.multiply(y_true, 1.0 - label_smoothing), 0.5 * label_smoothing)


@loss_function
def binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """Mean binary crossentropy over `axis`; labels are smoothed towards 0.5 by `label_smoothing`."""
    y_true, y_pred = _cast_pair(y_true, y_pred)
    if label_smoothing:
        y_true = _smooth_binary(y_true, label_smoothing)
    return ops.mean(ops.binary_crossentropy(y_true, y_pred, from_logits=from_logits), axis=axis)


@loss_function
def binary_focal_crossentropy(y_true, y_pred, apply_class_balancing=False, alpha=0.25, gamma=2.0, from_logits=False,
                              label_smoothing=0.0, axis=-1):  # fmt: skip
    """Mean binary focal crossentropy over `axis`: crossentropy scaled by `(1 - p_t) ** gamma`.

    With `apply_class_balancing`, positives weigh `alpha` and negatives `1 - alpha`.
    """
    y_true, y_pred = _cast_pair(y_true, y_pred)
    if label_smoothing:
        y_true = _smooth_binary(y_true, label_smoothing)
    if from_logits:
        y_pred = ops.sigmoid(y_pred)
    bce = ops.binary_crossentropy(y_true, y_pred, from_logits=False)
    p_t = ops.add(ops.multiply(y_true, y_pred), ops.multiply(ops.subtract(1.0, y_true), ops.subtract(1.0, y_pred)))
    focal = ops.multiply(ops.power(ops.subtract(1.0, p_t), gamma), bce)
    if apply_class_balancing:
        weight = ops.add(ops.multiply(y_true, alpha), ops.multiply(ops.subtract(1.0, y_true), 1.0 - alpha))
        focal = ops.multiply(weight, focal)
    return ops.mean(focal, axis=axis)


@loss_function
def categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """Crossentropy between one-hot (or soft) labels and predicted class probabilities along `axis`."""
    _check_axis(axis)
    y_true, y_pred = _cast_pair(y_true, y_pred)
    _warn_one_class("categorical_crossentropy", y_pred)
    if label_smoothing:
        y_true = _smooth_categorical(y_true, y_pred, label_smoothing)
    return ops.categorical_crossentropy(y_true, y_pred, from_logits=from_logits, axis=axis)


@loss_function
def categorical_focal_crossentropy(y_true, y_pred, alpha=0.25, gamma=2.0, from_logits=False, label_smoothing=0.0,
                                   axis=-1):  # fmt: skip
    """Categorical crossentropy with each class term scaled by `alpha * (1 - p) ** gamma`."""
    _check_axis(axis)
    y_true, y_pred = _cast_pair(y_true, y_pred)
    _warn_one_class("categorical_focal_crossentropy", y_pred)
    if label_smoothing:
        y_true = _smooth_categorical(y_true, y_pred, label_smoothing)
    if from_logits:
        y_pred = ops.softmax(y_pred, axis=axis)
    epsilon = config.epsilon()
    output = ops.divide(y_pred, ops.sum(y_pred, axis=axis, keepdims=True))
    output = ops.clip(output, epsilon, 1.0 - epsilon)
    cce = ops.negative(ops.multiply(y_true, ops.log(output)))
    factor = ops.multiply(ops.power(ops.subtract(1.0, output), gamma), alpha)
    return ops.sum(ops.multiply(factor, cce), axis=axis)


# -- sparse labels -------------------------------------------------------------------------


def _host_labels(labels):
    """`labels` as a NumPy array when reading them needs no tracing or compilation, else None."""
    if isinstance(labels, (np.ndarray, np.generic, int, float, list, tuple)):
        return np.asarray(labels)
    module = registry.backend_of_type(type(labels))
    # Optional backend hook: True for eager values that are cheap to read on the host.
    is_concrete = getattr(module, "is_concrete", None)
    if is_concrete is not None and is_concrete(labels):
        return np.asarray(module.convert_to_numpy(labels))
    return None


def check_sparse_labels(name, y_true, num_classes, ignore_class=None):
    """Raises a `ValueError` naming `name` for labels outside `[0, num_classes)` (when cheap to check).

    Labels under tracing (jit, tf.function, torch.compile) are never read.
    """
    if not isinstance(num_classes, int):
        return
    labels = _host_labels(y_true)
    if labels is None or labels.size == 0:
        return
    if ignore_class is not None:
        labels = labels[labels != ignore_class]
        if not labels.size:
            return
    if labels.min() >= 0 and labels.max() < num_classes:  # two reductions: the per-step cost
        return
    bad = labels[(labels < 0) | (labels >= num_classes)]
    if bad.size:
        label = bad.flat[0]
        label = int(label) if float(label).is_integer() else float(label)
        extra = f" (or ignore_class={ignore_class})" if ignore_class is not None else ""
        raise ValueError(
            f"Loss {name!r}: received label {label}, out of range for {num_classes} classes. "
            f"Labels must be integers in [0, {num_classes - 1}]{extra}."
        )


def _class_axis(axis, rank):
    return axis % rank if rank else 0


def _sparse_categorical_crossentropy(y_true, y_pred, from_logits, ignore_class, axis, name):
    """Per-sample losses and the boolean mask of non-ignored labels (None without `ignore_class`)."""
    y_pred = ops.convert_to_tensor(y_pred)
    shape_pred = ops.shape(y_pred)
    class_axis = _class_axis(axis, len(shape_pred))
    # Before conversion: NumPy labels are checked even when they become tensors of another backend.
    check_sparse_labels(name, y_true, shape_pred[class_axis] if shape_pred else None, ignore_class)
    y_true = ops.convert_to_tensor(y_true)
    shape_true = ops.shape(y_true)
    if len(shape_true) == len(shape_pred) and isinstance(shape_true[axis], int) and shape_true[axis] == 1:
        y_true = ops.squeeze(y_true, axis=axis)
    if ignore_class is None:
        return ops.sparse_categorical_crossentropy(y_true, y_pred, from_logits=from_logits, axis=axis), None
    valid = ops.not_equal(y_true, ignore_class)
    y_true = ops.where(valid, y_true, ops.zeros_like(y_true))
    # Ones, not zeros, at ignored positions: probabilities of zero would give NaN before the mask.
    y_pred = ops.where(ops.expand_dims(valid, class_axis), y_pred, ops.ones_like(y_pred))
    losses = ops.sparse_categorical_crossentropy(y_true, y_pred, from_logits=from_logits, axis=axis)
    valid = ops.reshape(valid, ops.shape(losses))
    return ops.where(valid, losses, ops.zeros_like(losses)), valid


@loss_function
def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, ignore_class=None, axis=-1):
    """Crossentropy between integer labels and predicted class probabilities along `axis`.

    Labels equal to `ignore_class` give a loss of 0 (the `SparseCategoricalCrossentropy`
    class also leaves them out of its average).

    Raises:
        ValueError: a label is outside `[0, num_classes)` (checked for eager values only).
    """
    return _sparse_categorical_crossentropy(y_true, y_pred, from_logits, ignore_class, axis,
                                            "sparse_categorical_crossentropy")[0]  # fmt: skip


@loss_function
def categorical_generalized_cross_entropy(y_true, y_pred, q):
    """Generalized crossentropy `(1 - p ** q) / q` of integer labels, `p` the true class's probability."""
    y_pred = ops.convert_to_tensor(y_pred)
    num_classes = ops.shape(y_pred)[-1]
    check_sparse_labels("categorical_generalized_cross_entropy", y_true, num_classes)
    one_hot = ops.one_hot(ops.cast(y_true, "int32"), num_classes, dtype=ops.dtype(y_pred))
    p = ops.sum(ops.multiply(y_pred, one_hot), axis=-1)
    return ops.divide(ops.subtract(1.0, ops.power(p, q)), q)


# -- divergences ---------------------------------------------------------------------------


@loss_function
def kl_divergence(y_true, y_pred):
    """Kullback-Leibler divergence `sum(y_true * log(y_true / y_pred))` over the last axis, clipped to [eps, 1]."""
    y_pred = ops.convert_to_tensor(y_pred)
    y_true = ops.convert_to_tensor(y_true, dtype=ops.dtype(y_pred))
    epsilon = config.epsilon()
    y_true = ops.clip(y_true, epsilon, 1.0)
    y_pred = ops.clip(y_pred, epsilon, 1.0)
    return ops.sum(ops.multiply(y_true, ops.log(ops.divide(y_true, y_pred))), axis=-1)


@loss_function
def poisson(y_true, y_pred):
    """Mean of `y_pred - y_true * log(y_pred + epsilon)` over the last axis."""
    y_pred = ops.convert_to_tensor(y_pred)
    y_true = ops.convert_to_tensor(y_true, dtype=ops.dtype(y_pred))
    log_pred = ops.log(ops.add(y_pred, config.epsilon()))
    return ops.mean(ops.subtract(y_pred, ops.multiply(y_true, log_pred)), axis=-1)


# -- classes -------------------------------------------------------------------------------


class BinaryCrossentropy(BuiltinLoss):
    """Crossentropy of binary (0/1 or soft) labels and predicted probabilities.

    Args:
        from_logits: whether `y_pred` holds logits rather than probabilities.
        label_smoothing: in [0, 1]; labels move towards 0.5 by this amount.
        axis: the axis the crossentropy is averaged over.
        reduction: see `Loss`.
        name: the loss's name.
        dtype: the dtype of the computation.
    """

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1, reduction="sum_over_batch_size",
                 name="binary_crossentropy", dtype=None):  # fmt: skip
        super().__init__(binary_crossentropy, name=name, reduction=reduction, dtype=dtype, from_logits=from_logits,
                         label_smoothing=label_smoothing, axis=axis)  # fmt: skip


class BinaryFocalCrossentropy(BuiltinLoss):
    """Binary crossentropy focused on hard examples by the factor `(1 - p_t) ** gamma`.

    Args:
        apply_class_balancing: weigh positives by `alpha` and negatives by `1 - alpha`.
        alpha: the balancing weight.
        gamma: the focusing exponent.
        from_logits, label_smoothing, axis, reduction, name, dtype: see `BinaryCrossentropy`.
    """

    def __init__(self, apply_class_balancing=False, alpha=0.25, gamma=2.0, from_logits=False, label_smoothing=0.0,
                 axis=-1, reduction="sum_over_batch_size", name="binary_focal_crossentropy", dtype=None):  # fmt: skip
        super().__init__(binary_focal_crossentropy, name=name, reduction=reduction, dtype=dtype,
                         apply_class_balancing=apply_class_balancing, alpha=alpha, gamma=gamma,
                         from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)  # fmt: skip


class CategoricalCrossentropy(BuiltinLoss):
    """Crossentropy of one-hot labels and predicted class probabilities.

    Args:
        from_logits: whether `y_pred` holds logits rather than probabilities.
        label_smoothing: in [0, 1]; labels become `y * (1 - s) + s / num_classes`.
        axis: the class axis.
        reduction, name, dtype: see `BinaryCrossentropy`.
    """

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1, reduction="sum_over_batch_size",
                 name="categorical_crossentropy", dtype=None):  # fmt: skip
        super().__init__(categorical_crossentropy, name=name, reduction=reduction, dtype=dtype,
                         from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)  # fmt: skip


class CategoricalFocalCrossentropy(BuiltinLoss):
    """Categorical crossentropy focused on hard examples by `alpha * (1 - p) ** gamma`.

    Args:
        alpha: the weighting factor.
        gamma: the focusing exponent.
        from_logits, label_smoothing, axis, reduction, name, dtype: see `CategoricalCrossentropy`.
    """

    def __init__(self, alpha=0.25, gamma=2.0, from_logits=False, label_smoothing=0.0, axis=-1,
                 reduction="sum_over_batch_size", name="categorical_focal_crossentropy", dtype=None):  # fmt: skip
        super().__init__(categorical_focal_crossentropy, name=name, reduction=reduction, dtype=dtype, alpha=alpha,
                         gamma=gamma, from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)  # fmt: skip


class SparseCategoricalCrossentropy(BuiltinLoss):
    """Crossentropy of integer class labels and predicted class probabilities.

    Args:
        from_logits: whether `y_pred` holds logits rather than probabilities.
        ignore_class: a label whose entries count neither in the loss nor in its average.
        reduction: see `Loss`.
        axis: the class axis of `y_pred`.
        name, dtype: see `BinaryCrossentropy`.

    Raises (when called):
        ValueError: a label is outside `[0, num_classes)` (checked for eager values only).
    """

    def __init__(self, from_logits=False, ignore_class=None, reduction="sum_over_batch_size", axis=-1,
                 name="sparse_categorical_crossentropy", dtype=None):  # fmt: skip
        super().__init__(sparse_categorical_crossentropy, name=name, reduction=reduction, dtype=dtype,
                         from_logits=from_logits, ignore_class=ignore_class, axis=axis)  # fmt: skip

    def __call__(self, y_true, y_pred, sample_weight=None):
        """See `Loss.__call__`; NumPy labels are range-checked before conversion."""
        if isinstance(y_true, (np.ndarray, list, tuple)):
            shape = ops.shape(y_pred)
            num_classes = shape[_class_axis(self.axis, len(shape))] if shape else None
            check_sparse_labels(self.name, y_true, num_classes, self.ignore_class)
        if sample_weight is None:
            fused = self._fused_mean(y_true, y_pred)
            if fused is not None:
                return fused
        return super().__call__(y_true, y_pred, sample_weight)

    def _fused_mean(self, y_true, y_pred):
        """The loss of the most common case (logits, average over the batch, no weights or
        ignored class) as one backend op when the backend has one (torch: `F.cross_entropy`),
        else None. Worth it in eager steps, where each op of the general path costs Python time."""
        cls = SparseCategoricalCrossentropy
        if (
            not self.from_logits
            or self.ignore_class is not None
            or self.reduction not in ("sum_over_batch_size", "mean")
            or type(self).call is not cls.call
            or type(self)._losses_and_mask is not cls._losses_and_mask
            or type(self)._weighted_loss is not cls._weighted_loss
        ):
            return None
        module = registry.backend_of_type(type(y_pred))
        kernel = getattr(module, "fused_sparse_crossentropy_mean", None)
        if kernel is None or module.dtype(y_pred) != self._dtype:
            return None
        if not isinstance(y_true, (np.ndarray, list, tuple)):  # NumPy labels were checked above
            shape = module.shape(y_pred)
            check_sparse_labels(self.name, y_true, shape[_class_axis(self.axis, len(shape))] if shape else None)
        return kernel(y_true, y_pred, self.from_logits, self.axis)

    def _losses_and_mask(self, y_true, y_pred):
        if type(self).call is not SparseCategoricalCrossentropy.call:
            return super()._losses_and_mask(y_true, y_pred)
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        return _sparse_categorical_crossentropy(y_true, y_pred, self.from_logits, self.ignore_class, self.axis,
                                                self.name)  # fmt: skip


class CategoricalGeneralizedCrossEntropy(BuiltinLoss):
    """Generalized crossentropy, robust to noisy labels: `(1 - p ** q) / q` for integer labels.

    Args:
        q: in (0, 1); towards 0 it approaches crossentropy, at 1 mean absolute error.
        reduction, name, dtype: see `BinaryCrossentropy`.
    """

    def __init__(self, q=0.5, reduction="sum_over_batch_size", name="categorical_generalized_cross_entropy",
                 dtype=None):  # fmt: skip
        if not 0 < q < 1:
            raise ValueError(f"q must be in the interval (0, 1). Received: q={q}")
        super().__init__(categorical_generalized_cross_entropy, name=name, reduction=reduction, dtype=dtype, q=q)


class KLDivergence(BuiltinLoss):
    """Kullback-Leibler divergence between label and predicted distributions.

    Args:
        reduction, name, dtype: see `BinaryCrossentropy`.
    """

    def __init__(self, reduction="sum_over_batch_size", name="kl_divergence", dtype=None):
        super().__init__(kl_divergence, name=name, reduction=reduction, dtype=dtype)


class Poisson(BuiltinLoss):
    """Poisson loss `y_pred - y_true * log(y_pred)` (arguments as `KLDivergence`)."""

    def __init__(self, reduction="sum_over_batch_size", name="poisson", dtype=None):
        super().__init__(poisson, name=name, reduction=reduction, dtype=dtype)

