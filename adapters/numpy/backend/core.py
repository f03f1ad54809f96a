"""NumPy backend: conversion, dtypes, shapes, control flow and updates (`kbridge.ops.core`).

Also holds the helpers every other module of the backend uses: turning arguments
into arrays (`tensor`), and promoting operands with Keras 3 rules (`promote`).
"""

# ruff: noqa: A001, A002
import builtins

import numpy as np

from kbridge import config
from kbridge.backend.dtypes import result_type, standardize_dtype
from kbridge.utils import tree
from kbridge.variables import Variable

ARRAY_TYPES = (np.ndarray, np.generic)
# Python scalars are "weak" in promotion; exact types, so NumPy scalars (np.float64
# subclasses float) are not mistaken for them.
WEAK_TYPES = frozenset({bool, int, float, complex})
_INT32_MIN, _INT32_MAX = -(2**31), 2**31 - 1

_np_dtypes = {}
_promotions = {}


# -- helpers shared by the backend -------------------------------------------------------------


def np_dtype(dtype):
    """Returns the NumPy dtype for a dtype name or object (bfloat16 needs `ml_dtypes`)."""
    if dtype is None:
        dtype = config.floatx()
    try:
        found = _np_dtypes.get(dtype)
    except TypeError:
        found = None
    if found is None:
        name = standardize_dtype(dtype)
        if name == "bfloat16":
            try:
                import ml_dtypes
            except ImportError as error:
                raise TypeError("The numpy backend needs the `ml_dtypes` package for bfloat16.") from error
            found = np.dtype(ml_dtypes.bfloat16)
        elif name == "string":
            found = np.dtype(np.str_)
        else:
            found = np.dtype(name)
        try:
            _np_dtypes[dtype] = found
        except TypeError:
            pass
    return found


def tensor(x):
    """Returns `x` as a NumPy array or scalar (reads Variables, converts Python values)."""
    if isinstance(x, ARRAY_TYPES):
        return x
    return convert_to_tensor(x)


def result_dtype(*keys):
    """NumPy dtype of Keras 3 promotion of `keys` (dtypes, or Python types for weak scalars)."""
    # floatx() joins the key: Python floats promote to it, and it can change at run time.
    cache_key = (config.floatx(), keys)
    try:
        return _promotions[cache_key]
    except KeyError:
        pass
    except TypeError:
        return np_dtype(result_type(*keys))
    found = _promotions[cache_key] = np_dtype(result_type(*keys))
    return found


def _prepared(x):
    if isinstance(x, ARRAY_TYPES):
        return x, x.dtype
    kind = type(x)
    if kind in WEAK_TYPES:
        return x, kind
    x = tensor(x)
    return x, x.dtype


def as_dtype(x, dtype):
    """Returns array-or-scalar `x` with NumPy dtype `dtype` (no copy when it already has it)."""
    if isinstance(x, ARRAY_TYPES):
        return x if x.dtype == dtype else x.astype(dtype)
    try:
        return np.asarray(x, dtype=dtype)
    except OverflowError:
        # A Python int outside a narrow dtype wraps, as in the compiled frameworks.
        return np.asarray(x).astype(dtype)


def promote(*values, extra=()):
    """Converts `values` to arrays of their common Keras 3 dtype.

    Args:
        *values: tensors, Variables, lists or Python scalars (weak).
        extra: more dtypes / Python types joining the promotion (e.g. `(float,)`
            for ops that always produce floats).

    Returns:
        `(arrays, dtype)`.
    """
    prepared = [_prepared(x) for x in values]
    dtype = result_dtype(*[key for _, key in prepared], *extra)
    return [as_dtype(x, dtype) for x, _ in prepared], dtype


def float_dtype(dtype):
    """The dtype float ops give for inputs of `dtype`: ints and bools become `floatx()`."""
    return result_dtype(dtype, float)


def to_float(x):
    """`x` as a floating (or complex) array: ints and bools are cast to `floatx()`."""
    x = tensor(x)
    dtype = float_dtype(x.dtype)
    return x if x.dtype == dtype else x.astype(dtype)


def axis_arg(axis):
    """Normalizes an `axis` argument for NumPy (lists become tuples)."""
    if isinstance(axis, list):
        return tuple(axis)
    return axis


def shape_arg(shape):
    """Normalizes a `shape` argument (int, sequence, or 1-D tensor) to a tuple of ints."""
    if isinstance(shape, (int, np.integer)):
        return (int(shape),)
    if isinstance(shape, Variable):
        shape = shape.value
    if isinstance(shape, np.ndarray):
        return tuple(int(d) for d in shape.reshape(-1))
    return tuple(int(d) for d in shape)


