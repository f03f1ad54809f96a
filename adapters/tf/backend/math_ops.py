"""Math ops for TensorFlow (Keras 3 `keras.ops.math`, plus `norm`)."""

# ruff: noqa: A001, A002
import tensorflow as tf
from kbridge.adapters.tf.backend._common import (
    canonical_axis,
    reduce_axis,
    tensor,
    to_float,
)
from kbridge.adapters.tf.backend.numpy_shape import moveaxis, take_along_axis

__all__ = [
    "erf",
    "erfinv",
    "extract_sequences",
    "in_top_k",
    "logsumexp",
    "norm",
    "rsqrt",
    "segment_max",
    "segment_sum",
    "top_k",
]


def logsumexp(x, axis=None, keepdims=False):
    """`log(sum(exp(x)))` along `axis`, computed stably."""
    return tf.math.reduce_logsumexp(to_float(x), axis=reduce_axis(axis), keepdims=keepdims)


def top_k(x, k, sorted=True):
    """Top-k values and their int32 indices along the last axis."""
    x = tensor(x)
    values, indices = tf.math.top_k(x, k=k, sorted=sorted)
    return values, indices


def in_top_k(targets, predictions, k):
    """Whether each target's prediction is at least the k-th largest (ties count as in)."""
    predictions = tensor(predictions)
    targets = tensor(targets)
    if targets.dtype.name not in ("int32", "int64"):
        targets = tf.cast(targets, "int32")
    kth = tf.math.top_k(predictions, k=k, sorted=True).values[..., -1]
    target_values = take_along_axis(predictions, targets[..., None], axis=-1)[..., 0]
    return tf.math.logical_and(target_values >= kth, tf.math.is_finite(tf.cast(target_values, "float32")))


def _segment_arguments(data, segment_ids, num_segments):
    data = tensor(data)
    segment_ids = tensor(segment_ids)
    if segment_ids.dtype.name not in ("int32", "int64"):
        segment_ids = tf.cast(segment_ids, "int32")
    if num_segments is None:
        num_segments = tf.math.reduce_max(segment_ids) + 1
        num_segments = tf.maximum(num_segments, 0)
    return data, segment_ids, num_segments


def segment_sum(data, segment_ids, num_segments=None, sorted=False):
    """Sums of `data` per segment (ids outside [0, num_segments) are dropped)."""
    data, segment_ids, num_segments = _segment_arguments(data, segment_ids, num_segments)
    return tf.math.unsorted_segment_sum(data, segment_ids, num_segments)


def segment_max(data, segment_ids, num_segments=None, sorted=False):
    """Maxima of `data` per segment (the dtype's lowest value for empty segments)."""
    data, segment_ids, num_segments = _segment_arguments(data, segment_ids, num_segments)
    return tf.math.unsorted_segment_max(data, segment_ids, num_segments)


def erf(x):
    """Element-wise error function."""
    return tf.math.erf(to_float(x))


def erfinv(x):
    """Element-wise inverse error function."""
    return tf.math.erfinv(to_float(x))


def rsqrt(x):
    """Element-wise `1 / sqrt(x)`."""
    return tf.math.rsqrt(to_float(x))


def extract_sequences(x, sequence_length, sequence_stride):
    """Frames of the last axis: shape `(..., num_frames, sequence_length)`."""
    return tf.signal.frame(tensor(x), sequence_length, sequence_stride, axis=-1, pad_end=False)


def norm(x, ord=None, axis=None, keepdims=False):
    """Vector or matrix norm (as `numpy.linalg.norm`)."""
    x = to_float(x)
    rank = x.shape.rank
    if axis is None:
        if ord is None:
            result = tf.sqrt(tf.math.reduce_sum(_abs_square(x)))
            return tf.reshape(result, [1] * rank) if keepdims else result
        if rank not in (1, 2):
            raise ValueError(f"norm: `ord` needs a 1-D or 2-D input when `axis` is None, received shape {x.shape}")
        axis = tuple(range(rank))
    # Unsorted: for matrix norms the first axis holds the rows.
    axes = [canonical_axis(a, rank, "norm") for a in ((axis,) if isinstance(axis, int) else axis)]
    if len(axes) == 1:
        result = _vector_norm(x, ord, axes[0])
    elif len(axes) == 2:
        result = _matrix_norm(x, ord, axes)
    else:
        raise ValueError(f"norm: `axis` must name 1 or 2 axes, received {axis!r}")
    if keepdims:
        for a in sorted(axes):
            result = tf.expand_dims(result, a)
    return result


def _abs_square(x):
    if x.dtype.is_complex:
        return tf.math.real(x * tf.math.conj(x))
    return tf.math.square(x)


def _vector_norm(x, ord, axis):
    magnitude = tf.math.abs(x)
    if ord is None or ord == 2:
        return tf.sqrt(tf.math.reduce_sum(_abs_square(x), axis=axis))
    if ord == float("inf"):
        return tf.math.reduce_max(magnitude, axis=axis)
    if ord == float("-inf"):
        return tf.math.reduce_min(magnitude, axis=axis)
    if ord == 0:
        return tf.cast(tf.math.count_nonzero(x, axis=axis), magnitude.dtype)
    if ord == 1:
        return tf.math.reduce_sum(magnitude, axis=axis)
    if isinstance(ord, str):
        raise ValueError(f"norm: invalid `ord` {ord!r} for a vector norm")
    power = tf.cast(ord, magnitude.dtype)
    return tf.math.pow(tf.math.reduce_sum(tf.math.pow(magnitude, power), axis=axis), 1 / power)


def _matrix_norm(x, ord, axes):
    row_axis, col_axis = axes
    if ord is None or ord == "fro":
        return tf.sqrt(tf.math.reduce_sum(_abs_square(x), axis=axes))
    magnitude = tf.math.abs(x)
    if ord in (1, -1, float("inf"), float("-inf")):
        # 1: largest column sum; inf: largest row sum (negative: smallest).
        sum_axis, reduce_over = (row_axis, col_axis) if ord in (1, -1) else (col_axis, row_axis)
        sums = tf.math.reduce_sum(magnitude, axis=sum_axis, keepdims=True)
        reducer = tf.math.reduce_max if ord > 0 else tf.math.reduce_min
        return tf.squeeze(reducer(sums, axis=reduce_over, keepdims=True), axis=axes)
    if ord in (2, -2, "nuc"):
        singular = tf.linalg.svd(moveaxis(x, axes, (-2, -1)), compute_uv=False)
        if ord == "nuc":
            return tf.math.reduce_sum(singular, axis=-1)
        return tf.math.reduce_max(singular, axis=-1) if ord == 2 else tf.math.reduce_min(singular, axis=-1)
    raise ValueError(f"norm: invalid `ord` {ord!r} for a matrix norm")
