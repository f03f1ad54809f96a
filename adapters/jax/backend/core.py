"""JAX backend: tensor types, conversion, dtype helpers and the core ops (`kbridge.ops.core`)."""

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from kbridge import config
from kbridge.backend.dtypes import result_type, standardize_dtype
from kbridge.variables import Variable

NAME = "jax"
# Tracers (jit, grad, vmap) are not subclasses of jax.Array, so both are listed.
TENSOR_TYPES = (jax.Array, jax.core.Tracer)
_ARRAY = TENSOR_TYPES

_PY_SCALARS = frozenset({int, float, bool, complex})
_NP_DTYPES = {
    name: jnp.dtype(name)
    for name in (
        "bool", "uint8", "uint16", "uint32", "uint64", "int8", "int16", "int32", "int64",
        "float16", "bfloat16", "float32", "float64", "complex64", "complex128",
    )
}  # fmt: skip
_INEXACT = frozenset(jnp.dtype(n) for n in ("float16", "bfloat16", "float32", "float64", "complex64", "complex128"))
_HALF = frozenset({jnp.dtype("float16"), jnp.dtype("bfloat16")})
_BOOL = jnp.dtype("bool")
_INT32 = jnp.dtype("int32")
_INT32_MIN, _INT32_MAX = -(2**31), 2**31 - 1


# -- dtype helpers -----------------------------------------------------------------------


def _jdt(dtype):
    """Returns the JAX dtype for `dtype` (narrowed to 32 bits unless x64 is enabled)."""
    name = standardize_dtype(dtype)
    np_dtype = _NP_DTYPES.get(name)
    if np_dtype is None:
        raise TypeError(f"The jax backend does not support dtype {name!r}.")
    return jax.dtypes.canonicalize_dtype(np_dtype)


def _floatx():
    return _jdt(config.floatx())


def _to_float(x):
    """`x` unchanged if it has a float/complex dtype, else cast to `floatx()` (Keras rule)."""
    return x if x.dtype in _INEXACT else x.astype(_floatx())


def _sum_dtype(dtype):
    """Accumulator dtype of sum/prod/cumsum: small ints widen to 32 bits, never to 64."""
    name = dtype.name
    if name in ("bool", "int8", "int16"):
        return _INT32
    if name in ("uint8", "uint16"):
        return jnp.dtype("uint32")
    return dtype


def _axis(axis):
    return tuple(axis) if isinstance(axis, list) else axis


# -- conversion --------------------------------------------------------------------------


def _t(x):
    """`x` as a JAX array (fast path for arrays and tracers)."""
    if isinstance(x, _ARRAY):
        return x
    return convert_to_tensor(x)


def _python_dtype(x):
    """Default dtype name for a Python scalar or a pure-Python nested list (Keras rules)."""
    kind = type(x)
    if kind is float:
        return config.floatx()
    if kind is bool:
        return "bool"
    if kind is int:
        return "int32" if _INT32_MIN <= x <= _INT32_MAX else "int64"
    if kind is complex:
        return "complex64"
    array = np.asarray(x)
    if array.dtype.kind == "f":
        return config.floatx()
    if array.dtype.kind in "iu":
        if array.size == 0 or (array.min() >= _INT32_MIN and array.max() <= _INT32_MAX):
            return "int32"
        return "int64"
    if array.dtype.kind == "c":
        return "complex64"
    if array.dtype.kind == "b":
        return "bool"
    raise TypeError(f"convert_to_tensor: cannot convert a value of dtype {array.dtype} to a JAX array: {x!r}")


def _leaves(x, out):
    for item in x:
        if isinstance(item, (list, tuple)):
            _leaves(item, out)
        else:
            out.append(item)
    return out


def _unwrap(x):
    """Nested lists with Variables replaced by their values."""
    if isinstance(x, (list, tuple)):
        return [_unwrap(item) for item in x]
    return x.value if isinstance(x, Variable) else x


def convert_to_tensor(x, dtype=None, sparse=None):
    """Converts `x` (array, list, scalar, Variable) to a JAX array.

    Python floats become `floatx()`, Python ints `int32`, NumPy arrays keep their dtype.
    """
    if sparse:
        raise ValueError("convert_to_tensor: the jax backend does not support sparse=True.")
    if isinstance(x, _ARRAY):
        if dtype is None:
            return x
        target = _jdt(dtype)
        return x if x.dtype == target else x.astype(target)
    if isinstance(x, Variable):
        return convert_to_tensor(x.value, dtype)
    if dtype is None:
        kind = type(x)
        if kind in _PY_SCALARS:
            dtype = _python_dtype(x)
        elif isinstance(x, (list, tuple)):
            leaves = _leaves(x, [])
            if any(type(leaf) not in _PY_SCALARS for leaf in leaves):
                x = _unwrap(x)
                dtype = result_type(*[getattr(leaf, "dtype", leaf) for leaf in _leaves(x, [])])
            else:
                dtype = _python_dtype(x)
        elif isinstance(x, np.ndarray | np.generic):
            return jnp.asarray(x)
        elif isinstance(x, str):
            raise TypeError(f"convert_to_tensor: the jax backend has no string tensors, received {x!r}")
        else:
            return jnp.asarray(x)
    elif isinstance(x, (list, tuple)):
        x = _unwrap(x)
    return jnp.asarray(x, dtype=_jdt(dtype))


