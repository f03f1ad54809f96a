"""NumPy-like reductions, sorting, statistics and products for TensorFlow."""

# ruff: noqa: A001, A002
import builtins

import numpy as np
import tensorflow as tf
from kbridge.adapters.tf.backend._common import (
    cast_to,
    axis_list,
    canonical_axis,
    common,
    dims,
    is_int,
    pair,
    promote,
    reduce_axis,
    tensor,
    to_float,
)
from kbridge.adapters.tf.backend.numpy_shape import diagonal, moveaxis

from kbridge.backend.dtypes import result_type, standardize_dtype

__all__ = [
    "all",
    "amax",
    "amin",
    "any",
    "argmax",
    "argmin",
    "argsort",
    "average",
    "bincount",
    "count_nonzero",
    "cross",
    "cumprod",
    "cumsum",
    "diff",
    "digitize",
    "dot",
    "einsum",
    "matmul",
    "max",
    "mean",
    "median",
    "min",
    "outer",
    "prod",
    "quantile",
    "sort",
    "std",
    "sum",
    "tensordot",
    "trace",
    "var",
    "vdot",
]

# Accumulating small integer types widens them (JAX's rule, followed by Keras 3).
_WIDEN = {"bool": "int32", "int8": "int32", "int16": "int32", "uint8": "uint32", "uint16": "uint32"}


def sum(x, axis=None, keepdims=False):
    """Sum along `axis` (bool and small ints accumulate in int32/uint32)."""
    x = tensor(x)
    name = x.dtype.name
    if name in _WIDEN:
        x = tf.cast(x, _WIDEN[name])
    return tf.math.reduce_sum(x, axis=reduce_axis(axis), keepdims=keepdims)


def prod(x, axis=None, keepdims=False, dtype=None):
    """Product along `axis`."""
    x = tensor(x)
    if dtype is not None:
        x = tf.cast(x, standardize_dtype(dtype))
    elif x.dtype.name in _WIDEN:
        x = tf.cast(x, _WIDEN[x.dtype.name])
    return tf.math.reduce_prod(x, axis=reduce_axis(axis), keepdims=keepdims)


def _stat_dtypes(x):
    # Statistics run in at least float32 and come back in `result_type(x, float)`.
    name = x.dtype.name
    return promote(name, "float32"), promote(name, float)


def _statistic(x, axis, keepdims, tf_fn):
    x = tensor(x)
    if x.dtype in (tf.float32, tf.float64):
        return tf_fn(x, axis=reduce_axis(axis), keepdims=keepdims)
    compute, out = _stat_dtypes(x)
    return tf.cast(tf_fn(tf.cast(x, compute), axis=reduce_axis(axis), keepdims=keepdims), out)


def mean(x, axis=None, keepdims=False):
    """Arithmetic mean along `axis` (integers give `floatx()`)."""
    return _statistic(x, axis, keepdims, tf.math.reduce_mean)


def var(x, axis=None, keepdims=False):
    """Variance along `axis`."""
    return _statistic(x, axis, keepdims, tf.math.reduce_variance)


def std(x, axis=None, keepdims=False):
    """Standard deviation along `axis`."""
    return _statistic(x, axis, keepdims, tf.math.reduce_std)


def _extremum(x, axis, keepdims, initial, reduce_fn, combine_fn):
    x = tensor(x)
    is_bool = x.dtype == tf.bool
    if is_bool:
        x = tf.cast(x, "int32")
    result = reduce_fn(x, axis=reduce_axis(axis), keepdims=keepdims)
    if initial is not None:
        result = combine_fn(result, cast_to(initial, result.dtype))
    return tf.cast(result, "bool") if is_bool else result


def max(x, axis=None, keepdims=False, initial=None):
    """Maximum along `axis` (at least `initial` when given)."""
    return _extremum(x, axis, keepdims, initial, tf.math.reduce_max, tf.math.maximum)


def min(x, axis=None, keepdims=False, initial=None):
    """Minimum along `axis` (at most `initial` when given)."""
    return _extremum(x, axis, keepdims, initial, tf.math.reduce_min, tf.math.minimum)


def amax(x, axis=None, keepdims=False):
    """Maximum along `axis`."""
    return max(x, axis=axis, keepdims=keepdims)


def amin(x, axis=None, keepdims=False):
    """Minimum along `axis`."""
    return min(x, axis=axis, keepdims=keepdims)


def all(x, axis=None, keepdims=False):
    """Logical AND reduction."""
    return tf.math.reduce_all(tensor(x, "bool"), axis=reduce_axis(axis), keepdims=keepdims)