def _is_float_kind(dtype):
    return dtype.kind in "fc" or dtype.name == "bfloat16"


def _limits(dtype):
    if dtype.name == "bfloat16":
        import ml_dtypes

        return ml_dtypes.finfo(dtype)
    return np.finfo(dtype) if dtype.kind in "fc" else np.iinfo(dtype)


# -- conversion ----------------------------------------------------------------------------------


def _default_dtype_of_python(value):
    kind = type(value)
    if kind is bool:
        return np.dtype(np.bool_)
    if kind is int:
        return np.dtype(np.int32) if _INT32_MIN <= value <= _INT32_MAX else np.dtype(np.int64)
    if kind is float:
        return np_dtype(config.floatx())
    return np.dtype(np.complex64)


def _leaf_value(leaf):
    return leaf.value if isinstance(leaf, Variable) else leaf


def _infer_sequence_dtype(values):
    keys = []
    wide_int = False
    for leaf in tree.flatten(values):
        leaf_dtype = getattr(leaf, "dtype", None)
        if leaf_dtype is not None:
            keys.append(leaf_dtype)
        else:
            keys.append(type(leaf))
            if type(leaf) is int and not _INT32_MIN <= leaf <= _INT32_MAX:
                wide_int = True
    dtype = result_dtype(*keys)
    if wide_int and dtype == np.int32:
        dtype = np.dtype(np.int64)
    return dtype


def convert_to_tensor(x, dtype=None, sparse=None):
    """Converts `x` (array, list, scalar, Variable) to a NumPy array.

    Python ints become int32, Python floats `floatx()`, NumPy arrays keep their dtype.
    """
    if sparse:
        raise ValueError("convert_to_tensor: sparse=True is not supported by the numpy backend.")
    if isinstance(x, Variable):
        x = x.value
    target = None if dtype is None else np_dtype(dtype)
    if isinstance(x, np.ndarray):
        return x if target is None or x.dtype == target else x.astype(target)
    if isinstance(x, np.generic):
        x = np.asarray(x)
        return x if target is None or x.dtype == target else x.astype(target)
    kind = type(x)
    if kind in (list, tuple):
        if builtins.any(isinstance(leaf, Variable) for leaf in tree.flatten(x)):
            x = tree.map_structure(_leaf_value, x)
        if target is None:
            target = _infer_sequence_dtype(x)
    elif kind in WEAK_TYPES:
        if target is None:
            target = _default_dtype_of_python(x)
    elif target is None:
        # Another framework's tensor (or anything with __array__): keep its dtype.
        return np.asarray(x)
    if target.name == "bfloat16" or (target.kind in "iub" and kind not in WEAK_TYPES):
        # Goes through the natural dtype first: NumPy refuses some direct conversions
        # (floats in a list to int, anything to bfloat16).
        array = np.asarray(x)
        with np.errstate(invalid="ignore", over="ignore"):
            return array.astype(target)
    return np.asarray(x, dtype=target)


def convert_to_numpy(x):
    """Returns `x` as a NumPy array (a copy, so callers may modify it)."""
    return np.array(tensor(x))


def is_tensor(x):
    """Whether `x` is a NumPy array or scalar."""
    return isinstance(x, ARRAY_TYPES)


def shape(x):
    """Returns the shape of `x` as a tuple of ints."""
    if isinstance(x, ARRAY_TYPES) or isinstance(x, Variable):
        return tuple(x.shape)
    return tuple(np.shape(tensor(x)))


def dtype(x):
    """Returns the dtype of `x` as a standard string such as "float32"."""
    if isinstance(x, ARRAY_TYPES) or isinstance(x, Variable):
        return standardize_dtype(x.dtype)
    return standardize_dtype(tensor(x).dtype)


def cast(x, dtype):
    """Casts `x` to `dtype` (floats to ints truncate toward zero)."""
    # Python numbers go straight to `dtype` (as in Keras): through floatx() first, a float64
    # constant such as 1 / sqrt(d) would be rounded to float32.
    x = np.asarray(x) if isinstance(x, (bool, int, float, list, tuple)) else tensor(x)
    target = np_dtype(dtype)
    if x.dtype == target:
        return x
    if target.kind in "iub" and _is_float_kind(x.dtype):
        # NaN/inf to int is undefined; NumPy warns, the other frameworks do not.
        with np.errstate(invalid="ignore"):
            return x.astype(target)
    return x.astype(target)


