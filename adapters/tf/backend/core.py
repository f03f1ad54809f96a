"""Core ops for TensorFlow: conversion, shapes, dtypes, control flow and updates."""

# ruff: noqa: A001, A002
import builtins

import numpy as np
import tensorflow as tf
from kbridge.adapters.tf.backend._common import (
    Tensor,
    dims,
    int_list,
    padding_arg,
    shape_arg,
    tensor,
)

from kbridge.backend.dtypes import standardize_dtype
from kbridge.variables import Variable

__all__ = [
    "cast",
    "cond",
    "convert_to_numpy",
    "convert_to_tensor",
    "dtype",
    "fori_loop",
    "getitem",
    "is_tensor",
    "saturate_cast",
    "scan",
    "scatter",
    "scatter_update",
    "shape",
    "slice",
    "slice_update",
    "stop_gradient",
    "unstack",
    "while_loop",
]

_TENSOR_LIKE = (tf.Tensor, tf.Variable, tf.IndexedSlices)


def cast(x, dtype):
    """Casts `x` to `dtype`."""
    return tensor(x, standardize_dtype(dtype))


def convert_to_tensor(x, dtype=None, sparse=None):
    """Converts `x` (array, list, scalar, Variable) to a `tf.Tensor`.

    Python ints become int32, Python floats `floatx()`, NumPy arrays keep their dtype.
    A `tf.SparseTensor` stays sparse unless `sparse=False`.
    """
    if dtype is not None:
        dtype = standardize_dtype(dtype)
    if isinstance(x, tf.SparseTensor) and sparse is not False:
        return x if dtype is None or x.dtype.name == dtype else tf.cast(x, dtype)
    return tensor(x, dtype)


def convert_to_numpy(x):
    """Returns `x` as a NumPy array (eager tensors only)."""
    if isinstance(x, Variable):
        x = x.value
    if isinstance(x, tf.SparseTensor):
        x = tf.sparse.to_dense(x)
    if isinstance(x, _TENSOR_LIKE):
        return np.asarray(tf.convert_to_tensor(x).numpy())
    if isinstance(x, (list, tuple)):
        return np.asarray(tensor(x).numpy())
    return np.asarray(x)


def is_tensor(x):
    """Whether `x` is a TensorFlow tensor (or `tf.Variable`)."""
    return isinstance(x, _TENSOR_LIKE)


def shape(x):
    """Returns the shape of `x` as a tuple: ints, and scalar int32 tensors for sizes unknown while tracing."""
    if not isinstance(x, _TENSOR_LIKE):
        x = tensor(x)
    static = x.shape
    if static.rank is None:
        raise ValueError(f"shape: the rank of {x!r} is unknown")
    static = static.as_list()
    if None not in static:
        return tuple(static)
    dynamic = tf.shape(x)
    return tuple(d if d is not None else dynamic[i] for i, d in enumerate(static))


def dtype(x):
    """Returns the dtype of `x` as a standard string such as "float32"."""
    if isinstance(x, _TENSOR_LIKE):
        return x.dtype.name
    if isinstance(x, Variable):
        return x.dtype
    return tensor(x).dtype.name


def stop_gradient(variable):
    """Returns `variable` with gradients stopped."""
    return tf.stop_gradient(tensor(variable))


def slice(inputs, start_indices, shape):
    """Returns a slice of `inputs` of size `shape` starting at `start_indices`."""
    inputs = tensor(inputs)
    begin = _index_vector(start_indices)
    size = _index_vector(shape)
    return tf.slice(inputs, begin, size)


def _index_vector(values):
    if isinstance(values, (Tensor, Variable, np.ndarray)):
        return tf.cast(tensor(values), "int32")
    return int_list(values)


def slice_update(inputs, start_indices, updates):
    """Returns `inputs` with the slice at `start_indices` replaced by `updates`."""
    inputs = tensor(inputs)
    updates = tensor(updates, inputs.dtype.name)
    if isinstance(start_indices, (Tensor, Variable, np.ndarray)):
        start_indices = tf.unstack(tf.cast(tensor(start_indices), "int32"), num=inputs.shape.rank)
    starts = list(start_indices)
    if len(starts) != inputs.shape.rank:
        raise ValueError(
            f"slice_update: expected {inputs.shape.rank} start indices for inputs of shape {inputs.shape}, "
            f"received {start_indices!r}"
        )
    full, part = dims(inputs), dims(updates)
    # Pad the update (and a mask of it) out to the full shape, then select: works
    # with dynamic offsets and sizes and keeps gradients for both operands.
    pads = padding_arg([(s, f - s - p) for s, f, p in zip(starts, full, part)])
    padded = tf.pad(updates, pads)
    mask = tf.pad(tf.ones_like(updates, dtype="bool"), pads)
    return tf.where(mask, padded, inputs)


