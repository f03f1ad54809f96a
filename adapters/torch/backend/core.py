"""Core ops of the torch backend: conversion, shapes, dtypes, control flow, slicing and scatter."""

# ruff: noqa: A001, A002
import builtins

import numpy as np
import torch

from kbridge.adapters.torch.backend._common import (
    DTYPE_NAMES,
    INTLIKE,
    Tensor,
    convert,
    tensor,
    to_torch_dtype,
)
from kbridge.utils import tree

__all__ = [
    "NAME", "TENSOR_TYPES", "variable_storage", "variable_assign",
    "cast", "convert_to_tensor", "convert_to_numpy", "is_tensor", "shape", "dtype", "stop_gradient",
    "slice", "slice_update", "scatter", "scatter_update", "cond", "fori_loop", "while_loop", "scan",
    "unstack", "saturate_cast", "getitem",
]  # fmt: skip

NAME = "torch"
TENSOR_TYPES = (torch.Tensor,)


def variable_storage(value, trainable):
    """Storage for a `kbridge.Variable`: an `nn.Parameter` for trainable floats, else the tensor itself."""
    # A copy: assignment is in place, so the storage must not alias the caller's array
    # (torch.from_numpy shares memory) or another variable's value.
    value = tensor(value).detach().clone()
    if trainable and (value.is_floating_point() or value.is_complex()):
        return torch.nn.Parameter(value, requires_grad=True)
    return value


def variable_assign(storage, value):
    """Copies `value` into `storage` in place (sharing with native modules holds) and returns `storage`."""
    if storage.requires_grad or value.requires_grad:
        with torch.no_grad():  # an update, not a step of the graph
            storage.copy_(value)
    else:
        storage.copy_(value)
    return storage


def variable_assign_add(storage, value):
    """Adds `value` (a tensor of the storage's dtype and shape, or a Python number) to `storage`
    in place and returns `storage` (optional hook behind `Variable.assign_add`)."""
    if storage.requires_grad or (isinstance(value, Tensor) and value.requires_grad):
        with torch.no_grad():
            storage.add_(value)
    else:
        storage.add_(value)
    return storage


def cast(x, dtype):
    """Casts `x` to `dtype`."""
    dtype = to_torch_dtype(dtype)
    if isinstance(x, Tensor):
        return x if x.dtype is dtype else x.to(dtype)
    return convert(x, dtype)


def convert_to_tensor(x, dtype=None, sparse=None):
    """Converts `x` (tensor, array, list, scalar, Variable) to a torch tensor."""
    if sparse:
        raise ValueError("convert_to_tensor: the torch backend does not support sparse tensors (sparse=True).")
    if dtype is not None:
        dtype = to_torch_dtype(dtype)
    if isinstance(x, Tensor):
        return x if dtype is None or x.dtype is dtype else x.to(dtype)
    return convert(x, dtype)


def convert_to_numpy(x):
    """Returns `x` as a NumPy array (bfloat16 becomes float32)."""
    if not isinstance(x, Tensor):
        if isinstance(x, (list, tuple)):
            return np.array([convert_to_numpy(item) for item in x])
        x = convert(x)
    x = x.detach()
    if x.dtype is torch.bfloat16:
        x = x.float()
    if x.device.type != "cpu":
        x = x.cpu()
    return x.numpy()


def is_tensor(x):
    """Whether `x` is a torch tensor."""
    return isinstance(x, Tensor)


def shape(x):
    """The shape of `x` as a tuple."""
    if not isinstance(x, Tensor):
        if hasattr(x, "shape"):
            return tuple(x.shape)
        x = convert(x)
    return tuple(x.shape)


def dtype(x):
    """The dtype name of `x`."""
    if not isinstance(x, Tensor):
        x = convert(x)
    return DTYPE_NAMES[x.dtype]


def stop_gradient(variable):
    """Returns `variable` detached from the autograd graph."""
    return tensor(variable).detach()


def _narrowed(x, start_indices, sizes):
    for dim, (start, size) in enumerate(zip(start_indices, sizes)):
        x = x.narrow(dim, start, size)
    return x


