"""Reductions of the torch backend (Keras 3 `keras.ops.numpy`): sums, means, extrema, scans."""

# ruff: noqa: A001, A002
import torch

from kbridge.adapters.torch.backend._common import INTLIKE, Tensor, convert, floatx, reduce_dim, to_torch_dtype
from kbridge.adapters.torch.backend.numpy_math import maximum, minimum

__all__ = [
    "sum", "mean", "var", "std", "prod", "max", "min", "amax", "amin", "all", "any",
    "argmax", "argmin", "count_nonzero", "cumsum", "cumprod",
]  # fmt: skip

_SUM_DTYPES = {
    torch.bool: torch.int32,
    torch.int8: torch.int32,
    torch.int16: torch.int32,
    torch.int32: torch.int32,
    torch.uint8: torch.int64,
    torch.uint16: torch.int64,
    torch.uint32: torch.int64,
}
# Keras 3 sums unsigned small ints to uint32; torch cannot sum in uint32, so sum in int64 and cast.
_SUM_RESULT = {torch.uint8: torch.uint32, torch.uint16: torch.uint32, torch.uint32: torch.uint32}


def _no_axes(axis):
    return axis is not None and not isinstance(axis, int) and len(axis) == 0


def sum(x, axis=None, keepdims=False):
    """Sum along `axis` (small ints and bool sum to int32, as Keras 3)."""
    if not isinstance(x, Tensor):
        x = convert(x)
    dtype = _SUM_DTYPES.get(x.dtype)
    if dtype is None:
        if axis is None:
            return torch.sum(x, None, keepdims) if keepdims else torch.sum(x)
        if type(axis) is not int:
            if not axis:
                return x
            axis = tuple(axis)
        return torch.sum(x, axis, keepdims)
    if _no_axes(axis):
        return x.to(_SUM_RESULT.get(x.dtype, dtype))
    out = torch.sum(x, dim=reduce_dim(axis), keepdim=keepdims, dtype=dtype)
    result = _SUM_RESULT.get(x.dtype)
    return out if result is None else out.to(result)


def mean(x, axis=None, keepdims=False):
    """Arithmetic mean along `axis` (ints give floatx)."""
    if not isinstance(x, Tensor):
        x = convert(x)
    if x.dtype in INTLIKE:
        x = x.to(floatx())
    if axis is None:
        return torch.mean(x, None, keepdims) if keepdims else torch.mean(x)
    if type(axis) is not int:
        if not axis:
            return x
        axis = tuple(axis)
    return torch.mean(x, axis, keepdims)


def var(x, axis=None, keepdims=False):
    """Population variance along `axis` (ints give floatx)."""
    if not isinstance(x, Tensor):
        x = convert(x)
    if x.dtype in INTLIKE:
        x = x.to(floatx())
    if _no_axes(axis):
        return torch.zeros_like(x)
    return torch.var(x, dim=reduce_dim(axis), correction=0, keepdim=keepdims)


def std(x, axis=None, keepdims=False):
    """Population standard deviation along `axis` (ints give floatx)."""
    if not isinstance(x, Tensor):
        x = convert(x)
    if x.dtype in INTLIKE:
        x = x.to(floatx())
    if _no_axes(axis):
        return torch.zeros_like(x)
    return torch.std(x, dim=reduce_dim(axis), correction=0, keepdim=keepdims)


def prod(x, axis=None, keepdims=False, dtype=None):
    """Product along `axis` (small ints and bool multiply in int32, as Keras 3)."""
    if not isinstance(x, Tensor):
        x = convert(x)
    if dtype is not None:
        target = result = to_torch_dtype(dtype)
        if target in _SUM_RESULT.values():
            target = torch.int64
    else:
        target = _SUM_DTYPES.get(x.dtype, x.dtype)
        result = _SUM_RESULT.get(x.dtype, target)
    if target is not x.dtype:
        x = x.to(target)
    if axis is None:
        out = torch.prod(x)
        if keepdims:
            out = out.reshape((1,) * x.ndim)
    else:
        dims = sorted({a % x.ndim for a in ((axis,) if isinstance(axis, int) else axis)}, reverse=True)
        out = x
        for dim in dims:
            out = torch.prod(out, dim=dim, keepdim=keepdims)
    return out if out.dtype is result else out.to(result)


