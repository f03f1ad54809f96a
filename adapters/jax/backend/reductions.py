"""JAX backend: reductions, statistics, cumulative ops and sorting (NumPy-like)."""

import jax.numpy as jnp

from kbridge.backend.dtypes import result_type

from .core import _BOOL, _HALF, _INEXACT, _INT32, _axis, _floatx, _jdt, _sum_dtype, _t

_FLOAT32 = jnp.dtype("float32")


def all(x, axis=None, keepdims=False):
    """Logical AND reduction."""
    return jnp.all(_t(x), axis=_axis(axis), keepdims=keepdims)


def any(x, axis=None, keepdims=False):
    """Logical OR reduction."""
    return jnp.any(_t(x), axis=_axis(axis), keepdims=keepdims)


def amax(x, axis=None, keepdims=False):
    """Maximum along `axis`."""
    return jnp.max(_t(x), axis=_axis(axis), keepdims=keepdims)


def amin(x, axis=None, keepdims=False):
    """Minimum along `axis`."""
    return jnp.min(_t(x), axis=_axis(axis), keepdims=keepdims)


def max(x, axis=None, keepdims=False, initial=None):
    """Maximum along `axis` (with an optional `initial` value)."""
    return jnp.max(_t(x), axis=_axis(axis), keepdims=keepdims, initial=initial)


def min(x, axis=None, keepdims=False, initial=None):
    """Minimum along `axis` (with an optional `initial` value)."""
    return jnp.min(_t(x), axis=_axis(axis), keepdims=keepdims, initial=initial)


def sum(x, axis=None, keepdims=False):
    """Sum along `axis` (bool/int8/int16 sum in int32; no int64 under x64)."""
    x = _t(x)
    return jnp.sum(x, axis=_axis(axis), keepdims=keepdims, dtype=_sum_dtype(x.dtype))


def prod(x, axis=None, keepdims=False, dtype=None):
    """Product along `axis`."""
    x = _t(x)
    dtype = _sum_dtype(x.dtype) if dtype is None else _jdt(dtype)
    return jnp.prod(x, axis=_axis(axis), keepdims=keepdims, dtype=dtype)


def _cumulative_dtype(x, dtype):
    # Keras keeps the input dtype (bools count in int32); jnp would widen small ints.
    if dtype is not None:
        return _jdt(dtype)
    return _INT32 if x.dtype == _BOOL else x.dtype


def cumsum(x, axis=None, dtype=None):
    """Cumulative sum along `axis` (flattened when None)."""
    x = _t(x)
    return jnp.cumsum(x, axis=axis, dtype=_cumulative_dtype(x, dtype))


def cumprod(x, axis=None, dtype=None):
    """Cumulative product along `axis` (flattened when None)."""
    x = _t(x)
    return jnp.cumprod(x, axis=axis, dtype=_cumulative_dtype(x, dtype))


def trace(x, offset=0, axis1=0, axis2=1):
    """Sum along diagonals."""
    x = _t(x)
    return jnp.trace(x, offset=offset, axis1=axis1, axis2=axis2, dtype=_sum_dtype(x.dtype))


def count_nonzero(x, axis=None):
    """Counts non-zero values along `axis` (int32)."""
    return jnp.count_nonzero(_t(x), axis=_axis(axis)).astype(_INT32)


def _stat_dtypes(x):
    """(compute, result) dtypes of mean/var/std: ints give `floatx()`; halves compute in float32."""
    result = x.dtype if x.dtype in _INEXACT else _floatx()
    compute = _FLOAT32 if result in _HALF else result
    return compute, result


def mean(x, axis=None, keepdims=False):
    """Arithmetic mean along `axis` (ints give `floatx()`)."""
    x = _t(x)
    compute, result = _stat_dtypes(x)
    return jnp.mean(x, axis=_axis(axis), keepdims=keepdims, dtype=compute).astype(result)


def var(x, axis=None, keepdims=False):
    """Variance along `axis` (ints give `floatx()`)."""
    x = _t(x)
    compute, result = _stat_dtypes(x)
    return jnp.var(x.astype(compute), axis=_axis(axis), keepdims=keepdims).astype(result)


def std(x, axis=None, keepdims=False):
    """Standard deviation along `axis` (ints give `floatx()`)."""
    x = _t(x)
    compute, result = _stat_dtypes(x)
    return jnp.std(x.astype(compute), axis=_axis(axis), keepdims=keepdims).astype(result)


def median(x, axis=None, keepdims=False):
    """Median along `axis` (ints give `floatx()`)."""
    x = _t(x)
    if x.dtype not in _INEXACT:
        x = x.astype(_floatx())
    return jnp.median(x, axis=_axis(axis), keepdims=keepdims)


def quantile(x, q, axis=None, method="linear", keepdims=False):
    """q-th quantile along `axis` (ints give `floatx()`)."""
    x = _t(x)
    if x.dtype not in _INEXACT:
        x = x.astype(_floatx())
    q = _t(q).astype(x.dtype)
    return jnp.quantile(x, q, axis=_axis(axis), method=method, keepdims=keepdims)


def average(x, axis=None, weights=None):
    """Weighted average along `axis`."""
    x = _t(x)
    if weights is None:
        dtype = _jdt(result_type(x.dtype, float))
        return jnp.average(x.astype(dtype), axis=_axis(axis))
    weights = _t(weights)
    dtype = _jdt(result_type(x.dtype, weights.dtype, float))
    return jnp.average(x.astype(dtype), axis=_axis(axis), weights=weights.astype(dtype))


def argmax(x, axis=None, keepdims=False):
    """Indices (int32) of the maximum values along `axis`."""
    return jnp.argmax(_t(x), axis=axis, keepdims=keepdims).astype(_INT32)


def argmin(x, axis=None, keepdims=False):
    """Indices (int32) of the minimum values along `axis`."""
    return jnp.argmin(_t(x), axis=axis, keepdims=keepdims).astype(_INT32)


def argsort(x, axis=-1):
    """Indices (int32) that sort `x` along `axis` (stable)."""
    x = _t(x)
    if x.ndim == 0:
        return jnp.argsort(x, axis=None).astype(_INT32)
    return jnp.argsort(x, axis=axis).astype(_INT32)


def sort(x, axis=-1):
    """Sorts along `axis`."""
    x = _t(x)
    return jnp.sort(x, axis=None if x.ndim == 0 else axis)
