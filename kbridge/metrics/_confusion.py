"""Confusion-matrix counting at thresholds, shared by the confusion metrics and AUC (private)."""

import numpy as np

from kbridge import config, ops
from kbridge.metrics._utils import squeeze_or_expand_to_same_rank, static_shape, to_list

NEG_INF = -1e10
TRUE_POSITIVES, FALSE_POSITIVES, TRUE_NEGATIVES, FALSE_NEGATIVES = "tp", "fp", "tn", "fn"
_KEYS = (TRUE_POSITIVES, FALSE_POSITIVES, TRUE_NEGATIVES, FALSE_NEGATIVES)


def parse_init_thresholds(thresholds, default_threshold=0.5):
    """The thresholds as a list, checked to lie in [0, 1] (`default_threshold` when None)."""
    if thresholds is not None:
        invalid = [t for t in to_list(thresholds) if t is None or t < 0 or t > 1]
        if invalid:
            raise ValueError(f"Threshold values must be in [0, 1]. Received: {invalid}")
    return to_list(default_threshold if thresholds is None else thresholds)


def is_evenly_distributed_thresholds(thresholds):
    """Whether `thresholds` are `i / (n - 1)` for i in 0..n-1 (n >= 3): then counting uses buckets."""
    n = len(thresholds)
    if n < 3:
        return False
    even = np.arange(n, dtype=np.float32) / (n - 1)
    return bool(np.allclose(thresholds, even, atol=config.epsilon()))


def filter_top_k(x, k):
    """Keeps the `k` largest entries of the last axis of `x`; the others become `NEG_INF`."""
    _, indices = ops.top_k(x, k)
    mask = ops.sum(ops.one_hot(indices, static_shape(x)[-1], dtype=ops.dtype(x)), axis=-2)
    return ops.add(ops.multiply(x, mask), ops.multiply(NEG_INF, ops.subtract(1.0, mask)))


def update_confusion_matrix_variables(variables, y_true, y_pred, thresholds, top_k=None, class_id=None,
                                      sample_weight=None, multi_label=False, label_weights=None,
                                      thresholds_distributed_evenly=False):  # fmt: skip
    """Adds the (weighted) confusion counts at each threshold to `variables`.

    A prediction is positive at threshold `t` when `y_pred > t`; labels are positive
    when nonzero.

    Args:
        variables: dict from "tp", "fp", "tn", "fn" to the variables to update, of
            shape `(num_thresholds,)` (or `(num_thresholds, num_labels)` with `multi_label`).
        y_true, y_pred: labels and predictions (probabilities in [0, 1]).
        thresholds: a Python list of floats.
        top_k: only the `top_k` largest predictions of each sample count as positive.
        class_id: count only this class (index of the last axis).
        sample_weight: weights broadcastable to the samples.
        multi_label: count each label (last axis) separately.
        label_weights: per-label weights (not with `multi_label`).
        thresholds_distributed_evenly: count by bucketing (O(n + thresholds)); the
            thresholds must then be evenly spaced in [0, 1] (possibly with the ends moved
            out by epsilon, as AUC does).
    """
    if multi_label and label_weights is not None:
        raise ValueError(
            "`label_weights` for multilabel data should be handled outside of "
            "`update_confusion_matrix_variables` when `multi_label` is True."
        )
    invalid = [key for key in variables if key not in _KEYS]
    if invalid or not variables:
        raise ValueError(f'Invalid keys: "{invalid}". Valid variable key options are: "{list(_KEYS)}"')
    dtype = next(iter(variables.values())).dtype
    y_true = ops.cast(ops.convert_to_tensor(y_true), dtype)
    y_pred = ops.cast(ops.convert_to_tensor(y_pred), dtype)
    y_pred, y_true = squeeze_or_expand_to_same_rank(y_pred, y_true)
    if sample_weight is not None:
        sample_weight = ops.expand_dims(ops.cast(ops.convert_to_tensor(sample_weight), dtype), axis=-1)
        _, sample_weight = squeeze_or_expand_to_same_rank(y_true, sample_weight, expand_rank_1=False)
    if top_k is not None:
        y_pred = filter_top_k(y_pred, top_k)
    if class_id is not None:
        if len(static_shape(y_pred)) == 1:
            raise ValueError(
                "When class_id is provided, y_pred must be a 2D array with shape (num_samples, num_classes), "
                f"found shape: {static_shape(y_pred)}"
            )
        keep = (Ellipsis, slice(class_id, class_id + 1))
        y_true, y_pred = ops.getitem(y_true, keep), ops.getitem(y_pred, keep)
    if label_weights is not None:
        label_weights = ops.expand_dims(ops.convert_to_tensor(label_weights, dtype), 0)
        label_weights = ops.broadcast_to(label_weights, ops.shape(y_pred))
    if sample_weight is not None:
        sample_weight = ops.broadcast_to(sample_weight, ops.shape(y_pred))
    if thresholds_distributed_evenly:
        with_epsilon = thresholds[0] < 0.0 or thresholds[-1] > 1.0
        counts = _bucket_counts(
            variables, y_true, y_pred, len(thresholds), sample_weight, label_weights, multi_label, with_epsilon
        )
    else:
        counts = _compare_counts(variables, y_true, y_pred, thresholds, sample_weight, label_weights, multi_label)
    for key, variable in variables.items():
        variable.assign(ops.add(variable.value, counts[key]))


