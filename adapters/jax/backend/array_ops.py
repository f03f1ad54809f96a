"""JAX backend: creation, shape manipulation and indexing ops (NumPy-like)."""

import jax
import jax.numpy as jnp

from kbridge import config
from kbridge.backend.dtypes import result_type

from .core import (
    _ARRAY,
    _BOOL,
    _INT32,
    _PY_SCALARS,
    _axis,
    _jdt,
    _pair,
    _promote,
    _t,
    convert_to_tensor,
)


def _dtype_or_floatx(dtype):
    return _jdt(config.floatx() if dtype is None else dtype)


def _shape(shape):
    if isinstance(shape, int) or (isinstance(shape, _ARRAY) and shape.ndim == 0):
        return (int(shape),)
    return tuple(int(d) for d in shape)


# -- creation ----------------------------------------------------------------------------


def zeros(shape, dtype=None):
    """Tensor of zeros (`floatx()` by default)."""
    return jnp.zeros(_shape(shape), _dtype_or_floatx(dtype))


def ones(shape, dtype=None):
    """Tensor of ones (`floatx()` by default)."""
    return jnp.ones(_shape(shape), _dtype_or_floatx(dtype))


def empty(shape, dtype=None):
    """Tensor of `shape` (zero-filled: XLA has no uninitialized memory)."""
    return jnp.zeros(_shape(shape), _dtype_or_floatx(dtype))


def full(shape, fill_value, dtype=None):
    """Tensor of `shape` filled with `fill_value` (`floatx()` by default, as Keras)."""
    return jnp.full(_shape(shape), _t(fill_value), _dtype_or_floatx(dtype))


def _like_dtype(x, dtype):
    return x.dtype if dtype is None else _jdt(dtype)


def zeros_like(x, dtype=None):
    """Tensor of zeros like `x`."""
    x = _t(x)
    return jnp.zeros(x.shape, _like_dtype(x, dtype))


def ones_like(x, dtype=None):
    """Tensor of ones like `x`."""
    x = _t(x)
    return jnp.ones(x.shape, _like_dtype(x, dtype))


def full_like(x, fill_value, dtype=None):
    """Tensor like `x` filled with `fill_value`."""
    x = _t(x)
    return jnp.full(x.shape, _t(fill_value), _like_dtype(x, dtype))


def eye(N, M=None, k=0, dtype=None):
    """2-D tensor with ones on the k-th diagonal."""
    return jnp.eye(N, M=M, k=k, dtype=_dtype_or_floatx(dtype))


def identity(n, dtype=None):
    """Identity matrix of size `n`."""
    return jnp.eye(n, dtype=_dtype_or_floatx(dtype))


def tri(N, M=None, k=0, dtype=None):
    """Ones at and below the k-th diagonal."""
    return jnp.tri(N, M=M, k=k, dtype=_dtype_or_floatx(dtype))


def _scalar_dtype(value):
    return value if type(value) in _PY_SCALARS else getattr(value, "dtype", type(value))


def arange(start, stop=None, step=1, dtype=None):
    """Evenly spaced values in [start, stop): int32 for int arguments, `floatx()` for floats."""
    if step is None:
        step = 1
    if dtype is None:
        dtype = result_type(*[_scalar_dtype(v) for v in (start, stop, step) if v is not None])
    return jnp.arange(start, stop, step, dtype=_jdt(dtype))


def linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0):
    """`num` evenly spaced numbers over [start, stop] (`floatx()` by default)."""
    if dtype is None:
        dtype = result_type(_scalar_dtype(start), _scalar_dtype(stop), float)
    start = start if type(start) in _PY_SCALARS else _t(start)
    stop = stop if type(stop) in _PY_SCALARS else _t(stop)
    return jnp.linspace(start, stop, num=num, endpoint=endpoint, retstep=retstep, dtype=_jdt(dtype), axis=axis)


def array(x, dtype=None):
    """Creates a tensor from `x` (a copy)."""
    return jnp.array(convert_to_tensor(x, dtype), copy=True)


