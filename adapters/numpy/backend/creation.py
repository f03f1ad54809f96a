"""NumPy backend: creation, counting and binning ops (`kbridge.ops.numpy`, part 3)."""

# ruff: noqa: A001, A002
import builtins

import numpy as np

from kbridge import config

from .core import WEAK_TYPES, convert_to_tensor, np_dtype, promote, result_dtype, shape_arg, tensor

_INT32 = np.dtype(np.int32)


# -- creation --------------------------------------------------------------------------------------


def _dtype_or_floatx(dtype):
    return np_dtype(config.floatx() if dtype is None else dtype)


def zeros(shape, dtype=None):
    """Tensor of zeros (`floatx()` by default)."""
    return np.zeros(shape_arg(shape), dtype=_dtype_or_floatx(dtype))


def ones(shape, dtype=None):
    """Tensor of ones (`floatx()` by default)."""
    return np.ones(shape_arg(shape), dtype=_dtype_or_floatx(dtype))


def empty(shape, dtype=None):
    """Tensor of `shape` (zero-filled, so results are deterministic)."""
    return np.zeros(shape_arg(shape), dtype=_dtype_or_floatx(dtype))


def full(shape, fill_value, dtype=None):
    """Tensor of `shape` filled with `fill_value` (`floatx()` by default)."""
    return np.full(shape_arg(shape), tensor(fill_value), dtype=_dtype_or_floatx(dtype))


def zeros_like(x, dtype=None):
    """Tensor of zeros like `x`."""
    x = tensor(x)
    return np.zeros(x.shape, dtype=x.dtype if dtype is None else np_dtype(dtype))


def ones_like(x, dtype=None):
    """Tensor of ones like `x`."""
    x = tensor(x)
    return np.ones(x.shape, dtype=x.dtype if dtype is None else np_dtype(dtype))


def full_like(x, fill_value, dtype=None):
    """Tensor like `x` filled with `fill_value`."""
    x = tensor(x)
    return np.full(x.shape, tensor(fill_value), dtype=x.dtype if dtype is None else np_dtype(dtype))


def _scalar_key(value):
    if type(value) in WEAK_TYPES:
        return type(value)
    return tensor(value).dtype


def arange(start, stop=None, step=1, dtype=None):
    """Evenly spaced values in [start, stop); Python ints give int32, floats `floatx()`."""
    if dtype is None:
        keys = [_scalar_key(v) for v in (start, stop, step) if v is not None]
        dtype = result_dtype(*keys)
    else:
        dtype = np_dtype(dtype)
    if stop is None:
        start, stop = 0, start
    step = 1 if step is None else step
    values = [v.item() if isinstance(v, (np.ndarray, np.generic)) else v for v in (tensor(start), tensor(stop), tensor(step))]
    return np.arange(*values, dtype=dtype)


def array(x, dtype=None):
    """Creates a tensor from `x`."""
    return convert_to_tensor(x, dtype=dtype)


def eye(N, M=None, k=0, dtype=None):
    """2-D tensor with ones on the k-th diagonal."""
    return np.eye(int(N), None if M is None else int(M), k=int(k), dtype=_dtype_or_floatx(dtype))


def identity(n, dtype=None):
    """Identity matrix of size `n`."""
    return np.identity(int(n), dtype=_dtype_or_floatx(dtype))


def tri(N, M=None, k=0, dtype=None):
    """Ones at and below the k-th diagonal."""
    return np.tri(int(N), None if M is None else int(M), k=int(k), dtype=_dtype_or_floatx(dtype))


def linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0):
    """Evenly spaced numbers over an interval (`floatx()` unless a dtype is given)."""
    if dtype is None:
        dtype = result_dtype(_scalar_key(start), _scalar_key(stop), float)
    else:
        dtype = np_dtype(dtype)
    return np.linspace(
        tensor(start), tensor(stop), num=int(num), endpoint=endpoint, retstep=retstep, dtype=dtype, axis=axis
    )


# -- counting and binning --------------------------------------------------------------------------


def bincount(x, weights=None, minlength=0):
    """Counts occurrences of each value in a 1-D int tensor (2-D: one count per row)."""
    x = tensor(x)
    if x.ndim not in (1, 2):
        raise ValueError(f"bincount: expected a 1-D or 2-D tensor, received shape {x.shape}")
    if weights is None:
        dtype = _INT32
    else:
        (weights,), _ = promote(weights)
        dtype = result_dtype(x.dtype, weights.dtype)
    if x.ndim == 1:
        return np.bincount(x, weights, minlength).astype(dtype)
    length = builtins.max(int(minlength), int(x.max()) + 1 if x.size else 0)
    rows = [np.bincount(row, None if weights is None else weights[i], length) for i, row in enumerate(x)]
    return np.stack(rows).astype(dtype) if rows else np.zeros((0, length), dtype)


def digitize(x, bins):
    """Indices (int32) of the bins to which each value belongs."""
    return np.digitize(tensor(x), tensor(bins)).astype(_INT32)


def diff(a, n=1, axis=-1):
    """n-th discrete difference along `axis`."""
    return np.diff(tensor(a), n=n, axis=axis)


def ndim(x):
    """Number of dimensions of `x`."""
    return np.ndim(tensor(x))


def size(x):
    """Number of elements in `x`."""
    return np.size(tensor(x))
