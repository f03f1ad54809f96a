"""Conversion, dtype-promotion and shape helpers shared by the TensorFlow backend's op modules."""

import numpy as np
import tensorflow as tf

from kbridge import config
from kbridge.backend.dtypes import (
    FLOAT_TYPES,
    INT_TYPES,
    result_type,
    standardize_dtype,
)
from kbridge.variables import Variable

Tensor = tf.Tensor
_WEAK = (bool, int, float, complex)
_INT32_RANGE = (-(2**31), 2**31)

# Keras promotion results, keyed by the two operands' dtype names (or Python
# scalar types for weak operands) and the float type then in force.
_promotions = {}


def promote(a, b):
    """Returns the Keras 3 result dtype name of operands with dtype names (or Python types) `a`, `b`."""
    floatx = config.floatx()
    key = (a, b, floatx)
    hit = _promotions.get(key)
    if hit is None:
        hit = _promotions[key] = result_type(a, b)
    return hit


def cast_to(x, dtype):
    """`x` as a tensor of `dtype`. Python and NumPy numbers are converted in NumPy: `tf.cast`
    makes them a float32 tensor first, which rounds a float64 value (or overflows it)."""
    if isinstance(x, (bool, int, float, list, tuple, np.generic, np.ndarray)):
        return tf.constant(np.asarray(x).astype(tf.as_dtype(dtype).as_numpy_dtype))
    return tf.cast(x, dtype)


def tensor(x, dtype=None):
    """Returns `x` as a `tf.Tensor`, cast to the dtype name `dtype` when given.

    Args:
        x: a tensor, `tf.Variable`, `kbridge.Variable`, NumPy array, Python scalar or (nested) list.
        dtype: a standard dtype name, or None to keep (or infer) the dtype.
    """
    if isinstance(x, Tensor):
        if dtype is None or x.dtype.name == dtype:
            return x
        return tf.cast(x, dtype)
    return _convert(x, dtype)


def _convert(x, dtype):
    if isinstance(x, Variable):
        return tensor(x.value, dtype)
    if isinstance(x, (tf.Variable, tf.IndexedSlices)):
        return tensor(tf.convert_to_tensor(x), dtype)
    if isinstance(x, bool):
        return tf.constant(x) if dtype is None or dtype == "bool" else tf.cast(tf.constant(x), dtype)
    if isinstance(x, int):
        if dtype is None:
            dtype = "int32" if _INT32_RANGE[0] <= x < _INT32_RANGE[1] else "int64"
        return _scalar(x, dtype)
    if isinstance(x, float):
        return _scalar(x, dtype or config.floatx())
    if isinstance(x, (np.ndarray, np.generic)):
        if x.dtype.kind in "US":
            return tf.constant(x.astype(str) if x.dtype.kind == "U" else x, dtype="string")
        value = tf.convert_to_tensor(x)
        return value if dtype is None or value.dtype.name == dtype else tf.cast(value, dtype)
    if isinstance(x, (list, tuple)):
        return _convert_sequence(x, dtype)
    if isinstance(x, complex):
        return tf.constant(x, dtype or "complex64")
    if isinstance(x, str):
        return tf.constant(x, "string")
    if isinstance(x, tf.SparseTensor):
        return tensor(tf.sparse.to_dense(x), dtype)
    # Other array-likes (jax/torch arrays, objects with __array__) go through NumPy.
    return _convert(np.asarray(x), dtype)


def _scalar(value, dtype):
    try:
        return tf.constant(value, dtype)
    except (TypeError, ValueError):
        # e.g. 0.5 as int32, 2 as bfloat16 in some builds: convert, then cast (truncating).
        return tf.cast(tf.constant(value), dtype)


def _leaves(value, out):
    if isinstance(value, (list, tuple)):
        for item in value:
            _leaves(item, out)
    else:
        out.append(value)
    return out


def _leaf_dtype(leaf):
    if isinstance(leaf, _WEAK):
        return type(leaf)
    if isinstance(leaf, Variable):
        return leaf.dtype
    dtype = getattr(leaf, "dtype", None)
    if dtype is None:
        return tensor(leaf).dtype.name
    return standardize_dtype(dtype)


def _convert_sequence(x, dtype):
    leaves = _leaves(x, [])
    if dtype is None:
        if leaves and all(isinstance(leaf, str) for leaf in leaves):
            return tf.constant(x, "string")
        dtype = result_type(*[_leaf_dtype(leaf) for leaf in leaves]) if leaves else config.floatx()
    if any(isinstance(leaf, (Tensor, tf.Variable, Variable)) for leaf in leaves):
        # Sequences holding tensors (e.g. shapes with dynamic entries) are stacked.
        return _stack_nested(x, dtype)
    if dtype == "int32" and any(
        isinstance(leaf, int) and not _INT32_RANGE[0] <= leaf < _INT32_RANGE[1] for leaf in leaves
    ):
        dtype = "int64"
    return tf.constant(np.asarray(x, dtype=_np_dtype(dtype)), dtype)