def _pair(x1, x2):
    """Both operands ready for a jnp binary op, promoted by Keras rules.

    Strongly typed arrays follow JAX's lattice, which is Keras'. Python scalars stay
    weak, except where JAX would differ: a float meeting ints/bools gives `floatx()`
    (JAX gives float64 under x64) and an int meeting bools gives int32.
    """
    if isinstance(x1, _ARRAY) and isinstance(x2, _ARRAY):
        return x1, x2
    if not isinstance(x1, _ARRAY) and type(x1) not in _PY_SCALARS:
        x1 = convert_to_tensor(x1)
    if not isinstance(x2, _ARRAY) and type(x2) not in _PY_SCALARS:
        x2 = convert_to_tensor(x2)
    if type(x1) in _PY_SCALARS:
        if type(x2) in _PY_SCALARS:
            dtype = result_type(x1, x2)
            return convert_to_tensor(x1, dtype), convert_to_tensor(x2, dtype)
        return x1, _weak_fix(x2, x1)
    if type(x2) in _PY_SCALARS:
        return _weak_fix(x1, x2), x2
    return x1, x2


def _weak_fix(array, scalar):
    """Casts `array` so that a weak Python `scalar` keeps Keras' result dtype."""
    kind = type(scalar)
    dtype = array.dtype
    if kind is float:
        if dtype not in _INEXACT:
            return array.astype(_floatx())
    elif kind is int:
        if dtype == _BOOL:
            return array.astype(_INT32)
    elif kind is complex and dtype not in _INEXACT:
        return array.astype(jnp.complex64)
    return array


def _promote(*values):
    """All `values` as arrays of their common Keras result dtype (None entries kept)."""
    dtypes = [v if type(v) in _PY_SCALARS else v.dtype for v in values if v is not None]
    dtype = _jdt(result_type(*dtypes))
    return [None if v is None else convert_to_tensor(v, dtype) for v in values]


# -- variables ---------------------------------------------------------------------------


def variable_storage(value, trainable):
    """A JAX variable keeps the array itself."""
    return _t(value)


def variable_assign(storage, value):
    """JAX arrays are immutable: the new array is the new storage."""
    return value


# -- core ops ----------------------------------------------------------------------------


def cast(x, dtype):
    """Casts `x` to `dtype`."""
    target = _jdt(dtype)
    if isinstance(x, (bool, int, float, list, tuple)):
        # Python numbers go straight to `dtype` (as in Keras): through floatx() first, a
        # float64 constant such as 1 / sqrt(d) would be rounded to float32.
        with np.errstate(invalid="ignore", over="ignore"):
            return jnp.asarray(np.asarray(x).astype(target))
    x = _t(x)
    return x if x.dtype == target else lax.convert_element_type(x, target)


def convert_to_numpy(x):
    """Returns `x` as a NumPy array."""
    if isinstance(x, Variable):
        x = x.value
    return np.asarray(x)


def is_tensor(x):
    """Whether `x` is a JAX array or tracer."""
    return isinstance(x, _ARRAY)


def shape(x):
    """Returns the static shape of `x` as a tuple of ints."""
    if isinstance(x, _ARRAY):
        return x.shape
    if isinstance(x, Variable):
        return tuple(x.value.shape)
    if hasattr(x, "shape"):
        return tuple(x.shape)
    return np.shape(x)


def dtype(x):
    """Returns the dtype of `x` as a standard string."""
    if isinstance(x, _ARRAY):
        return standardize_dtype(x.dtype)
    return standardize_dtype(_t(x).dtype)


def stop_gradient(variable):
    """Returns `variable` with gradients stopped."""
    return lax.stop_gradient(_t(variable))


def _index_list(start_indices):
    if isinstance(start_indices, (*_ARRAY, Variable, np.ndarray)):
        start = _t(start_indices)
        return [start[i] for i in range(start.shape[0])]
    return [_t(s) if isinstance(s, Variable) else s for s in start_indices]


def slice(inputs, start_indices, shape):
    """Slice of `inputs` of size `shape` at `start_indices` (-1 in `shape`: to the end)."""
    inputs = _t(inputs)
    starts = _index_list(start_indices)
    sizes = []
    for axis, size in enumerate(shape):
        if size == -1:
            if not isinstance(starts[axis], int):
                raise ValueError(f"slice: a size of -1 needs a static start index, received {starts[axis]!r}")
            size = inputs.shape[axis] - starts[axis]
        sizes.append(int(size))
    return lax.dynamic_slice(inputs, starts, sizes)


