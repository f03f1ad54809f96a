"""Symbolic backend: creation, counting and size ops (`kbridge.ops.numpy`, part 3)."""

# ruff: noqa: A001, A002
from kbridge import config
from kbridge.backend.dtypes import result_type, standardize_dtype
from kbridge.symbolic._infer import (
    as_int,
    has_symbolic,
    key,
    multiply_dims,
    numpy_backend,
    out,
    probe,
    promoted,
    shape_tuple,
    spec,
)
from kbridge.symbolic._rules_core import convert_to_tensor

# -- creation --------------------------------------------------------------------------------------


def _created(shape, dtype, name):
    return out(shape_tuple(shape, name), config.floatx() if dtype is None else standardize_dtype(dtype))


def zeros(shape, dtype=None):
    """KerasTensor of `shape` (None entries allowed), `floatx()` by default."""
    return _created(shape, dtype, "zeros")


def ones(shape, dtype=None):
    """KerasTensor of `shape` (None entries allowed), `floatx()` by default."""
    return _created(shape, dtype, "ones")


def empty(shape, dtype=None):
    """KerasTensor of `shape` (None entries allowed), `floatx()` by default."""
    return _created(shape, dtype, "empty")


def full(shape, fill_value, dtype=None):
    """KerasTensor of `shape` (None entries allowed), `floatx()` by default."""
    return _created(shape, dtype, "full")


def _like(x, dtype):
    x = spec(x)
    return out(x.shape, x.dtype if dtype is None else standardize_dtype(dtype))


def zeros_like(x, dtype=None):
    """Shape of `x`; its dtype unless `dtype` is given."""
    return _like(x, dtype)


def ones_like(x, dtype=None):
    """Shape of `x`; its dtype unless `dtype` is given."""
    return _like(x, dtype)


def full_like(x, fill_value, dtype=None):
    """Shape of `x`; its dtype unless `dtype` is given."""
    return _like(x, dtype)


def arange(start, stop=None, step=1, dtype=None):
    """1-D; its length is known when the bounds are concrete."""
    if dtype is None:
        dtype = result_type(*[key(v) for v in (start, stop, step) if v is not None])
    else:
        dtype = standardize_dtype(dtype)
    if has_symbolic((start, stop, step)):
        return out((None,), dtype)
    return out(numpy_backend().arange(start, stop, step, dtype).shape, dtype)


def array(x, dtype=None):
    """As `convert_to_tensor`."""
    return convert_to_tensor(x, dtype=dtype)


def eye(N, M=None, k=0, dtype=None):
    """(N, M) with M defaulting to N."""
    rows = as_int(N)
    return _created((rows, rows if M is None else as_int(M)), dtype, "eye")


def identity(n, dtype=None):
    """(n, n)."""
    return _created((as_int(n), as_int(n)), dtype, "identity")


def tri(N, M=None, k=0, dtype=None):
    """(N, M) with M defaulting to N."""
    rows = as_int(N)
    return _created((rows, rows if M is None else as_int(M)), dtype, "tri")


def linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0):
    """(num,) for scalar bounds (the step too when `retstep`); probed for tensor bounds."""
    if spec(start).ndim or spec(stop).ndim:
        return probe("linspace", start, stop, num=num, endpoint=endpoint, retstep=retstep, dtype=dtype, axis=axis)
    dtype = promoted(start, stop, extra=(float,)) if dtype is None else standardize_dtype(dtype)
    samples = out((as_int(num),), dtype)
    return (samples, out((), dtype)) if retstep else samples


# -- counting --------------------------------------------------------------------------------------


def bincount(x, weights=None, minlength=0):
    """Length depends on the values: (None,), or (rows, None) for 2-D input."""
    x = spec(x)
    if x.ndim not in (1, 2):
        raise ValueError(f"bincount: expected a 1-D or 2-D tensor, received {x}")
    dtype = "int32" if weights is None else promoted(x, weights)
    return out(x.shape[:-1] + (None,), dtype)


def digitize(x, bins):
    """Same shape, int32."""
    return out(spec(x).shape, "int32")


def ndim(x):
    """The rank (a Python int)."""
    return spec(x).ndim


def size(x):
    """The number of elements: an int when known, else a symbolic int32 scalar."""
    count = multiply_dims(*spec(x).shape)
    return out((), "int32") if count is None else count