def scatter(indices, values, shape):
    """Returns a zero tensor of `shape` with `values` added at `indices` (duplicates summed)."""
    indices = tensor(indices)
    if indices.dtype.name not in ("int32", "int64"):
        indices = tf.cast(indices, "int32")
    values = tensor(values)
    size = shape_arg(shape)
    if not isinstance(size, list):
        size = tf.cast(size, indices.dtype)
    return tf.scatter_nd(indices, values, size)


def scatter_update(inputs, indices, updates):
    """Returns `inputs` with the entries at `indices` set to `updates`."""
    inputs = tensor(inputs)
    indices = tensor(indices)
    if indices.dtype.name not in ("int32", "int64"):
        indices = tf.cast(indices, "int32")
    return tf.tensor_scatter_nd_update(inputs, indices, tensor(updates, inputs.dtype.name))


def cond(pred, true_fn, false_fn):
    """Calls `true_fn()` if `pred` else `false_fn()`; a `tf.cond` when `pred` is a tensor."""
    if isinstance(pred, Variable):
        pred = pred.value
    if not isinstance(pred, _TENSOR_LIKE):
        return true_fn() if pred else false_fn()
    pred = tensor(pred)
    if pred.dtype != tf.bool:
        pred = tf.cast(pred, "bool")
    return tf.cond(pred, true_fn, false_fn)


def _as_loop_value(value):
    return tf.nest.map_structure(lambda leaf: leaf if isinstance(leaf, Tensor) else tensor(leaf), value)


def fori_loop(lower, upper, body_fun, init_val):
    """For loop `val = body_fun(i, val)` for i in [lower, upper), as a `tf.while_loop`."""
    if isinstance(lower, int) and isinstance(upper, int):
        index_dtype = "int32"
    else:
        index_dtype = "int64" if "int64" in (_int_dtype(lower), _int_dtype(upper)) else "int32"
    lower = tensor(lower, index_dtype)
    upper = tensor(upper, index_dtype)
    init_val = _as_loop_value(init_val)

    def body(i, val):
        return i + 1, body_fun(i, val)

    return tf.while_loop(lambda i, val: i < upper, body, (lower, init_val))[1]


def _int_dtype(value):
    return tensor(value).dtype.name if not isinstance(value, int) else "int32"


def while_loop(cond, body, loop_vars, maximum_iterations=None):
    """While loop over `loop_vars` (a tuple/list, or a single value), as a `tf.while_loop`.

    `cond(*loop_vars)` and `body(*loop_vars)` receive the loop values unpacked; the
    result has the structure of `loop_vars`.
    """
    is_sequence = isinstance(loop_vars, (tuple, list))
    values = tuple(loop_vars) if is_sequence else (loop_vars,)
    values = _as_loop_value(values)

    def wrapped_body(*args):
        out = body(*args)
        if is_sequence:
            return tuple(out)
        return (out,)

    out = tf.while_loop(cond, wrapped_body, values, maximum_iterations=maximum_iterations)
    if not is_sequence:
        return out[0]
    return list(out) if isinstance(loop_vars, list) else tuple(out)


def scan(f, init, xs=None, length=None, reverse=False, unroll=1):
    """Scans `f(carry, x) -> (carry, y)` over the leading axis of `xs` (as `jax.lax.scan`).

    The first step runs outside the `tf.while_loop` so the structure and dtypes of
    `y` are known for the accumulators; the sequence must therefore be non-empty.
    Returns `(final_carry, stacked_ys)`.
    """
    if not callable(f):
        raise TypeError(f"scan: `f` must be callable, received {f!r}")
    if xs is None and length is None:
        raise ValueError("scan: received neither `xs` nor `length`")
    xs_flat = [] if xs is None else [tensor(leaf) for leaf in tf.nest.flatten(xs)]
    if xs_flat:
        n = xs_flat[0].shape[0]
        if n is None:
            n = tf.shape(xs_flat[0])[0]
        if length is not None and isinstance(n, int) and int(length) != n:
            raise ValueError(f"scan: `length` {length} does not match the leading size {n} of `xs`")
    else:
        n = int(length)
    if isinstance(n, int) and n == 0:
        raise ValueError("scan: cannot scan over an empty sequence")

    def x_at(i):
        if xs is None:
            return None
        return tf.nest.pack_sequence_as(xs, [arrays[k].read(i) for k in range(len(xs_flat))])

    arrays = [
        tf.TensorArray(x.dtype, size=n, element_shape=x.shape[1:], clear_after_read=False).unstack(x) for x in xs_flat
    ]
    first = n - 1 if reverse else 0
    carry, y = f(_as_loop_value(init), x_at(first))
    carry = _as_loop_value(carry)
    y_flat = [] if y is None else [tensor(leaf) for leaf in tf.nest.flatten(y)]
    outputs = [tf.TensorArray(leaf.dtype, size=n, element_shape=leaf.shape).write(first, leaf) for leaf in y_flat]
    step = -1 if reverse else 1

    def body(i, carry, outputs):
        new_carry, new_y = f(carry, x_at(i))
        new_flat = [] if new_y is None else tf.nest.flatten(new_y)
        new_outputs = [out.write(i, tensor(leaf)) for out, leaf in zip(outputs, new_flat)]
        return i + step, _as_loop_value(new_carry), new_outputs

    start = tf.constant(first + step) if isinstance(n, int) else first + step
    if reverse:
        keep_going = lambda i, carry, outputs: i >= 0  # noqa: E731
    else:
        keep_going = lambda i, carry, outputs: i < n  # noqa: E731
    parallel = max(int(unroll), 1) if not isinstance(unroll, bool) else (10 if unroll else 1)
    _, carry, outputs = tf.while_loop(keep_going, body, (start, carry, outputs), parallel_iterations=parallel)
    ys = [out.stack() for out in outputs]
    if y is None:
        return carry, None
    return carry, tf.nest.pack_sequence_as(y, ys)


