"""Math ops (Keras 3 `keras.ops.math`, plus `norm` from `keras.ops.linalg`).

Each op forwards to the active backend (DESIGN.md invariant 3); the backends live in
`kbridge.adapters.<fw>.backend`. Keep signatures in step
with every backend (each backend's contract test compares them).
"""

# ruff: noqa: A001, A002
from kbridge.backend._state import state as _state

__all__ = ['logsumexp', 'top_k', 'in_top_k', 'segment_sum', 'segment_max', 'erf', 'erfinv', 'rsqrt', 'extract_sequences', 'norm']


def logsumexp(x, axis=None, keepdims=False):
    """`log(sum(exp(x)))` along `axis`, computed stably."""
    return _state.ops.logsumexp(x, axis=axis, keepdims=keepdims)


def top_k(x, k, sorted=True):
    """Top-k values and their indices along the last axis."""
    return _state.ops.top_k(x, k, sorted=sorted)


def in_top_k(targets, predictions, k):
    """Whether each target is among the top-k predictions."""
    return _state.ops.in_top_k(targets, predictions, k)


def segment_sum(data, segment_ids, num_segments=None, sorted=False):
    """Sums of `data` per segment."""
    return _state.ops.segment_sum(data, segment_ids, num_segments=num_segments, sorted=sorted)


def segment_max(data, segment_ids, num_segments=None, sorted=False):
    """Maxima of `data` per segment."""
    return _state.ops.segment_max(data, segment_ids, num_segments=num_segments, sorted=sorted)


def erf(x):
    """Element-wise error function."""
    return _state.ops.erf(x)


def erfinv(x):
    """Element-wise inverse error function."""
    return _state.ops.erfinv(x)


def rsqrt(x):
    """Element-wise `1 / sqrt(x)`."""
    return _state.ops.rsqrt(x)


def extract_sequences(x, sequence_length, sequence_stride):
    """Frames of the last axis."""
    return _state.ops.extract_sequences(x, sequence_length, sequence_stride)


def norm(x, ord=None, axis=None, keepdims=False):
    """Vector or matrix norm (as `numpy.linalg.norm`)."""
    return _state.ops.norm(x, ord=ord, axis=axis, keepdims=keepdims)