def any(x, axis=None, keepdims=False):
    """Logical OR reduction."""
    return tf.math.reduce_any(tensor(x, "bool"), axis=reduce_axis(axis), keepdims=keepdims)


def _arg(x, axis, keepdims, tf_fn):
    x = tensor(x)
    if x.dtype == tf.bool:
        x = tf.cast(x, "int32")
    rank = x.shape.rank
    if axis is None:
        result = tf_fn(tf.reshape(x, [-1]), axis=0, output_type=tf.int32)
        return tf.reshape(result, [1] * rank) if keepdims else result
    axis = canonical_axis(axis, rank, tf_fn.__name__)
    result = tf_fn(x, axis=axis, output_type=tf.int32)
    return tf.expand_dims(result, axis) if keepdims else result


def argmax(x, axis=None, keepdims=False):
    """Indices (int32) of the maximum values along `axis` (of the flattened tensor when None)."""
    return _arg(x, axis, keepdims, tf.math.argmax)


def argmin(x, axis=None, keepdims=False):
    """Indices (int32) of the minimum values along `axis` (of the flattened tensor when None)."""
    return _arg(x, axis, keepdims, tf.math.argmin)


def _sortable(x, axis):
    x = tensor(x)
    if axis is None:
        x, axis = tf.reshape(x, [-1]), 0
    return x, axis


def argsort(x, axis=-1):
    """Indices (int32) that sort `x` along `axis` (stable)."""
    x, axis = _sortable(x, axis)
    if x.dtype == tf.bool:
        x = tf.cast(x, "int32")
    if x.shape.rank == 0:
        return tf.constant(0, "int32")
    return tf.argsort(x, axis=axis, stable=True)


def sort(x, axis=-1):
    """Sorts along `axis` (the flattened tensor when None)."""
    x, axis = _sortable(x, axis)
    if x.dtype == tf.bool:
        return tf.cast(tf.sort(tf.cast(x, "int32"), axis=axis), "bool")
    return tf.sort(x, axis=axis)


def count_nonzero(x, axis=None):
    """Counts (int32) non-zero values along `axis`."""
    return tf.math.count_nonzero(tensor(x), axis=reduce_axis(axis), dtype="int32")


def _cumulative(x, axis, dtype, tf_fn):
    x = tensor(x, None if dtype is None else standardize_dtype(dtype))
    if x.dtype == tf.bool:
        x = tf.cast(x, "int32")
    if axis is None:
        x, axis = tf.reshape(x, [-1]), 0
    return tf_fn(x, axis=axis)


def cumsum(x, axis=None, dtype=None):
    """Cumulative sum along `axis` (flattened when None)."""
    return _cumulative(x, axis, dtype, tf.math.cumsum)


def cumprod(x, axis=None, dtype=None):
    """Cumulative product along `axis` (flattened when None)."""
    return _cumulative(x, axis, dtype, tf.math.cumprod)


def diff(a, n=1, axis=-1):
    """n-th discrete difference along `axis`."""
    a = tensor(a)
    axis = canonical_axis(axis, a.shape.rank, "diff")
    head = (slice(None),) * axis
    for _ in range(n):
        later, earlier = a[head + (slice(1, None),)], a[head + (slice(None, -1),)]
        a = tf.math.not_equal(later, earlier) if a.dtype == tf.bool else later - earlier
    return a


def _flatten_axes(x, axis):
    """Moves `axis` (None, int, tuple) to the end and merges it into one axis."""
    rank = x.shape.rank
    axes = axis_list(axis, rank, "quantile")
    kept = [a for a in range(rank) if a not in axes]
    x = tf.transpose(x, kept + axes) if kept + axes != list(range(rank)) else x
    shape = dims(x)
    return tf.reshape(x, shape[: len(kept)] + [-1]), axes


