"""Symbolic backend: conversion, shapes, control flow, updates and indexing (`kbridge.ops.core`)."""

# ruff: noqa: A001, A002
import builtins

import numpy as np

from kbridge.backend.dtypes import standardize_dtype
from kbridge.symbolic._infer import (
    as_int,
    broadcast_shapes,
    canonical_axis,
    has_symbolic,
    is_symbolic,
    merge_shapes,
    numpy_backend,
    out,
    shape_tuple,
    spec,
)
from kbridge.symbolic.keras_tensor import KerasTensor
from kbridge.utils import tree
from kbridge.variables import Variable


def cast(x, dtype):
    """`x` with dtype `dtype`."""
    return out(spec(x).shape, standardize_dtype(dtype))


def saturate_cast(x, dtype):
    """`x` with dtype `dtype`."""
    return out(spec(x).shape, standardize_dtype(dtype))


def convert_to_tensor(x, dtype=None, sparse=None):
    """A KerasTensor as it is (re-typed when `dtype` differs); concrete values as their spec."""
    if isinstance(x, Variable):
        value = x.value
        x = value if isinstance(value, KerasTensor) else spec(x)
    if isinstance(x, KerasTensor):
        if dtype is None or standardize_dtype(dtype) == x.dtype:
            return x
        return out(x.shape, standardize_dtype(dtype))
    if isinstance(x, (list, tuple)) and any(is_symbolic(leaf) for leaf in tree.flatten(x)):
        stacked = spec(x)
        return stacked if dtype is None else out(stacked.shape, standardize_dtype(dtype))
    value = numpy_backend().convert_to_tensor(x, dtype=dtype)
    return out(value.shape, standardize_dtype(value.dtype))


def convert_to_numpy(x):
    """Concrete values as NumPy arrays; a KerasTensor has no values and raises a TypeError."""
    if is_symbolic(x):
        raise TypeError(
            f"convert_to_numpy: {x!r} is symbolic (a KerasTensor used to build a model) and has no values."
        )
    return numpy_backend().convert_to_numpy(x)


def is_tensor(x):
    """Whether `x` is a KerasTensor."""
    return isinstance(x, KerasTensor)


def shape(x):
    """The shape of `x` as a tuple (None for unknown sizes)."""
    return spec(x).shape


def dtype(x):
    """The dtype name of `x`."""
    return spec(x).dtype


def stop_gradient(variable):
    """`variable` as a KerasTensor."""
    return spec(variable)


def slice(inputs, start_indices, shape):
    """A block of size `shape` (-1: to the end)."""
    inputs = spec(inputs)
    sizes = shape_tuple(shape, "slice")
    if len(sizes) != inputs.ndim:
        raise ValueError(f"slice: shape {sizes} must have one entry per dimension of {inputs}.")
    starts = [None] * inputs.ndim
    if not has_symbolic(start_indices):
        starts = [int(s) for s in np.reshape(np.asarray(start_indices), (-1,))]
    result = []
    for dim, start, size in zip(inputs.shape, starts, sizes):
        if size == -1:
            size = None if dim is None or start is None else dim - max(start, 0)
        result.append(size)
    return out(result, inputs.dtype)


def slice_update(inputs, start_indices, updates):
    """`inputs` with a block replaced: same shape and dtype."""
    inputs, updates = spec(inputs), spec(updates)
    if updates.ndim != inputs.ndim:
        raise ValueError(f"slice_update: updates {updates} must have the rank of inputs {inputs}.")
    return out(inputs.shape, inputs.dtype)


def scatter(indices, values, shape):
    """A tensor of `shape` with the dtype of `values`."""
    return out(shape_tuple(shape, "scatter"), spec(values).dtype)


def scatter_update(inputs, indices, updates):
    """`inputs` with entries replaced: same shape and dtype."""
    inputs = spec(inputs)
    return out(inputs.shape, inputs.dtype)


def unstack(x, num=None, axis=0):
    """A list of `x.shape[axis]` tensors without that axis."""
    x = spec(x)
    axis = canonical_axis(axis, x.ndim, "unstack")
    count = x.shape[axis]
    if count is None:
        count = num
    elif num is not None and num != count:
        raise ValueError(f"unstack: num={num} does not match the size {count} of axis {axis} of {x}.")
    if count is None:
        raise ValueError(f"unstack: axis {axis} of {x} has an unknown size; pass `num`.")
    rest = x.shape[:axis] + x.shape[axis + 1 :]
    return [out(rest, x.dtype) for _ in range(count)]


