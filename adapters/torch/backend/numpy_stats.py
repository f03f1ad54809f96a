"""Sorting and statistics ops of the torch backend (Keras 3 `keras.ops.numpy`)."""

# ruff: noqa: A001, A002
import builtins

import torch

from kbridge.adapters.torch.backend._common import INTLIKE, Tensor, axes_tuple, convert, floatx, pair_tensors

__all__ = ["argsort", "sort", "nonzero", "bincount", "median", "quantile", "average"]


def _t(x):
    return x if isinstance(x, Tensor) else convert(x)


# -- sorting and statistics ---------------------------------------------------------------


def sort(x, axis=-1):
    """Sorts along `axis` (of the flattened `x` when None)."""
    x = _t(x)
    if axis is None:
        x, axis = x.reshape(-1), 0
    return torch.sort(x, dim=axis, stable=True).values


def argsort(x, axis=-1):
    """Indices (int32) that sort `x` along `axis` (stable)."""
    x = _t(x)
    if axis is None:
        x, axis = x.reshape(-1), 0
    if x.dtype is torch.bool:
        x = x.to(torch.uint8)
    return torch.argsort(x, dim=axis, stable=True).to(torch.int32)


def nonzero(x):
    """Indices (int32) of the non-zero elements, one tensor per axis (eager only)."""
    return tuple(index.to(torch.int32) for index in torch.nonzero(_t(x), as_tuple=True))


def bincount(x, weights=None, minlength=0):
    """Counts of each value in non-negative int `x` (1-D, or 2-D counted per row)."""
    x = _t(x)
    if weights is not None:
        weights = _t(weights)
    if x.ndim == 2:
        length = builtins.max(int(x.max()) + 1 if x.numel() else 0, minlength)
        rows = [bincount(x[i], None if weights is None else weights[i], length) for i in range(x.shape[0])]
        return torch.stack(rows)
    out = torch.bincount(x, weights=weights, minlength=minlength)
    if weights is None:
        return out.to(torch.int32)
    if weights.dtype in INTLIKE:
        return out.to(torch.int32 if weights.dtype is torch.bool else weights.dtype)
    return out.to(weights.dtype)


_QUANTILE_METHODS = ("linear", "lower", "higher", "midpoint", "nearest")


def quantile(x, q, axis=None, method="linear", keepdims=False):
    """q-th quantile(s) along `axis` (NumPy methods linear, lower, higher, midpoint, nearest)."""
    if method not in _QUANTILE_METHODS:
        raise ValueError(f"quantile: `method` must be one of {_QUANTILE_METHODS}, received {method!r}")
    x = _t(x)
    if x.dtype in INTLIKE:
        x = x.to(floatx())
    q = convert(q, x.dtype, x.device) if not isinstance(q, Tensor) else q.to(x.dtype)
    ndim = x.ndim
    dims = axes_tuple(axis, ndim)
    kept = [d for d in range(ndim) if d not in dims]
    moved = x.permute(kept + list(dims)).reshape([x.shape[d] for d in kept] + [-1])
    values = torch.sort(moved, dim=-1).values
    n = values.shape[-1]
    position = q.reshape(-1) * (n - 1)
    lo = torch.floor(position).long().clamp(0, n - 1)
    hi = torch.ceil(position).long().clamp(0, n - 1)
    lo_v, hi_v = values[..., lo], values[..., hi]
    if method == "linear":
        out = lo_v + (hi_v - lo_v) * (position - lo.to(x.dtype))
    elif method == "lower":
        out = lo_v
    elif method == "higher":
        out = hi_v
    elif method == "midpoint":
        out = (lo_v + hi_v) / 2
    else:
        out = values[..., torch.round(position).long().clamp(0, n - 1)]
    # NaN anywhere in a slice makes its quantile NaN, as in NumPy.
    has_nan = torch.isnan(moved).any(dim=-1, keepdim=True)
    out = torch.where(has_nan, torch.full_like(out, float("nan")), out)
    out = out.movedim(-1, 0)
    if keepdims:
        shape = [1 if d in dims else x.shape[d] for d in range(ndim)]
        out = out.reshape(out.shape[:1] + tuple(shape))
    if q.ndim == 0:
        out = out[0]
    else:
        out = out.reshape(q.shape + out.shape[1:])
    return out


def median(x, axis=None, keepdims=False):
    """Median along `axis` (the mean of the two middle values for even counts)."""
    return quantile(x, 0.5, axis=axis, keepdims=keepdims)


def average(x, axis=None, weights=None):
    """Weighted average along `axis` (a 1-D `weights` applies along `axis`)."""
    x = _t(x)
    if weights is None:
        from kbridge.adapters.torch.backend.numpy_reduce import mean

        return mean(x, axis=axis)
    weights = convert(weights, device=x.device) if not isinstance(weights, Tensor) else weights
    x, weights = pair_tensors(x, weights)
    if x.dtype in INTLIKE:
        x, weights = x.to(floatx()), weights.to(floatx())
    if axis is not None and weights.ndim == 1 and x.ndim > 1:
        shape = [1] * x.ndim
        shape[axis] = -1
        weights = weights.reshape(shape)
    dim = None if axis is None else axis
    return torch.sum(x * weights, dim=dim) / torch.sum(weights.expand_as(x), dim=dim)