def _stack_nested(x, dtype):
    if isinstance(x, (list, tuple)):
        return tf.stack([_stack_nested(item, dtype) for item in x])
    return tensor(x, dtype)


def _np_dtype(dtype):
    # NumPy has no bfloat16; TensorFlow casts from float32 exactly enough for constants.
    return "float32" if dtype == "bfloat16" else dtype


def dtype_of(x):
    """The dtype name of `x`: a dtype name for tensor-likes, the Python type for weak scalars."""
    if isinstance(x, Tensor):
        return x.dtype.name
    if isinstance(x, _WEAK):
        return type(x)
    return _leaf_dtype(x) if not isinstance(x, (list, tuple)) else tensor(x).dtype.name


def pair(x1, x2):
    """Converts two operands to tensors of their Keras-promoted common dtype."""
    if isinstance(x1, Tensor) and isinstance(x2, Tensor):
        if x1.dtype is x2.dtype:  # DTypes are interned
            return x1, x2
        dtype = promote(x1.dtype.name, x2.dtype.name)
        return tensor(x1, dtype), tensor(x2, dtype)
    if isinstance(x1, (list, tuple)):
        x1 = tensor(x1)
    if isinstance(x2, (list, tuple)):
        x2 = tensor(x2)
    dtype = promote(dtype_of(x1), dtype_of(x2))
    return tensor(x1, dtype), tensor(x2, dtype)


def common(values, extra=()):
    """Converts each of `values` to a tensor of their common promoted dtype (with `extra` dtypes)."""
    values = [tensor(v) if isinstance(v, (list, tuple)) else v for v in values]
    dtype = result_type(*[dtype_of(v) for v in values], *extra)
    return [tensor(v, dtype) for v in values], dtype


def is_float(dtype):
    """Whether the dtype name is a floating-point type."""
    return dtype in FLOAT_TYPES


def is_int(dtype):
    """Whether the dtype name is an (unsigned) integer type."""
    return dtype in INT_TYPES


def to_float(x):
    """`x` as a tensor; integers and bools become `floatx()` (Keras: `result_type(x, float)`)."""
    x = tensor(x)
    name = x.dtype.name
    if name in FLOAT_TYPES:
        return x
    target = promote(name, float)
    return x if target == name else tf.cast(x, target)


def dims(x):
    """The shape of tensor `x` as a list of ints (static) and scalar int32 tensors (dynamic)."""
    static = x.shape.as_list()
    if None not in static:
        return static
    dynamic = tf.shape(x)
    return [d if d is not None else dynamic[i] for i, d in enumerate(static)]


def is_static(value):
    """Whether `value` is a Python (or NumPy) integer rather than a tensor."""
    return isinstance(value, (int, np.integer))


def shape_arg(shape):
    """Turns a shape (ints and scalar tensors, or a 1-D tensor) into what TensorFlow ops accept."""
    if isinstance(shape, (int, np.integer)):
        return [int(shape)]
    if isinstance(shape, Tensor):
        return shape
    if isinstance(shape, Variable):
        return tensor(shape)
    shape = tuple(shape)
    if all(isinstance(d, (int, np.integer)) for d in shape):
        return [int(d) for d in shape]
    return tf.stack([tf.cast(tensor(d), "int32") if not is_static(d) else tf.constant(int(d)) for d in shape])


def int_list(values):
    """Turns a sequence of ints and scalar tensors into a list of ints or a 1-D int32 tensor."""
    return shape_arg(values)


def canonical_axis(axis, ndim, op="op"):
    """Returns `axis` as a non-negative int, validating it against `ndim`."""
    if not -ndim <= axis < max(ndim, 1):
        raise ValueError(f"{op}: axis {axis} is out of bounds for a tensor of rank {ndim}")
    return axis % ndim if ndim else 0


def axis_list(axis, ndim, op="op"):
    """Returns `axis` (None, int or sequence) as a sorted list of non-negative ints (None -> all)."""
    if axis is None:
        return list(range(ndim))
    if isinstance(axis, (int, np.integer)):
        axis = [axis]
    return sorted(canonical_axis(int(a), ndim, op) for a in axis)


def reduce_axis(axis):
    """`axis` in the form `tf.reduce_*` accepts (None, int or list)."""
    if axis is None or isinstance(axis, (int, np.integer)):
        return axis
    return list(axis)


def padding_arg(pairs):
    """Paddings `[[before, after], ...]` (ints or scalar tensors) for `tf.pad`."""
    flat = [v for p in pairs for v in p]
    if all(is_static(v) for v in flat):
        return [[int(a), int(b)] for a, b in pairs]
    return tf.reshape(tf.stack([tf.cast(tensor(v), "int32") for v in flat]), [-1, 2])


def ceil_div(a, b):
    """Ceiling of `a / b` for non-negative ints or int tensors."""
    return -((-a) // b)