# -- control flow: every body is traced once on specs ------------------------------------------


def _specs(structure):
    return tree.map_structure(lambda leaf: None if leaf is None else spec(leaf), structure)


def _joined(first, second, name, what):
    """Merges two output structures that must agree in structure, dtypes and ranks."""
    flat_first, flat_second = tree.flatten(first), tree.flatten(second)
    if len(flat_first) != len(flat_second):
        raise ValueError(f"{name}: {what} have different structures: {first} and {second}.")
    merged = []
    for a, b in zip(flat_first, flat_second):
        if a is None or b is None:
            if a is not b:
                raise ValueError(f"{name}: {what} disagree: {a} and {b}.")
            merged.append(None)
            continue
        if a.dtype != b.dtype:
            raise ValueError(f"{name}: {what} have different dtypes: {a} and {b}.")
        merged.append(out(merge_shapes(a.shape, b.shape, f"{name} ({what})"), a.dtype))
    return tree.pack_sequence_as(first, merged)


def _relaxed(before, after, name, what):
    # Ranks and dtypes must agree; known sizes may differ (they become None).
    flat_before, flat_after = tree.flatten(before), tree.flatten(after)
    if len(flat_before) != len(flat_after):
        raise ValueError(f"{name}: {what} have different structures: {before} and {after}.")
    for a, b in zip(flat_before, flat_after):
        if (a is None) != (b is None) or (a is not None and (a.dtype != b.dtype or a.ndim != b.ndim)):
            raise ValueError(f"{name}: {what} disagree: {a} and {b}.")
    loose = [
        None if a is None else out(tuple(x if x == y else None for x, y in zip(a.shape, b.shape)), a.dtype)
        for a, b in zip(flat_before, flat_after)
    ]
    return tree.pack_sequence_as(before, loose)


def cond(pred, true_fn, false_fn):
    """Traces both branches (when `pred` is symbolic) and checks that their outputs agree."""
    if not is_symbolic(pred):
        return true_fn() if bool(pred) else false_fn()
    pred = spec(pred)
    if pred.ndim != 0 and any(d != 1 for d in pred.shape):
        raise ValueError(f"cond: pred must be a scalar, received {pred}.")
    true_out = _specs(true_fn())
    false_out = _specs(false_fn())
    return _joined(true_out, false_out, "cond", "the outputs of true_fn and false_fn")


def fori_loop(lower, upper, body_fun, init_val):
    """Traces `body_fun(i, val)` once with a symbolic int32 index."""
    init = _specs(init_val)
    result = _specs(body_fun(out((), "int32"), init))
    return _relaxed(init, result, "fori_loop", "init_val and the output of body_fun")


def while_loop(cond, body, loop_vars, maximum_iterations=None):
    """Traces `cond` and `body` once; returns the loop variables' specs."""
    is_sequence = isinstance(loop_vars, (list, tuple))
    values = _specs(tuple(loop_vars) if is_sequence else (loop_vars,))
    condition = spec(cond(*values))
    if condition.ndim != 0 and any(d != 1 for d in condition.shape):
        raise ValueError(f"while_loop: cond must return a scalar, received {condition}.")
    result = body(*values)
    result = _specs(tuple(result) if isinstance(result, (list, tuple)) else (result,))
    merged = _relaxed(values, result, "while_loop", "loop_vars and the output of body")
    if not is_sequence:
        return merged[0]
    return list(merged) if isinstance(loop_vars, list) else merged


def scan(f, init, xs=None, length=None, reverse=False, unroll=1):
    """Traces `f(carry, x)` once; the ys are stacked along a new leading axis of the scan's length."""
    if xs is None and length is None:
        raise ValueError("scan: pass `xs` to scan over, or `length` when `xs` is None.")
    steps = as_int(length)
    x_slice = None
    if xs is not None:
        flat = [spec(leaf) for leaf in tree.flatten(xs)]
        for leaf in flat:
            if leaf.ndim == 0:
                raise ValueError(f"scan: every leaf of xs needs a leading axis to scan over, received {leaf}.")
            if leaf.shape[0] is not None:
                if steps is not None and steps != leaf.shape[0]:
                    raise ValueError(f"scan: xs leaves have leading sizes {steps} and {leaf.shape[0]}.")
                steps = leaf.shape[0]
        x_slice = tree.pack_sequence_as(xs, [out(leaf.shape[1:], leaf.dtype) for leaf in flat])
    carry = _specs(init)
    new_carry, y = f(carry, x_slice)
    new_carry = _relaxed(carry, _specs(new_carry), "scan", "init and the carry returned by f")
    ys = tree.map_structure(lambda leaf: None if leaf is None else out((steps,) + spec(leaf).shape, spec(leaf).dtype), y)
    return new_carry, ys