def stop_gradient(variable):
    """Returns `variable` as an array (NumPy has no gradients)."""
    return tensor(variable)


def saturate_cast(x, dtype):
    """Casts `x` to `dtype`, clipping to the range of `dtype` first (NaN becomes 0 for integer targets)."""
    x = tensor(x)
    target = np_dtype(dtype)
    if target.kind == "b" or x.dtype.kind == "b":
        return cast(x, target)
    source_info, target_info = _limits(x.dtype), _limits(target)
    if source_info.min >= target_info.min and source_info.max <= target_info.max:
        return cast(x, target)
    if _is_float_kind(x.dtype):
        values = x.astype(np.float64)
        low, high = float(target_info.min), float(target_info.max)
        if target.kind in "iu":
            # float64 may round a 64-bit limit outward, past the target's range.
            if int(low) < target_info.min:
                low = np.nextafter(low, 0.0)
            if int(high) > target_info.max:
                high = np.nextafter(high, 0.0)
            values = np.where(np.isnan(values), 0.0, values)
        return cast(np.clip(values, low, high), target)
    low = int(builtins.max(source_info.min, target_info.min))
    high = int(builtins.min(source_info.max, target_info.max))
    return cast(np.clip(x, low, high), target)


# -- slicing and updates ----------------------------------------------------------------------


def _index_list(indices):
    return [int(i) for i in np.reshape(tensor(indices), (-1,))]


def _clamped_starts(array_shape, starts, sizes, name):
    if len(starts) != len(array_shape):
        raise ValueError(
            f"{name}: start_indices must have one entry per dimension of the input "
            f"(rank {len(array_shape)}), received {starts}"
        )
    clamped = []
    for dim, start, size in zip(array_shape, starts, sizes):
        if size > dim:
            raise ValueError(f"{name}: slice size {size} exceeds the dimension {dim} (shape {tuple(array_shape)}).")
        # As jax.lax.dynamic_slice: out-of-range starts are moved so the slice fits.
        clamped.append(builtins.min(builtins.max(start, 0), dim - size))
    return clamped


def slice(inputs, start_indices, shape):
    """Returns the slice of `inputs` of size `shape` starting at `start_indices` (starts are clamped)."""
    inputs = tensor(inputs)
    starts = _index_list(start_indices)
    sizes = list(shape_arg(shape))
    if len(sizes) != len(starts):
        raise ValueError(f"slice: start_indices {starts} and shape {tuple(sizes)} must have the same length.")
    sizes = [dim - builtins.max(start, 0) if size == -1 else size for dim, start, size in zip(inputs.shape, starts, sizes)]
    starts = _clamped_starts(inputs.shape, starts, sizes, "slice")
    return inputs[tuple(builtins.slice(s, s + n) for s, n in zip(starts, sizes))]


def slice_update(inputs, start_indices, updates):
    """Returns `inputs` with the block at `start_indices` replaced by `updates` (starts are clamped)."""
    inputs = tensor(inputs)
    updates = as_dtype(tensor(updates), inputs.dtype)
    starts = _index_list(start_indices)
    if updates.ndim != inputs.ndim:
        raise ValueError(
            f"slice_update: updates must have the rank of inputs ({inputs.ndim}), received shape {updates.shape}."
        )
    starts = _clamped_starts(inputs.shape, starts, updates.shape, "slice_update")
    result = np.array(inputs)
    result[tuple(builtins.slice(s, s + n) for s, n in zip(starts, updates.shape))] = updates
    return result


def _index_tuple(indices):
    indices = np.asarray(tensor(indices))
    if indices.ndim == 0:
        raise ValueError("scatter: indices must have at least one dimension, received a scalar.")
    return tuple(np.moveaxis(indices, -1, 0))


def scatter(indices, values, shape):
    """Returns a zero tensor of `shape` with `values` added at `indices` (duplicates sum)."""
    values = tensor(values)
    result = np.zeros(shape_arg(shape), dtype=values.dtype)
    np.add.at(result, _index_tuple(indices), values)
    return result


def scatter_update(inputs, indices, updates):
    """Returns `inputs` with the entries at `indices` (shape (..., k)) set to `updates`."""
    inputs = tensor(inputs)
    result = np.array(inputs)
    result[_index_tuple(indices)] = as_dtype(tensor(updates), inputs.dtype)
    return result