def _extreme(fn, x, axis, keepdims):
    if not isinstance(x, Tensor):
        x = convert(x)
    if _no_axes(axis):
        return x
    return fn(x, dim=() if axis is None else axis, keepdim=keepdims)


def max(x, axis=None, keepdims=False, initial=None):
    """Maximum along `axis`, at least `initial` when given."""
    out = _extreme(torch.amax, x, axis, keepdims)
    return out if initial is None else maximum(out, initial)


def min(x, axis=None, keepdims=False, initial=None):
    """Minimum along `axis`, at most `initial` when given."""
    out = _extreme(torch.amin, x, axis, keepdims)
    return out if initial is None else minimum(out, initial)


def amax(x, axis=None, keepdims=False):
    """Maximum along `axis`."""
    return _extreme(torch.amax, x, axis, keepdims)


def amin(x, axis=None, keepdims=False):
    """Minimum along `axis`."""
    return _extreme(torch.amin, x, axis, keepdims)


def all(x, axis=None, keepdims=False):
    """Logical AND reduction."""
    if not isinstance(x, Tensor):
        x = convert(x)
    if x.dtype is not torch.bool:
        x = x != 0
    if _no_axes(axis):
        return x
    return torch.all(x, dim=reduce_dim(axis), keepdim=keepdims)


def any(x, axis=None, keepdims=False):
    """Logical OR reduction."""
    if not isinstance(x, Tensor):
        x = convert(x)
    if x.dtype is not torch.bool:
        x = x != 0
    if _no_axes(axis):
        return x
    return torch.any(x, dim=reduce_dim(axis), keepdim=keepdims)


def _arg_extreme(fn, x, axis, keepdims):
    if not isinstance(x, Tensor):
        x = convert(x)
    if x.dtype is torch.bool:
        x = x.to(torch.uint8)
    if axis is None:
        out = fn(x.reshape(-1))
        if keepdims:
            out = out.reshape((1,) * x.ndim)
    else:
        out = fn(x, dim=axis, keepdim=keepdims)
    return out.to(torch.int32)


def argmax(x, axis=None, keepdims=False):
    """Indices (int32) of the maximum values along `axis` (of the flattened `x` when None)."""
    return _arg_extreme(torch.argmax, x, axis, keepdims)


def argmin(x, axis=None, keepdims=False):
    """Indices (int32) of the minimum values along `axis` (of the flattened `x` when None)."""
    return _arg_extreme(torch.argmin, x, axis, keepdims)


def count_nonzero(x, axis=None):
    """Number (int32) of non-zero values along `axis`."""
    if not isinstance(x, Tensor):
        x = convert(x)
    if _no_axes(axis):
        return (x != 0).to(torch.int32)
    return torch.count_nonzero(x, dim=reduce_dim(axis)).to(torch.int32)


def _cumulative(fn, x, axis, dtype):
    if not isinstance(x, Tensor):
        x = convert(x)
    if dtype is not None:
        target = to_torch_dtype(dtype)
    else:
        target = torch.int32 if x.dtype is torch.bool else x.dtype
    if axis is None:
        x = x.reshape(-1)
        axis = 0
    if target in _SUM_RESULT:
        # torch has no unsigned cumulative kernels beyond uint8; accumulate in int64 and wrap back.
        return fn(x, dim=axis, dtype=torch.int64).to(target)
    return fn(x, dim=axis, dtype=target)


def cumsum(x, axis=None, dtype=None):
    """Cumulative sum along `axis` (of the flattened `x` when None)."""
    return _cumulative(torch.cumsum, x, axis, dtype)


def cumprod(x, axis=None, dtype=None):
    """Cumulative product along `axis` (of the flattened `x` when None)."""
    return _cumulative(torch.cumprod, x, axis, dtype)