# -- indexing ------------------------------------------------------------------------------------


def _slice_length(dim, index):
    start, stop, step = (as_int(v) for v in (index.start, index.stop, index.step))
    if any(is_symbolic(v) for v in (index.start, index.stop, index.step)):
        return None
    step = 1 if step is None else step
    if step == 0:
        raise ValueError("getitem: slice step cannot be zero.")
    if dim is not None:
        return len(range(*builtins.slice(start, stop, step).indices(dim)))
    # Unknown size: exact only when both ends count from the start (x[:, 2:5] has 3).
    if step > 0 and stop is not None and stop >= 0 and (start is None or start >= 0):
        return len(range(start or 0, stop, step))
    return None


def _index_spec(index):
    if isinstance(index, (list, np.ndarray)) or (isinstance(index, np.generic) and not isinstance(index, np.integer)):
        array = np.asarray(index)
        return out(array.shape, standardize_dtype(array.dtype))
    return spec(index)


def getitem(x, key):
    """`x[key]` with ints, slices, None, Ellipsis and integer/bool index tensors (NumPy rules)."""
    x = spec(x)
    entries = list(key) if isinstance(key, tuple) else [key]
    consumed = 0
    for entry in entries:
        if entry is None or entry is Ellipsis:
            continue
        if isinstance(entry, (KerasTensor, Variable, list, np.ndarray)) and _index_spec(entry).dtype == "bool":
            consumed += _index_spec(entry).ndim
        else:
            consumed += 1
    ellipses = [i for i, e in enumerate(entries) if e is Ellipsis]
    if len(ellipses) > 1:
        raise IndexError("getitem: an index can only have a single ellipsis ('...').")
    if consumed > x.ndim:
        raise IndexError(f"getitem: too many indices ({consumed}) for {x}.")
    fill = [builtins.slice(None)] * (x.ndim - consumed)
    if ellipses:
        entries[ellipses[0] : ellipses[0] + 1] = fill
    else:
        entries += fill
    # With an index tensor present, integer entries are advanced indices too (NumPy rules).
    has_arrays = any(
        not isinstance(e, (builtins.slice, int, np.integer)) and e is not None and e is not Ellipsis for e in entries
    )
    result = []
    advanced = []  # (position in result, index shape)
    dim_index = 0
    for entry in entries:
        if entry is None:
            result.append(1)
            continue
        if isinstance(entry, builtins.slice):
            result.append(_slice_length(x.shape[dim_index], entry))
            dim_index += 1
            continue
        if isinstance(entry, (int, np.integer)) and not isinstance(entry, bool):
            dim = x.shape[dim_index]
            if dim is not None and not -dim <= int(entry) < dim:
                raise IndexError(f"getitem: index {int(entry)} is out of bounds for axis {dim_index} of {x}.")
            if has_arrays:
                advanced.append((len(result), ()))
            dim_index += 1
            continue
        index = _index_spec(entry)
        if index.dtype == "bool":
            covered = x.shape[dim_index : dim_index + index.ndim]
            broadcast_shapes(covered, index.shape, name="getitem (boolean mask)")
            advanced.append((len(result), (None,)))
            dim_index += index.ndim
        elif index.dtype.startswith(("int", "uint")):
            advanced.append((len(result), index.shape))
            dim_index += 1
        else:
            raise IndexError(f"getitem: unsupported index {entry!r} (of dtype {index.dtype}).")
    if advanced:
        shape = broadcast_shapes(*[s for _, s in advanced], name="getitem (index tensors)")
        positions = [p for p, _ in advanced]
        # NumPy: advanced indices next to each other keep their place; separated ones go first.
        adjacent = all(b == a for a, b in zip(positions, positions[1:]))
        at = positions[0] if adjacent else 0
        result = result[:at] + list(shape) + result[at:]
    return out(result, x.dtype)