def _starts(start_indices):
    if isinstance(start_indices, Tensor):
        return list(start_indices.unbind(0))
    return [start.long() if isinstance(start, Tensor) else start for start in start_indices]


def slice(inputs, start_indices, shape):
    """Returns the slice of `inputs` of size `shape` starting at `start_indices` (ints or tensors)."""
    inputs = tensor(inputs)
    return _narrowed(inputs, _starts(start_indices), shape)


def slice_update(inputs, start_indices, updates):
    """Returns `inputs` with the block at `start_indices` replaced by `updates`."""
    inputs = tensor(inputs)
    updates = convert(updates, inputs.dtype, inputs.device)
    out = inputs.clone()
    _narrowed(out, _starts(start_indices), updates.shape).copy_(updates)
    return out


def _index_columns(indices, depth):
    indices = tensor(indices)
    if indices.dtype is not torch.int64:
        indices = indices.long()
    return tuple(indices[..., i] for i in range(depth))


def scatter(indices, values, shape):
    """Zeros of `shape` with `values` added at `indices` (duplicates accumulate)."""
    values = tensor(values)
    indices = tensor(indices)
    out = torch.zeros(tuple(shape), dtype=values.dtype, device=values.device)
    return out.index_put_(_index_columns(indices, indices.shape[-1]), values, accumulate=True)


def scatter_update(inputs, indices, updates):
    """Returns `inputs` with the entries at `indices` set to `updates`."""
    inputs = tensor(inputs)
    indices = tensor(indices)
    updates = convert(updates, inputs.dtype, inputs.device)
    return inputs.index_put(_index_columns(indices, indices.shape[-1]), updates)


def _compiling():
    return torch.compiler.is_compiling()


def cond(pred, true_fn, false_fn):
    """`true_fn()` if `pred` else `false_fn()`; uses `torch.cond` under `torch.compile` for tensor predicates."""
    if isinstance(pred, Tensor):
        if _compiling():
            return torch.cond(pred, true_fn, false_fn, ())
        pred = bool(pred)
    return true_fn() if pred else false_fn()


def _as_int(value):
    return int(value) if isinstance(value, Tensor) else value


def fori_loop(lower, upper, body_fun, init_val):
    """`val = body_fun(i, val)` for i in [lower, upper) (a Python loop: unrolled under compilation)."""
    value = init_val
    for index in range(_as_int(lower), _as_int(upper)):
        value = body_fun(index, value)
    return value


def while_loop(cond, body, loop_vars, maximum_iterations=None):
    """Runs `loop_vars = body(*loop_vars)` while `cond(*loop_vars)` (at most `maximum_iterations` times)."""
    is_sequence = isinstance(loop_vars, (tuple, list))
    values = tuple(loop_vars) if is_sequence else (loop_vars,)
    count = 0
    while maximum_iterations is None or count < maximum_iterations:
        if not bool(cond(*values)):
            break
        values = body(*values)
        if not isinstance(values, (tuple, list)):
            values = (values,)
        values = tuple(values)
        count += 1
    if is_sequence:
        return list(values) if isinstance(loop_vars, list) else values
    return values[0]


def scan(f, init, xs=None, length=None, reverse=False, unroll=1):
    """Scans `carry, y = f(carry, x)` over the leading axis of `xs`; returns `(carry, stacked ys)`."""
    if xs is None and length is None:
        raise ValueError("scan: one of `xs` and `length` must be given.")
    x_leaves = tree.flatten(xs) if xs is not None else []
    n = length if length is not None else tensor(x_leaves[0]).shape[0]
    x_leaves = [tensor(leaf) for leaf in x_leaves]
    order = range(n - 1, -1, -1) if reverse else range(n)
    carry = init
    ys = []
    for index in order:
        x = tree.pack_sequence_as(xs, [leaf[index] for leaf in x_leaves]) if xs is not None else None
        carry, y = f(carry, x)
        ys.append(y)
    if reverse:
        ys.reverse()
    if not ys:
        return carry, None
    first = ys[0]
    if first is None:
        return carry, None
    columns = list(zip(*[tree.flatten(y) for y in ys]))
    stacked = [torch.stack([tensor(item) for item in column]) for column in columns]
    return carry, tree.pack_sequence_as(first, stacked)