def meshgrid(*x, indexing="xy"):
    """Coordinate matrices from coordinate vectors."""
    if indexing not in ("xy", "ij"):
        raise ValueError(f"meshgrid: `indexing` must be 'xy' or 'ij', received {indexing!r}")
    return jnp.meshgrid(*[_t(v) for v in x], indexing=indexing)


# -- shapes ------------------------------------------------------------------------------


def reshape(x, newshape):
    """Gives `x` a new shape (one entry may be -1)."""
    return jnp.reshape(_t(x), _shape(newshape))


def ravel(x):
    """Flattens `x` to 1-D."""
    return jnp.ravel(_t(x))


def transpose(x, axes=None):
    """Permutes axes."""
    return jnp.transpose(_t(x), axes=None if axes is None else tuple(axes))


def swapaxes(x, axis1, axis2):
    """Interchanges two axes."""
    return jnp.swapaxes(_t(x), axis1, axis2)


def moveaxis(x, source, destination):
    """Moves axes to new positions."""
    return jnp.moveaxis(_t(x), _axis(source), _axis(destination))


def expand_dims(x, axis):
    """Inserts size-1 axes at `axis` (an int or a tuple of ints)."""
    return jnp.expand_dims(_t(x), _axis(axis))


def squeeze(x, axis=None):
    """Removes size-1 axes (all of them, or those at `axis`)."""
    x = _t(x)
    axis = _axis(axis)
    if axis is not None:
        for a in (axis,) if isinstance(axis, int) else axis:
            if x.shape[a] != 1:
                raise ValueError(f"squeeze: cannot squeeze axis {a} of size {x.shape[a]} (shape {x.shape})")
    return jnp.squeeze(x, axis=axis)


def broadcast_to(x, shape):
    """Broadcasts `x` to `shape`."""
    return jnp.broadcast_to(_t(x), _shape(shape))


def flip(x, axis=None):
    """Reverses the order of elements along `axis`."""
    return jnp.flip(_t(x), axis=_axis(axis))


def roll(x, shift, axis=None):
    """Rolls elements along `axis`."""
    return jnp.roll(_t(x), _axis(shift), axis=_axis(axis))


def tile(x, repeats):
    """Tiles `x` by `repeats`."""
    return jnp.tile(_t(x), repeats)


def repeat(x, repeats, axis=None):
    """Repeats elements of `x`."""
    if not isinstance(repeats, int):
        repeats = _t(repeats)
    return jnp.repeat(_t(x), repeats, axis=axis)


def _common(xs):
    arrays = [_t(x) for x in xs]
    if len({a.dtype for a in arrays}) > 1:
        dtype = _jdt(result_type(*[a.dtype for a in arrays]))
        arrays = [a.astype(dtype) for a in arrays]
    return arrays


def concatenate(xs, axis=0):
    """Joins a sequence of tensors along `axis` (None: flattened)."""
    return jnp.concatenate(_common(xs), axis=axis)


def stack(x, axis=0):
    """Stacks a sequence of tensors along a new axis."""
    return jnp.stack(_common(x), axis=axis)


def hstack(xs):
    """Stacks tensors horizontally."""
    return jnp.hstack(_common(xs))


def vstack(xs):
    """Stacks tensors vertically."""
    return jnp.vstack(_common(xs))


def append(x1, x2, axis=None):
    """Appends `x2` to `x1` along `axis` (flattened when None)."""
    x1, x2 = _pair(x1, x2)
    return jnp.append(x1, x2, axis=axis)


def split(x, indices_or_sections, axis=0):
    """Splits `x` into a list of tensors."""
    if not isinstance(indices_or_sections, int):
        indices_or_sections = [int(i) for i in indices_or_sections]
    return jnp.split(_t(x), indices_or_sections, axis=axis)


def pad(x, pad_width, mode="constant", constant_values=None):
    """Pads `x`; `pad_width` is a per-axis list of (before, after)."""
    x = _t(x)
    if constant_values is not None:
        if mode != "constant":
            raise ValueError(f"pad: `constant_values` needs mode='constant', received mode={mode!r}")
        return jnp.pad(x, pad_width, mode=mode, constant_values=constant_values)
    return jnp.pad(x, pad_width, mode=mode)


