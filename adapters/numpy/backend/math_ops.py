"""NumPy backend: `kbridge.ops.math` (logsumexp, top_k, segments, erf/erfinv, framing, norm).

`erf` and `erfinv` are computed in float64 with plain NumPy (no SciPy): a
positive-term series for small arguments, a continued fraction for `erfc` beyond,
and Halley steps from a closed-form first guess for the inverse.
"""

# ruff: noqa: A001, A002
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .core import as_dtype, axis_arg, float_dtype, promote, tensor, to_float

_INT32 = np.dtype(np.int32)
_SERIES_LIMIT = 2.5
_SERIES_TERMS = 48
_FRACTION_DEPTH = 60
_TWO_OVER_SQRT_PI = 2.0 / np.sqrt(np.pi)


def logsumexp(x, axis=None, keepdims=False):
    """`log(sum(exp(x)))` along `axis`, computed stably."""
    x = to_float(x)
    axis = axis_arg(axis)
    with np.errstate(all="ignore"):
        peak = np.max(x, axis=axis, keepdims=True)
        # Rows that are all -inf (or hold inf) must not turn into NaN through inf - inf.
        peak = np.where(np.isfinite(peak), peak, np.zeros((), x.dtype))
        total = np.log(np.sum(np.exp(x - peak), axis=axis, keepdims=True)) + peak
    return total if keepdims else np.squeeze(total, axis=axis)


def _descending_order(x):
    # A stable ascending sort of the negated values keeps the lower index first among ties.
    if x.dtype.kind in "ub":
        key = -x.astype(np.int64)
    elif x.dtype.kind == "i":
        key = np.invert(x)
    else:
        key = np.negative(x)
    return np.argsort(key, axis=-1, kind="stable")


def top_k(x, k, sorted=True):
    """Top-k values and their int32 indices along the last axis (ties: lower index first)."""
    x = tensor(x)
    k = int(k)
    if x.ndim == 0 or not 0 <= k <= x.shape[-1]:
        raise ValueError(f"top_k: k={k} must be in [0, {x.shape[-1] if x.ndim else 0}] for an input of shape {x.shape}")
    indices = _descending_order(x)[..., :k]
    return np.take_along_axis(x, indices, axis=-1), indices.astype(_INT32)


def in_top_k(targets, predictions, k):
    """Whether each target's prediction is among the `k` largest of its row (ties count as in)."""
    predictions = tensor(predictions)
    targets = tensor(targets).astype(np.int64)
    target_values = np.take_along_axis(predictions, targets[:, None], axis=-1)
    greater = np.sum(predictions > target_values, axis=-1)
    return greater < int(k)


def _segment_setup(data, segment_ids, num_segments, name):
    data = tensor(data)
    ids = tensor(segment_ids).astype(np.int64)
    if ids.ndim != 1 or data.ndim == 0 or ids.shape[0] != data.shape[0]:
        raise ValueError(
            f"{name}: segment_ids must be 1-D with one id per row of data; received ids of shape {ids.shape} "
            f"for data of shape {data.shape}"
        )
    count = (int(ids.max()) + 1 if ids.size else 0) if num_segments is None else int(num_segments)
    # Out-of-range ids are dropped, as in JAX and TensorFlow.
    keep = (ids >= 0) & (ids < count)
    return data, ids[keep], data[keep], count


def segment_sum(data, segment_ids, num_segments=None, sorted=False):
    """Sums of `data` rows per segment id (`num_segments` defaults to `max(id) + 1`)."""
    data, ids, rows, count = _segment_setup(data, segment_ids, num_segments, "segment_sum")
    out = np.zeros((count,) + data.shape[1:], dtype=data.dtype)
    np.add.at(out, ids, rows)
    return out


def segment_max(data, segment_ids, num_segments=None, sorted=False):
    """Maxima of `data` rows per segment id; empty segments hold the dtype's lowest value (-inf)."""
    data, ids, rows, count = _segment_setup(data, segment_ids, num_segments, "segment_max")
    lowest = np.iinfo(data.dtype).min if data.dtype.kind in "iu" else (False if data.dtype.kind == "b" else -np.inf)
    out = np.full((count,) + data.shape[1:], lowest, dtype=data.dtype)
    np.maximum.at(out, ids, rows)
    return out