def _weights(sample_weight, label_weights, multi_label):
    weights = None
    for w in (sample_weight, label_weights):
        if w is not None:
            w = w if multi_label else ops.reshape(w, (-1,))
            weights = w if weights is None else ops.multiply(weights, w)
    return weights


def _bucket_counts(keys, y_true, y_pred, num_thresholds, sample_weight, label_weights, multi_label, with_epsilon):
    """Counts with evenly spaced thresholds: each prediction falls in one bucket between
    two thresholds, and the counts at a threshold sum the buckets above it."""
    dtype = ops.dtype(y_pred)
    weights = _weights(sample_weight, label_weights, multi_label)
    y_pred = ops.clip(y_pred, 0.0, 1.0)
    y_true = ops.cast(ops.cast(y_true, "bool"), dtype)
    if not multi_label:
        y_true, y_pred = ops.reshape(y_true, (-1,)), ops.reshape(y_pred, (-1,))
    bucket = ops.subtract(ops.ceil(ops.multiply(y_pred, float(num_thresholds - 1))), 1.0)
    # Predictions of exactly 0 lie above no threshold (bucket -1) unless the first threshold
    # is below 0: they are left out of the buckets, but not out of the totals.
    valid = None if with_epsilon else ops.cast(ops.greater_equal(bucket, 0.0), dtype)
    bucket = ops.cast(ops.maximum(bucket, 0.0), "int32")
    true_labels = y_true if weights is None else ops.multiply(y_true, weights)
    false_labels = ops.subtract(1.0, y_true)
    false_labels = false_labels if weights is None else ops.multiply(false_labels, weights)
    num_labels = static_shape(y_pred)[-1] if multi_label else 1
    if multi_label:
        # One segment per (bucket, label) pair, summed in a single segment_sum.
        bucket = ops.add(ops.multiply(bucket, num_labels), ops.arange(num_labels, dtype="int32"))
        bucket, true_labels, false_labels = (ops.reshape(t, (-1,)) for t in (bucket, true_labels, false_labels))
        valid = None if valid is None else ops.reshape(valid, (-1,))
    shape = (num_thresholds, num_labels) if multi_label else (num_thresholds,)
    out = {}
    for positive, labels in ((True, true_labels), (False, false_labels)):
        above_key = TRUE_POSITIVES if positive else FALSE_POSITIVES
        below_key = FALSE_NEGATIVES if positive else TRUE_NEGATIVES
        if above_key not in keys and below_key not in keys:
            continue
        counted = labels if valid is None else ops.multiply(labels, valid)
        per_bucket = ops.reshape(ops.segment_sum(counted, bucket, num_segments=num_thresholds * num_labels), shape)
        above = ops.flip(ops.cumsum(ops.flip(per_bucket, axis=0), axis=0), axis=0)
        out[above_key] = above
        if below_key in keys:
            total = ops.sum(ops.reshape(labels, (-1, num_labels)), axis=0) if multi_label else ops.sum(labels)
            out[below_key] = ops.subtract(total, above)
    return out


def _compare_counts(keys, y_true, y_pred, thresholds, sample_weight, label_weights, multi_label):
    """Counts by comparing every prediction with every threshold (any thresholds)."""
    dtype = ops.dtype(y_pred)
    weights = _weights(sample_weight, None if multi_label else label_weights, multi_label)
    thresholds = ops.convert_to_tensor(thresholds, dtype)
    labels = ops.cast(y_true, "bool")
    if multi_label:
        # (thresholds, samples, labels)
        thresholds = ops.reshape(thresholds, (-1, 1, 1))
        preds, labels = ops.expand_dims(y_pred, 0), ops.expand_dims(labels, 0)
        weights = None if weights is None else ops.expand_dims(weights, 0)
    else:
        # (thresholds, samples * labels)
        thresholds = ops.reshape(thresholds, (-1, 1))
        preds, labels = ops.reshape(y_pred, (1, -1)), ops.reshape(labels, (1, -1))
        weights = None if weights is None else ops.reshape(weights, (1, -1))
    pred_is_pos = ops.greater(preds, thresholds)
    out = {}
    for key in keys:
        label = labels if key in (TRUE_POSITIVES, FALSE_NEGATIVES) else ops.logical_not(labels)
        pred = pred_is_pos if key in (TRUE_POSITIVES, FALSE_POSITIVES) else ops.logical_not(pred_is_pos)
        both = ops.logical_and(label, pred)
        if weights is None:
            out[key] = ops.sum(ops.cast(both, dtype), axis=1)
        else:
            out[key] = ops.sum(ops.where(both, weights, 0.0), axis=1)
    return out