def quantile(x, q, axis=None, method="linear", keepdims=False):
    """q-th quantile(s) along `axis`; methods "linear", "lower", "higher", "midpoint", "nearest"."""
    if method not in ("linear", "lower", "higher", "midpoint", "nearest"):
        raise ValueError(f"quantile: unknown method {method!r}")
    x = to_float(x)
    q = cast_to(q if isinstance(q, (int, float, list, tuple, np.generic, np.ndarray)) else tensor(q),
                x.dtype if x.dtype.name != "float16" else "float32")
    compute = q.dtype
    flat, axes = _flatten_axes(tf.cast(x, compute), axis)
    values = tf.sort(flat, axis=-1)
    count = tf.cast(tf.shape(values)[-1], compute)
    position = q * (count - 1)
    low = tf.math.floor(position)
    high = tf.math.ceil(position)
    if method == "lower":
        position = low
    elif method == "higher":
        position = high
    elif method == "nearest":
        position = tf.math.round(position)
    low_values = tf.gather(values, tf.cast(low, "int32"), axis=-1)
    high_values = tf.gather(values, tf.cast(high, "int32"), axis=-1)
    if method == "midpoint":
        result = (low_values + high_values) / 2
    elif method == "linear":
        weight = position - low
        result = low_values + (high_values - low_values) * weight
    else:
        result = tf.gather(values, tf.cast(position, "int32"), axis=-1)
    # NaNs sort last: any NaN in a slice makes its quantile NaN, as in NumPy.
    q_rank = q.shape.rank
    has_nan = tf.math.reduce_any(tf.math.is_nan(flat), axis=-1)
    has_nan = tf.reshape(has_nan, dims(has_nan) + [1] * q_rank)
    result = tf.where(has_nan, tf.constant(np.nan, compute), result)
    # NumPy puts the q axes first, then the kept axes.
    if q_rank:
        out_rank = result.shape.rank
        result = tf.transpose(result, list(range(out_rank - q_rank, out_rank)) + list(range(out_rank - q_rank)))
    if keepdims:
        kept_shape = [1 if a in axes else d for a, d in enumerate(dims(x))]
        result = tf.reshape(result, dims(q) + kept_shape)
    return tf.cast(result, x.dtype)


def median(x, axis=None, keepdims=False):
    """Median along `axis`."""
    return quantile(x, 0.5, axis=axis, keepdims=keepdims)


def average(x, axis=None, weights=None):
    """Weighted average along `axis` (1-D `weights` apply along `axis`)."""
    if weights is None:
        return mean(x, axis=axis)
    (x, weights), _ = common([x, weights], extra=(float,))
    if axis is None or x.shape.rank == weights.shape.rank:
        total = tf.math.reduce_sum(weights, axis=axis)
        return tf.math.reduce_sum(x * weights, axis=axis) / total
    axis = canonical_axis(axis, x.shape.rank, "average")
    shape = [1] * x.shape.rank
    shape[axis] = -1
    return tf.math.reduce_sum(x * tf.reshape(weights, shape), axis=axis) / tf.math.reduce_sum(weights)


def bincount(x, weights=None, minlength=0):
    """Counts occurrences of each value in a 1-D int tensor (weighted sums with `weights`)."""
    x = tensor(x)
    if x.dtype.name not in ("int32", "int64"):
        x = tf.cast(x, "int32")
    if weights is None:
        return tf.math.bincount(x, minlength=minlength, dtype="int32", axis=-1)
    weights = tensor(weights)
    dtype = result_type(x.dtype.name, weights.dtype.name)
    compute = (
        dtype
        if dtype in ("int32", "int64", "float32", "float64")
        else ("int32" if is_int(dtype) or dtype == "bool" else "float32")
    )
    counts = tf.math.bincount(x, weights=tf.cast(weights, compute), minlength=minlength, dtype=compute, axis=-1)
    return tf.cast(counts, dtype)


def digitize(x, bins):
    """Indices (int32) of the bins to which each value belongs (increasing `bins`, right-open)."""
    x = tensor(x)
    bins = tensor(bins)
    dtype = promote(x.dtype.name, bins.dtype.name)
    if dtype in ("bool", "int8", "int16", "uint8", "uint16", "float16", "bfloat16"):
        dtype = "float32"
    flat = tf.reshape(tf.cast(x, dtype), [-1])
    found = tf.searchsorted(tf.reshape(tf.cast(bins, dtype), [-1]), flat, side="right", out_type=tf.int32)
    return tf.reshape(found, tf.shape(x))


# -- products -----------------------------------------------------------------------------------

# Integer and bool products run in a type TensorFlow's matmul kernels accept.
_MATMUL_COMPUTE = {"bool": "int32", "int8": "int32", "int16": "int32", "uint8": "int32", "uint16": "int32",
                   "uint32": "int64", "uint64": "int64"}  # fmt: skip


def _product_operands(x1, x2):
    x1, x2 = tensor(x1), tensor(x2)
    if x1.dtype == x2.dtype and x1.dtype.is_floating:
        return x1, x2, x1.dtype.name
    if x1.dtype.name == "int8" and x2.dtype.name == "int8":
        out = "int32"
    else:
        out = promote(x1.dtype.name, x2.dtype.name)
    compute = _MATMUL_COMPUTE.get(out, out)
    return tf.cast(x1, compute), tf.cast(x2, compute), out


