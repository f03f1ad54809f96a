"""Core ops: conversion, shapes, dtypes, control flow and updates (Keras 3 `keras.ops.core`).

Each op forwards to the active backend (DESIGN.md invariant 3); the backends live in
`kbridge.adapters.<fw>.backend`. Keep signatures in step
with every backend (each backend's contract test compares them).
"""

# ruff: noqa: A001, A002
from kbridge.backend._state import state as _state

__all__ = ['cast', 'convert_to_tensor', 'convert_to_numpy', 'is_tensor', 'shape', 'dtype', 'stop_gradient', 'slice', 'slice_update', 'scatter', 'scatter_update', 'cond', 'fori_loop', 'while_loop', 'scan', 'unstack', 'saturate_cast', 'getitem']


def cast(x, dtype):
    """Casts `x` to `dtype`."""
    return _state.ops.cast(x, dtype)


def convert_to_tensor(x, dtype=None, sparse=None):
    """Converts `x` (array, list, scalar, Variable) to a tensor of the active backend."""
    return _state.ops.convert_to_tensor(x, dtype=dtype, sparse=sparse)


def convert_to_numpy(x):
    """Returns `x` as a NumPy array."""
    return _state.ops.convert_to_numpy(x)


def is_tensor(x):
    """Whether `x` is a tensor of the active backend."""
    return _state.ops.is_tensor(x)


def shape(x):
    """Returns the shape of `x` as a tuple (entries may be symbolic under tracing)."""
    return _state.ops.shape(x)


def dtype(x):
    """Returns the dtype of `x` as a standard string such as "float32"."""
    return _state.ops.dtype(x)


def stop_gradient(variable):
    """Returns `variable` with gradients stopped."""
    return _state.ops.stop_gradient(variable)


def slice(inputs, start_indices, shape):
    """Returns a slice of `inputs` of size `shape` starting at `start_indices`."""
    return _state.ops.slice(inputs, start_indices, shape)


def slice_update(inputs, start_indices, updates):
    """Returns `inputs` with the slice at `start_indices` replaced by `updates`."""
    return _state.ops.slice_update(inputs, start_indices, updates)


def scatter(indices, values, shape):
    """Returns a zero tensor of `shape` with `values` added at `indices`."""
    return _state.ops.scatter(indices, values, shape)


def scatter_update(inputs, indices, updates):
    """Returns `inputs` with the entries at `indices` set to `updates`."""
    return _state.ops.scatter_update(inputs, indices, updates)


def cond(pred, true_fn, false_fn):
    """Calls `true_fn()` if `pred` else `false_fn()`, traceable by compilers."""
    return _state.ops.cond(pred, true_fn, false_fn)


def fori_loop(lower, upper, body_fun, init_val):
    """For loop `val = body_fun(i, val)` for i in [lower, upper)."""
    return _state.ops.fori_loop(lower, upper, body_fun, init_val)


def while_loop(cond, body, loop_vars, maximum_iterations=None):
    """While loop over the tuple `loop_vars`."""
    return _state.ops.while_loop(cond, body, loop_vars, maximum_iterations=maximum_iterations)


def scan(f, init, xs=None, length=None, reverse=False, unroll=1):
    """Scans `f(carry, x) -> (carry, y)` over the leading axis of `xs`."""
    return _state.ops.scan(f, init, xs=xs, length=length, reverse=reverse, unroll=unroll)


def unstack(x, num=None, axis=0):
    """Splits `x` along `axis` into a list of tensors."""
    return _state.ops.unstack(x, num=num, axis=axis)


def saturate_cast(x, dtype):
    """Casts `x` to `dtype`, clipping to the range of `dtype` first."""
    return _state.ops.saturate_cast(x, dtype)


def getitem(x, key):
    """Returns `x[key]` (basic indexing: ints, slices, None, Ellipsis)."""
    return _state.ops.getitem(x, key)