def _erf_series(a):
    # erf(a) = 2/sqrt(pi) * exp(-a^2) * sum_n (2a^2)^n a / (1*3*...*(2n+1)): all terms positive.
    term = a.copy()
    total = a.copy()
    factor = 2.0 * a * a
    for n in range(1, _SERIES_TERMS):
        term = term * factor / (2 * n + 1)
        total += term
    return _TWO_OVER_SQRT_PI * np.exp(-a * a) * total


def _erfc_fraction(a):
    # erfc(a) = exp(-a^2)/sqrt(pi) / (a + (1/2)/(a + 1/(a + (3/2)/(a + ...)))), evaluated bottom-up.
    denominator = a.copy()
    for k in range(_FRACTION_DEPTH, 0, -1):
        denominator = a + (k / 2.0) / denominator
    return np.exp(-a * a) / np.sqrt(np.pi) / denominator


def _erfc_nonnegative(a):
    """erfc of a float64 array of values >= 0 (NaN passes through)."""
    small = a < _SERIES_LIMIT
    out = np.full(a.shape, np.nan)
    out[small] = 1.0 - _erf_series(a[small])
    large = a >= _SERIES_LIMIT
    out[large] = _erfc_fraction(a[large])
    return out


def _erf64(x):
    a = np.abs(x)
    small = a < _SERIES_LIMIT
    out = np.full(a.shape, np.nan)
    out[small] = _erf_series(a[small])
    large = a >= _SERIES_LIMIT
    out[large] = 1.0 - _erfc_fraction(a[large])
    return np.copysign(out, x)


def erf(x):
    """Element-wise error function."""
    x = to_float(x)
    with np.errstate(all="ignore"):
        result = _erf64(np.asarray(x, dtype=np.float64))
    return as_dtype(result, x.dtype)


def erfinv(x):
    """Element-wise inverse error function (±inf at ±1, NaN outside [-1, 1])."""
    x = to_float(x)
    y = np.asarray(x, dtype=np.float64)
    t = np.abs(y)
    with np.errstate(all="ignore"):
        # Winitzki's closed form (relative error ~2e-3), then Halley steps on erfc.
        a = 0.147
        log_term = np.log1p(-t) + np.log1p(t)  # log(1 - t^2) without rounding t^2 to 1
        first = 2.0 / (np.pi * a) + log_term / 2.0
        guess = np.sqrt(np.sqrt(first * first - log_term / a) - first)
        one_minus_t = 1.0 - t
        for _ in range(4):
            # erf(guess) - t, from erf near 0 and from erfc near 1, to keep its precision.
            residual = np.where(t < 0.5, _erf64(guess) - t, one_minus_t - _erfc_nonnegative(guess))
            slope = _TWO_OVER_SQRT_PI * np.exp(-guess * guess)
            step = residual / (slope + guess * residual)
            guess = np.where(np.isfinite(step) & (slope > 0), guess - step, guess)
        result = np.where(t == 1.0, np.inf, np.where(t > 1.0, np.nan, guess))
    return as_dtype(np.copysign(result, y), x.dtype)


def rsqrt(x):
    """Element-wise `1 / sqrt(x)`."""
    x = to_float(x)
    with np.errstate(all="ignore"):
        return np.reciprocal(np.sqrt(x))


def extract_sequences(x, sequence_length, sequence_stride):
    """Frames of the last axis: shape (..., num_frames, sequence_length)."""
    x = tensor(x)
    length, stride = int(sequence_length), int(sequence_stride)
    if x.ndim == 0 or length < 1 or stride < 1 or length > x.shape[-1]:
        raise ValueError(
            f"extract_sequences: need 1 <= sequence_length <= {x.shape[-1] if x.ndim else 0} and a positive "
            f"stride, received sequence_length={sequence_length}, sequence_stride={sequence_stride}"
        )
    return sliding_window_view(x, length, axis=-1)[..., ::stride, :].copy()


def norm(x, ord=None, axis=None, keepdims=False):
    """Vector or matrix norm (as `numpy.linalg.norm`; ints give `floatx()`)."""
    (x,), _ = promote(x)
    dtype = float_dtype(x.dtype)
    x = as_dtype(x, dtype)
    axis = axis_arg(axis)
    if isinstance(axis, int):
        axis = (axis,)
    with np.errstate(all="ignore"):
        return as_dtype(np.linalg.norm(x, ord=ord, axis=axis, keepdims=keepdims), dtype)