def unstack(x, num=None, axis=0):
    """Splits `x` along `axis` into a list of tensors."""
    return tf.unstack(tensor(x), num=num, axis=axis)


def saturate_cast(x, dtype):
    """Casts `x` to `dtype`, clipping to the range of `dtype` first."""
    dtype = standardize_dtype(dtype)
    x = tensor(x)
    source = x.dtype.name
    low, high = _limits(source)
    out_low, out_high = _limits(dtype)
    if source == "bool":
        return tf.cast(x, dtype)
    np_source = np.dtype("float32" if source == "bfloat16" else source)
    # The target's limits may not be representable in the source type (e.g. int32
    # max in float32 rounds up past it): step them back inside the target range.
    lo = np.asarray(max(low, out_low)).astype(np_source)
    if lo < out_low:
        lo = np.nextafter(lo, 0, dtype=np_source)
    hi = np.asarray(min(high, out_high)).astype(np_source)
    if hi > out_high:
        hi = np.nextafter(hi, 0, dtype=np_source)
    clipped = tf.minimum(tf.maximum(x, tf.constant(lo, source)), tf.constant(hi, source))
    return tf.cast(clipped, dtype)


def _limits(dtype):
    if dtype == "bool":
        return 0, 1
    info = tf.as_dtype(dtype)
    return info.min, info.max


def getitem(x, key):
    """Returns `x[key]`: ints, slices, None, Ellipsis, plus one integer or boolean array index."""
    x = tensor(x)
    items = key if isinstance(key, tuple) else (key,)
    advanced = [i for i, item in enumerate(items) if _is_array_index(item)]
    if not advanced:
        return x[key]
    if len(advanced) > 1:
        raise ValueError(f"getitem: at most one array index is supported, received {key!r}")
    where = advanced[0]
    index = items[where]
    index = tensor(index if not isinstance(index, list) else np.asarray(index))
    # A boolean index of rank r consumes r axes: stand r full slices in for it.
    width = index.shape.rank if index.dtype == tf.bool else 1
    items = items[:where] + (builtins.slice(None),) * width + items[where + 1 :]
    basic = x[items]
    axis = _result_axis(items[:where], x.shape.rank, items)
    if index.dtype == tf.bool:
        return tf.boolean_mask(basic, index, axis=axis)
    if index.dtype.name not in ("int32", "int64"):
        raise TypeError(f"getitem: array indices must be integers or booleans, received dtype {index.dtype.name}")
    size = tf.shape(basic, out_type=index.dtype)[axis]
    index = tf.where(index < 0, index + size, index)
    return tf.gather(basic, index, axis=axis)


def _is_array_index(item):
    if isinstance(item, (list, np.ndarray)):
        return True
    if isinstance(item, Variable):
        return True
    if isinstance(item, _TENSOR_LIKE):
        return item.shape.rank != 0 or item.dtype == tf.bool
    return False


def _result_axis(before, rank, items):
    # The array index sits after the dims produced by the items before it.
    consumed = sum(1 for item in items if item is not None and item is not Ellipsis)
    axis = 0
    for item in before:
        if item is None:
            axis += 1
        elif item is Ellipsis:
            axis += rank - consumed
        elif isinstance(item, builtins.slice):
            axis += 1
    return axis