def getitem(x, key):
    """Returns `x[key]` (NumPy indexing; Variables and lists inside `key` are read)."""
    if isinstance(key, Variable):
        key = key.value
    elif isinstance(key, tuple):
        key = tuple(k.value if isinstance(k, Variable) else k for k in key)
    return tensor(x)[key]


def unstack(x, num=None, axis=0):
    """Splits `x` along `axis` into a list of tensors."""
    x = tensor(x)
    length = x.shape[axis]
    if num is not None and num != length:
        raise ValueError(f"unstack: num={num} does not match the size {length} of axis {axis} (shape {x.shape}).")
    moved = np.moveaxis(x, axis, 0)
    return [moved[i] for i in range(length)]


# -- control flow: plain Python on concrete values -----------------------------------------------


def cond(pred, true_fn, false_fn):
    """Calls `true_fn()` if `pred` else `false_fn()`."""
    return true_fn() if bool(tensor(pred)) else false_fn()


def fori_loop(lower, upper, body_fun, init_val):
    """Runs `val = body_fun(i, val)` for i in [lower, upper)."""
    value = init_val
    for index in range(int(tensor(lower)), int(tensor(upper))):
        value = body_fun(index, value)
    return value


def while_loop(cond, body, loop_vars, maximum_iterations=None):
    """Runs `loop_vars = body(*loop_vars)` while `cond(*loop_vars)`; keeps the structure of `loop_vars`."""
    is_sequence = isinstance(loop_vars, (list, tuple))
    values = tuple(loop_vars) if is_sequence else (loop_vars,)
    count = 0
    while (maximum_iterations is None or count < maximum_iterations) and bool(tensor(cond(*values))):
        values = body(*values)
        values = tuple(values) if isinstance(values, (list, tuple)) else (values,)
        count += 1
    if not is_sequence:
        return values[0]
    return type(loop_vars)(values) if type(loop_vars) in (list, tuple) else values


def _stack_leaves(structure_example, outputs, length):
    leaves = [tree.flatten(y) for y in outputs]
    stacked = []
    for position, example in enumerate(tree.flatten(structure_example)):
        if example is None:
            stacked.append(None)
        elif length == 0:
            example = tensor(example)
            stacked.append(np.zeros((0,) + np.shape(example), dtype=example.dtype))
        else:
            stacked.append(np.stack([tensor(row[position]) for row in leaves]))
    return tree.pack_sequence_as(structure_example, stacked)


def scan(f, init, xs=None, length=None, reverse=False, unroll=1):
    """Scans `f(carry, x) -> (carry, y)` over the leading axis of `xs` (as `jax.lax.scan`).

    Returns:
        `(final_carry, stacked_ys)`.
    """
    if not callable(f):
        raise TypeError(f"scan: `f` must be callable, received {f!r}")
    if isinstance(unroll, bool) is False and (not isinstance(unroll, int) or unroll < 1):
        raise ValueError(f"scan: `unroll` must be a positive int or a bool, received {unroll!r}")
    if xs is None and length is None:
        raise ValueError("scan: pass `xs` to scan over, or `length` when `xs` is None.")
    flat_xs = [tensor(leaf) for leaf in tree.flatten(xs)] if xs is not None else []
    if xs is not None:
        lengths = {leaf.shape[0] for leaf in flat_xs}
        if len(lengths) > 1:
            raise ValueError(f"scan: every leaf of `xs` must have the same leading size, received {sorted(lengths)}")
        steps = lengths.pop() if lengths else int(length)
        if length is not None and int(length) != steps:
            raise ValueError(f"scan: length={length} does not match the leading size {steps} of `xs`.")
    else:
        steps = int(length)

    def x_at(index):
        if xs is None:
            return None
        return tree.pack_sequence_as(xs, [leaf[index] for leaf in flat_xs])

    carry = init
    ys = []
    order = range(steps - 1, -1, -1) if reverse else range(steps)
    for index in order:
        carry, y = f(carry, x_at(index))
        ys.append(y)
    if steps == 0:
        # No step ran: one call on zero slices tells the shapes of the (empty) outputs.
        zero_x = None if xs is None else tree.pack_sequence_as(
            xs, [np.zeros(leaf.shape[1:], leaf.dtype) for leaf in flat_xs]
        )
        _, example = f(init, zero_x)
        return carry, _stack_leaves(example, [], 0)
    if reverse:
        ys.reverse()
    return carry, _stack_leaves(ys[0], ys, steps)