def _finish(result, out):
    if result.dtype.name == out:
        return result
    if out == "bool":
        return tf.math.not_equal(result, 0)
    return tf.cast(result, out)


def matmul(x1, x2):
    """Matrix product with broadcasting of batch dimensions (1-D operands as in NumPy)."""
    x1, x2, out = _product_operands(x1, x2)
    rank1, rank2 = x1.shape.rank, x2.shape.rank
    if rank1 >= 2 and rank2 >= 2:
        return _finish(tf.linalg.matmul(x1, x2), out)
    if rank1 == 0 or rank2 == 0:
        raise ValueError(f"matmul: operands must be at least 1-D, received shapes {x1.shape} and {x2.shape}")
    if rank1 == 1:
        x1 = x1[None, :]
    if rank2 == 1:
        x2 = x2[:, None]
    result = tf.linalg.matmul(x1, x2)
    if rank2 == 1:
        result = result[..., 0]
    if rank1 == 1:
        result = result[..., 0, :] if rank2 > 1 else result[..., 0]
    return _finish(result, out)


def dot(x1, x2):
    """Dot product: NumPy semantics (matrix product for 2-D, sum over last/second-to-last axes)."""
    x1, x2, out = _product_operands(x1, x2)
    rank1, rank2 = x1.shape.rank, x2.shape.rank
    if rank1 == 0 or rank2 == 0:
        return _finish(x1 * x2, out)
    return _finish(tf.tensordot(x1, x2, [[rank1 - 1], [builtins.max(rank2 - 2, 0)]]), out)


def tensordot(x1, x2, axes=2):
    """Tensor dot product over `axes` (an int or a pair of axis lists)."""
    x1, x2, out = _product_operands(x1, x2)
    return _finish(tf.tensordot(x1, x2, axes), out)


def vdot(x1, x2):
    """Dot product of the flattened (first conjugated) operands."""
    x1, x2, out = _product_operands(x1, x2)
    x1 = tf.math.conj(tf.reshape(x1, [-1])) if x1.dtype.is_complex else tf.reshape(x1, [-1])
    return _finish(tf.tensordot(x1, tf.reshape(x2, [-1]), 1), out)


def outer(x1, x2):
    """Outer product of two vectors (flattened first)."""
    x1, x2 = pair(x1, x2)
    column, row = tf.reshape(x1, [-1, 1]), tf.reshape(x2, [1, -1])
    if x1.dtype == tf.bool:
        return tf.math.logical_and(column, row)
    return column * row


def einsum(subscripts, *operands):
    """Einstein summation over `operands` (promoted to one dtype)."""
    values, out = common(operands)
    if len(values) == 2 and values[0].dtype.name == "int8" and values[1].dtype.name == "int8":
        out = "int32"
    compute = _MATMUL_COMPUTE.get(out, out)
    values = [tf.cast(v, compute) for v in values]
    return _finish(tf.einsum(subscripts, *values), out)


def cross(x1, x2, axisa=-1, axisb=-1, axisc=-1, axis=None):
    """Cross product of 3-vectors (2-vectors have a zero z component) along the given axes."""
    if axis is not None:
        axisa = axisb = axisc = axis
    x1, x2 = pair(x1, x2)
    a = moveaxis(x1, axisa, -1)
    b = moveaxis(x2, axisb, -1)
    size_a, size_b = a.shape[-1], b.shape[-1]
    if size_a not in (2, 3) or size_b not in (2, 3):
        raise ValueError(f"cross: vectors must have 2 or 3 components, received {size_a} and {size_b}")
    a0, a1 = a[..., 0], a[..., 1]
    b0, b1 = b[..., 0], b[..., 1]
    if size_a == 2 and size_b == 2:
        return a0 * b1 - a1 * b0
    a2 = a[..., 2] if size_a == 3 else tf.zeros_like(a0)
    b2 = b[..., 2] if size_b == 3 else tf.zeros_like(b0)
    result = tf.stack([a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0], axis=-1)
    return moveaxis(result, -1, axisc)


def trace(x, offset=0, axis1=0, axis2=1):
    """Sum along the `offset` diagonal over `axis1`, `axis2`."""
    x = tensor(x)
    if x.dtype.name in _WIDEN:
        x = tf.cast(x, _WIDEN[x.dtype.name])
    return tf.math.reduce_sum(diagonal(x, offset=offset, axis1=axis1, axis2=axis2), axis=-1)
