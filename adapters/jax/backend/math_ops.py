"""JAX backend: `kbridge.ops.math` (plus `norm`)."""

import jax
import jax.numpy as jnp
from jax import lax

from .core import _INEXACT, _INT32, _axis, _t, _to_float


def logsumexp(x, axis=None, keepdims=False):
    """`log(sum(exp(x)))` along `axis`, computed stably."""
    return jax.nn.logsumexp(_to_float(_t(x)), axis=_axis(axis), keepdims=keepdims)


def top_k(x, k, sorted=True):
    """Top-k values and their int32 indices along the last axis (always sorted, descending)."""
    values, indices = lax.top_k(_t(x), int(k))
    return values, indices.astype(_INT32)


def in_top_k(targets, predictions, k):
    """Whether each target's prediction is among the top-k (ties count as in)."""
    predictions = _t(predictions)
    targets = _t(targets).astype(_INT32)
    kth_largest = lax.top_k(predictions, int(k))[0][..., -1:]
    target_values = jnp.take_along_axis(predictions, targets[..., None], axis=-1)
    return jnp.squeeze(target_values >= kth_largest, axis=-1)


def _segments(data, segment_ids, num_segments):
    data, segment_ids = _t(data), _t(segment_ids)
    if segment_ids.dtype in _INEXACT:
        segment_ids = segment_ids.astype(_INT32)
    if num_segments is None:
        if isinstance(segment_ids, jax.core.Tracer):
            raise ValueError("segment_sum/segment_max: under jit/vmap pass `num_segments`.")
        num_segments = int(jnp.max(segment_ids)) + 1 if segment_ids.size else 0
    return data, segment_ids, int(num_segments)


def segment_sum(data, segment_ids, num_segments=None, sorted=False):
    """Sums of `data` rows per segment id (ids outside [0, num_segments) are dropped)."""
    data, segment_ids, num_segments = _segments(data, segment_ids, num_segments)
    return jax.ops.segment_sum(data, segment_ids, num_segments, indices_are_sorted=sorted)


def segment_max(data, segment_ids, num_segments=None, sorted=False):
    """Maxima of `data` rows per segment id (empty segments give the dtype's lowest value / -inf)."""
    data, segment_ids, num_segments = _segments(data, segment_ids, num_segments)
    return jax.ops.segment_max(data, segment_ids, num_segments, indices_are_sorted=sorted)


def erf(x):
    """Element-wise error function."""
    return lax.erf(_to_float(_t(x)))


def erfinv(x):
    """Element-wise inverse error function."""
    return lax.erf_inv(_to_float(_t(x)))


def rsqrt(x):
    """Element-wise `1 / sqrt(x)`."""
    return lax.rsqrt(_to_float(_t(x)))


def extract_sequences(x, sequence_length, sequence_stride):
    """Frames of the last axis: (..., num_frames, sequence_length)."""
    x = _t(x)
    length = x.shape[-1]
    if sequence_length > length:
        raise ValueError(
            f"extract_sequences: sequence_length={sequence_length} exceeds the last axis size {length}"
        )
    frames = 1 + (length - sequence_length) // sequence_stride
    index = jnp.arange(frames)[:, None] * sequence_stride + jnp.arange(sequence_length)[None, :]
    return x[..., index]


def norm(x, ord=None, axis=None, keepdims=False):
    """Vector or matrix norm (as `numpy.linalg.norm`)."""
    return jnp.linalg.norm(_to_float(_t(x)), ord=ord, axis=_axis(axis), keepdims=keepdims)