def unstack(x, num=None, axis=0):
    """Splits `x` along `axis` into a list of tensors."""
    x = tensor(x)
    if num is not None and num != x.shape[axis]:
        raise ValueError(f"unstack: num={num} does not match the size {x.shape[axis]} of axis {axis}.")
    return list(torch.unbind(x, axis))


def saturate_cast(x, dtype):
    """Casts `x` to `dtype`, clipping values to the range of `dtype` first."""
    x = tensor(x)
    target = to_torch_dtype(dtype)
    if target is torch.bool or x.dtype is torch.bool or x.dtype is target or x.is_complex():
        return x.to(target)
    out_info = torch.iinfo(target) if target in INTLIKE else torch.finfo(target)
    if x.dtype in INTLIKE and target in INTLIKE:
        in_info = torch.iinfo(x.dtype)
        return x.clamp(builtins.max(out_info.min, in_info.min), builtins.min(out_info.max, in_info.max)).to(target)
    hi = float(out_info.max)
    if target in INTLIKE and hi > out_info.max:
        # float64 rounds int64's max up; step down to the largest representable value below it.
        hi = float(np.nextafter(np.float64(hi), 0.0))
    # Clamping in float64 keeps every bound exact (or rounded down as above).
    return x.double().clamp(float(out_info.min), hi).to(target)


def _normalize_key(x, key):
    # Torch rejects negative slice steps: flip those axes and turn the steps positive.
    if not isinstance(key, tuple):
        key = (key,)
    if not any(isinstance(k, builtins.slice) and k.step is not None and _as_int(k.step) < 0 for k in key):
        return x, key
    consumed = builtins.sum(
        0 if k is None or k is Ellipsis else (k.ndim if isinstance(k, Tensor) and k.dtype is torch.bool else 1)
        for k in key
    )
    new_key = []
    dim = 0
    flips = []
    for k in key:
        if k is None:
            new_key.append(k)
            continue
        if k is Ellipsis:
            new_key.append(k)
            dim += x.ndim - consumed
            continue
        if isinstance(k, builtins.slice) and k.step is not None and _as_int(k.step) < 0:
            size = x.shape[dim]
            start, stop, step = k.indices(size)
            count = len(range(start, stop, step))
            first = size - 1 - start
            new_key.append(builtins.slice(first, first + count * (-step), -step))
            flips.append(dim)
        else:
            new_key.append(k)
        dim += k.ndim if isinstance(k, Tensor) and k.dtype is torch.bool else 1
    return x.flip(flips), tuple(new_key)


def _convert_key(key):
    if isinstance(key, tuple):
        return tuple(_convert_key_item(k) for k in key)
    return _convert_key_item(key)


def _convert_key_item(k):
    if isinstance(k, (int, builtins.slice, Tensor)) or k is None or k is Ellipsis:
        return k
    if isinstance(k, np.integer):
        return int(k)
    if isinstance(k, (list, np.ndarray)) or hasattr(k, "__array__"):
        k = convert(k)
        return k if k.dtype is torch.bool else k.long()
    return k


def _basic_key(key):
    # True when torch indexes `key` exactly as NumPy does (no negative steps, no lists).
    for k in key:
        kind = type(k)
        if kind is builtins.slice:
            step = k.step
            if step is not None and (isinstance(step, Tensor) or step < 0):
                return False
        elif not (kind is int or k is None or k is Ellipsis or isinstance(k, Tensor)):
            return False
    return True


def getitem(x, key):
    """Returns `x[key]` (ints, slices incl. negative steps, None, Ellipsis, and int/bool index tensors)."""
    if not isinstance(x, Tensor):
        x = convert(x)
    kind = type(key)
    if kind is tuple:
        if _basic_key(key):
            return x[key]
    elif kind is int or isinstance(key, Tensor):
        return x[key]
    x, key = _normalize_key(x, _convert_key(key))
    return x[key]