def slice_update(inputs, start_indices, updates):
    """`inputs` with the slice at `start_indices` replaced by `updates`."""
    inputs = _t(inputs)
    updates = cast(updates, inputs.dtype)
    return lax.dynamic_update_slice(inputs, updates, _index_list(start_indices))


def _index_tuple(indices):
    indices = _t(indices)
    if indices.dtype in _INEXACT:
        raise TypeError(f"scatter: indices must be integers, received dtype {indices.dtype}")
    return tuple(indices[..., i] for i in range(indices.shape[-1]))


def scatter(indices, values, shape):
    """Zeros of `shape` with `values` added at `indices` (duplicates accumulate)."""
    values = _t(values)
    zeros = jnp.zeros(tuple(shape), values.dtype)
    return zeros.at[_index_tuple(indices)].add(values)


def scatter_update(inputs, indices, updates):
    """`inputs` with the entries at `indices` set to `updates`."""
    inputs = _t(inputs)
    return inputs.at[_index_tuple(indices)].set(cast(updates, inputs.dtype))


def cond(pred, true_fn, false_fn):
    """`true_fn()` if `pred` else `false_fn()` (lax.cond: both branches are traced)."""
    if isinstance(pred, Variable):
        pred = pred.value
    return lax.cond(pred, true_fn, false_fn)


def fori_loop(lower, upper, body_fun, init_val):
    """`val = body_fun(i, val)` for i in [lower, upper) (lax.fori_loop)."""
    return lax.fori_loop(lower, upper, body_fun, init_val)


def while_loop(cond, body, loop_vars, maximum_iterations=None):
    """While loop over `loop_vars` (a tuple/list, or a single value) with lax.while_loop."""
    is_sequence = isinstance(loop_vars, (tuple, list))
    state = tuple(loop_vars) if is_sequence else (loop_vars,)

    def as_tuple(outputs):
        return tuple(outputs) if is_sequence else (outputs,)

    if maximum_iterations is None:
        result = lax.while_loop(lambda s: cond(*s), lambda s: as_tuple(body(*s)), state)
    else:

        def bounded_cond(s):
            return jnp.logical_and(cond(*s[:-1]), s[-1] < maximum_iterations)

        def bounded_body(s):
            return as_tuple(body(*s[:-1])) + (s[-1] + 1,)

        result = lax.while_loop(bounded_cond, bounded_body, state + (jnp.asarray(0, _INT32),))[:-1]
    return result if is_sequence else result[0]


def scan(f, init, xs=None, length=None, reverse=False, unroll=1):
    """Scans `f(carry, x) -> (carry, y)` over the leading axis of `xs` (lax.scan)."""
    if not isinstance(unroll, bool) and (not isinstance(unroll, int) or unroll < 1):
        raise ValueError(f"scan: `unroll` must be a positive int or a bool, received {unroll!r}")
    return lax.scan(f, init, xs=xs, length=length, reverse=reverse, unroll=unroll)


def unstack(x, num=None, axis=0):
    """Splits `x` along `axis` into a list of arrays."""
    x = _t(x)
    count = x.shape[axis]
    if num is not None and num != count:
        raise ValueError(f"unstack: num={num} does not match the size {count} of axis {axis}")
    return [lax.index_in_dim(x, i, axis, keepdims=False) for i in range(count)]


def _dtype_limits(dtype):
    info = jnp.finfo(dtype) if dtype in _INEXACT else jnp.iinfo(dtype)
    return info.min, info.max


def _limit(value, dtype, bound):
    """`value` in `dtype`, stepped toward zero if rounding moved it past `bound`."""
    limit = np.asarray(value, dtype=dtype)
    if abs(float(limit)) > abs(float(bound)):
        limit = np.nextafter(limit, np.zeros((), dtype))
    return limit


def saturate_cast(x, dtype):
    """Casts `x` to `dtype`, clipping to the range of `dtype` first."""
    x = _t(x)
    target = _jdt(dtype)
    if target == _BOOL or x.dtype == _BOOL or target.kind == "c" or x.dtype.kind == "c":
        return cast(x, target)
    in_min, in_max = _dtype_limits(x.dtype)
    out_min, out_max = _dtype_limits(target)
    if x.dtype in _INEXACT:
        low = _limit(max(float(in_min), float(out_min)), x.dtype, out_min)
        high = _limit(min(float(in_max), float(out_max)), x.dtype, out_max)
        return cast(jnp.clip(x, low, high), target)
    low = max(int(in_min), int(out_min))
    high = min(int(in_max), int(out_max))
    if low > int(in_min) or high < int(in_max):
        x = jnp.clip(x, np.asarray(low, x.dtype), np.asarray(high, x.dtype))
    return cast(x, target)


def getitem(x, key):
    """`x[key]`."""
    return _t(x)[key]