def ndim(x):
    """Number of dimensions of `x`."""
    return _t(x).ndim


def size(x):
    """Number of elements in `x`."""
    return _t(x).size


# -- indexing and selection --------------------------------------------------------------


def _indices(indices):
    """Integer index arrays as they are; float or bool indices become int32."""
    indices = _t(indices)
    return indices if indices.dtype.kind in "iu" else indices.astype(_INT32)


def take(x, indices, axis=None):
    """Takes elements of `x` at `indices` along `axis` (flattened when None); negative indices wrap."""
    if isinstance(indices, int):
        return jnp.take(_t(x), indices, axis=axis)
    return jnp.take(_t(x), _indices(indices), axis=axis)


def take_along_axis(x, indices, axis=None):
    """Takes values at `indices` along `axis`."""
    x = _t(x)
    indices = _indices(indices)
    return jnp.take_along_axis(x, indices, axis=axis)


def where(condition, x1=None, x2=None):
    """Chooses `x1` where `condition` else `x2` (indices of non-zeros when both are None)."""
    condition = _t(condition)
    if x1 is None and x2 is None:
        return tuple(i.astype(_INT32) for i in jnp.nonzero(condition))
    if x1 is None or x2 is None:
        raise ValueError("where: `x1` and `x2` must be given together.")
    x1, x2 = _pair(x1, x2)
    return jnp.where(condition, x1, x2)


def nonzero(x):
    """Indices of non-zero elements, one int32 array per axis (eager only)."""
    return tuple(i.astype(_INT32) for i in jnp.nonzero(_t(x)))


def diag(x, k=0):
    """Extracts a diagonal (2-D input) or builds a diagonal matrix (1-D input)."""
    return jnp.diag(_t(x), k=k)


def diagonal(x, offset=0, axis1=0, axis2=1):
    """Returns the specified diagonals."""
    return jnp.diagonal(_t(x), offset=offset, axis1=axis1, axis2=axis2)


def tril(x, k=0):
    """Lower triangle of `x`."""
    return jnp.tril(_t(x), k=k)


def triu(x, k=0):
    """Upper triangle of `x`."""
    return jnp.triu(_t(x), k=k)


def diff(a, n=1, axis=-1):
    """n-th discrete difference along `axis`."""
    return jnp.diff(_t(a), n=n, axis=axis)


def clip(x, x_min, x_max):
    """Clips values to [x_min, x_max] (bools become int32)."""
    x = _t(x)
    if x.dtype == _BOOL:
        x = x.astype(_INT32)
    bounds = [b if b is None or type(b) in _PY_SCALARS else _t(b) for b in (x_min, x_max)]
    x, low, high = _promote(x, *bounds)
    return jnp.clip(x, low, high)


def digitize(x, bins):
    """Indices (int32) of the bins to which each value belongs."""
    return jnp.digitize(_t(x), _t(bins)).astype(_INT32)


def bincount(x, weights=None, minlength=0):
    """Counts occurrences of each value of an int tensor (per row for 2-D).

    Under tracing the output length must be known: it is `minlength` (larger values are dropped).
    """
    x = _t(x)
    if x.ndim not in (1, 2):
        raise ValueError(f"bincount: expected a 1-D or 2-D tensor, received shape {x.shape}")
    if weights is not None:
        weights = _t(weights)
    if isinstance(x, jax.core.Tracer):  # the output length cannot depend on traced values
        if not minlength:
            raise ValueError("bincount: under jit/vmap pass `minlength` (the output length).")
        length = int(minlength)
    else:
        length = max(int(minlength), int(jnp.max(x)) + 1 if x.size else 0)

    def count(values, row_weights):
        return jnp.bincount(values, weights=row_weights, length=length)

    if x.ndim == 2:
        result = jax.vmap(count)(x, weights) if weights is not None else jax.vmap(lambda row: count(row, None))(x)
    else:
        result = count(x, weights)
    return result.astype(_INT32) if weights is None else result
