"""Symbolic backend: element-wise ops, reductions and creation ops (`kbridge.ops.numpy`, part 1).

Dtype rules mirror the NumPy backend (Keras 3 promotion): float ops turn ints into
`floatx()`, comparisons give bool, sums of bools and narrow ints accumulate in 32 bits.
"""

# ruff: noqa: A001, A002
from kbridge.backend.dtypes import standardize_dtype
from kbridge.symbolic._infer import (
    broadcast_shapes,
    floating,
    multiply_dims,
    out,
    probe,
    promoted,
    reduced_shape,
    spec,
)

_SUM_WIDENING = {"bool": "int32", "int8": "int32", "int16": "int32", "uint8": "uint32", "uint16": "uint32"}


def _same(x):
    x = spec(x)
    return out(x.shape, x.dtype)


def _float(x):
    x = spec(x)
    return out(x.shape, floating(x.dtype))


def _bool(x):
    return out(spec(x).shape, "bool")


def _int32_if_bool(x):
    x = spec(x)
    return out(x.shape, "int32" if x.dtype == "bool" else x.dtype)


def _binary(x1, x2, name, extra=(), dtype=None):
    shape = broadcast_shapes(spec(x1).shape, spec(x2).shape, name=name)
    return out(shape, dtype or promoted(x1, x2, extra=extra))


def _binary_int32_if_bool(x1, x2, name):
    result = _binary(x1, x2, name)
    return out(result.shape, "int32") if result.dtype == "bool" else result


# -- element-wise, one operand --------------------------------------------------------------------


def abs(x):
    """Same shape and dtype."""
    return _same(x)


def absolute(x):
    """Same shape and dtype."""
    return _same(x)


def negative(x):
    """Same shape and dtype."""
    return _same(x)


def sign(x):
    """Same shape and dtype."""
    return _same(x)


def conjugate(x):
    """Same shape and dtype."""
    return _same(x)


def conj(x):
    """Same shape and dtype."""
    return _same(x)


def copy(x):
    """Same shape and dtype."""
    return _same(x)


def trunc(x):
    """Same shape and dtype."""
    return _same(x)


def bitwise_not(x):
    """Same shape and dtype."""
    return _same(x)


def nan_to_num(x, nan=0.0, posinf=None, neginf=None):
    """Same shape and dtype."""
    return _same(x)


def square(x):
    """Same shape; bools give int32."""
    return _int32_if_bool(x)


def round(x, decimals=0):
    """Same shape; bools give int32."""
    return _int32_if_bool(x)


def _real_part(x):
    x = spec(x)
    return out(x.shape, {"complex64": "float32", "complex128": "float64"}.get(x.dtype, x.dtype))


def real(x):
    """Same shape; complex dtypes give their float component dtype."""
    return _real_part(x)


def imag(x):
    """Same shape; complex dtypes give their float component dtype."""
    return _real_part(x)


def sqrt(x):
    """Same shape; ints give `floatx()`."""
    return _float(x)


def reciprocal(x):
    """Same shape; ints give `floatx()`."""
    return _float(x)


def exp(x):
    """Same shape; ints give `floatx()`."""
    return _float(x)


def exp2(x):
    """Same shape; ints give `floatx()`."""
    return _float(x)


def expm1(x):
    """Same shape; ints give `floatx()`."""
    return _float(x)


def log(x):
    """Same shape; ints give `floatx()`."""
    return _float(x)


def log10(x):
    """Same shape; ints give `floatx()`."""
    return _float(x)


def log1p(x):
    """Same shape; ints give `floatx()`."""
    return _float(x)


def log2(x):
    """Same shape; ints give `floatx()`."""
    return _float(x)


def sin(x):
    """Same shape; ints give `floatx()`."""
    return _float(x)


def cos(x):
    """Same shape; ints give `floatx()`."""
    return _float(x)


def tan(x):
    """Same shape; ints give `floatx()`."""
    return _float(x)


def sinh(x):
    """Same shape; ints give `floatx()`."""
    return _float(x)


def cosh(x):
    """Same shape; ints give `floatx()`."""
    return _float(x)


def tanh(x):
    """Same shape; ints give `floatx()`."""
    return _float(x)


def arcsin(x):
    """Same shape; ints give `floatx()`."""
    return _float(x)


def arccos(x):
    """Same shape; ints give `floatx()`."""
    return _float(x)


def arctan(x):
    """Same shape; ints give `floatx()`."""
    return _float(x)


def arcsinh(x):
    """Same shape; ints give `floatx()`."""
    return _float(x)


def arccosh(x):
    """Same shape; ints give `floatx()`."""
    return _float(x)


def arctanh(x):
    """Same shape; ints give `floatx()`."""
    return _float(x)


def ceil(x):
    """Same shape; ints give `floatx()`."""
    return _float(x)


def floor(x):
    """Same shape; ints give `floatx()`."""
    return _float(x)


def isfinite(x):
    """Same shape, bool."""
    return _bool(x)


def isinf(x):
    """Same shape, bool."""
    return _bool(x)


def isnan(x):
    """Same shape, bool."""
    return _bool(x)


def logical_not(x):
    """Same shape, bool."""
    return _bool(x)


def clip(x, x_min, x_max):
    """Broadcast shape of the three; dtypes promote (bools give int32)."""
    shape = broadcast_shapes(spec(x).shape, spec(x_min).shape, spec(x_max).shape, name="clip")
    dtype = promoted(x, x_min, x_max)
    return out(shape, "int32" if dtype == "bool" else dtype)


# -- element-wise, two operands ------------------------------------------------------------------


def add(x1, x2):
    """Broadcast shape, promoted dtype."""
    return _binary(x1, x2, "add")


def subtract(x1, x2):
    """Broadcast shape, promoted dtype."""
    return _binary(x1, x2, "subtract")


def multiply(x1, x2):
    """Broadcast shape, promoted dtype."""
    return _binary(x1, x2, "multiply")


def maximum(x1, x2):
    """Broadcast shape, promoted dtype."""
    return _binary(x1, x2, "maximum")


def minimum(x1, x2):
    """Broadcast shape, promoted dtype."""
    return _binary(x1, x2, "minimum")


def divide(x1, x2):
    """Broadcast shape; ints give `floatx()`."""
    return _binary(x1, x2, "divide", extra=(float,))


def true_divide(x1, x2):
    """Broadcast shape; ints give `floatx()`."""
    return _binary(x1, x2, "true_divide", extra=(float,))


def divide_no_nan(x1, x2):
    """Broadcast shape; ints give `floatx()`."""
    return _binary(x1, x2, "divide_no_nan", extra=(float,))


def arctan2(x1, x2):
    """Broadcast shape; ints give `floatx()`."""
    return _binary(x1, x2, "arctan2", extra=(float,))


def logaddexp(x1, x2):
    """Broadcast shape; ints give `floatx()`."""
    return _binary(x1, x2, "logaddexp", extra=(float,))


def floor_divide(x1, x2):
    """Broadcast shape, promoted dtype (bools give int32)."""
    return _binary_int32_if_bool(x1, x2, "floor_divide")


def mod(x1, x2):
    """Broadcast shape, promoted dtype (bools give int32)."""
    return _binary_int32_if_bool(x1, x2, "mod")


def power(x1, x2):
    """Broadcast shape, promoted dtype (bools give int32)."""
    return _binary_int32_if_bool(x1, x2, "power")


def bitwise_and(x, y):
    """Broadcast shape, promoted dtype."""
    return _binary(x, y, "bitwise_and")


def bitwise_or(x, y):
    """Broadcast shape, promoted dtype."""
    return _binary(x, y, "bitwise_or")


def bitwise_xor(x, y):
    """Broadcast shape, promoted dtype."""
    return _binary(x, y, "bitwise_xor")


def left_shift(x, y):
    """Broadcast shape, promoted dtype."""
    return _binary(x, y, "left_shift")


def right_shift(x, y):
    """Broadcast shape, promoted dtype."""
    return _binary(x, y, "right_shift")


def equal(x1, x2):
    """Broadcast shape, bool."""
    return _binary(x1, x2, "equal", dtype="bool")


def not_equal(x1, x2):
    """Broadcast shape, bool."""
    return _binary(x1, x2, "not_equal", dtype="bool")


def greater(x1, x2):
    """Broadcast shape, bool."""
    return _binary(x1, x2, "greater", dtype="bool")


def greater_equal(x1, x2):
    """Broadcast shape, bool."""
    return _binary(x1, x2, "greater_equal", dtype="bool")


def less(x1, x2):
    """Broadcast shape, bool."""
    return _binary(x1, x2, "less", dtype="bool")


def less_equal(x1, x2):
    """Broadcast shape, bool."""
    return _binary(x1, x2, "less_equal", dtype="bool")


def isclose(x1, x2, rtol=1e-05, atol=1e-08, equal_nan=False):
    """Broadcast shape, bool."""
    return _binary(x1, x2, "isclose", dtype="bool")


def logical_and(x1, x2):
    """Broadcast shape, bool."""
    return _binary(x1, x2, "logical_and", dtype="bool")


def logical_or(x1, x2):
    """Broadcast shape, bool."""
    return _binary(x1, x2, "logical_or", dtype="bool")


def logical_xor(x1, x2):
    """Broadcast shape, bool."""
    return _binary(x1, x2, "logical_xor", dtype="bool")


# -- reductions ------------------------------------------------------------------------------------


def _reduce(x, axis, keepdims, name, dtype=None):
    x = spec(x)
    return out(reduced_shape(x.shape, axis, keepdims, name), dtype or x.dtype)


def sum(x, axis=None, keepdims=False):
    """Reduced shape; bools and narrow ints accumulate in 32 bits."""
    dtype = spec(x).dtype
    return _reduce(x, axis, keepdims, "sum", _SUM_WIDENING.get(dtype, dtype))


def prod(x, axis=None, keepdims=False, dtype=None):
    """Reduced shape; `dtype`, else as `sum`."""
    source = spec(x).dtype
    dtype = _SUM_WIDENING.get(source, source) if dtype is None else standardize_dtype(dtype)
    return _reduce(x, axis, keepdims, "prod", dtype)


def mean(x, axis=None, keepdims=False):
    """Reduced shape; ints give `floatx()`."""
    return _reduce(x, axis, keepdims, "mean", floating(spec(x).dtype))


def var(x, axis=None, keepdims=False):
    """Reduced shape; ints give `floatx()`."""
    return _reduce(x, axis, keepdims, "var", floating(spec(x).dtype))


def std(x, axis=None, keepdims=False):
    """Reduced shape; ints give `floatx()`."""
    return _reduce(x, axis, keepdims, "std", floating(spec(x).dtype))


def median(x, axis=None, keepdims=False):
    """Reduced shape; ints give `floatx()`."""
    return _reduce(x, axis, keepdims, "median", floating(spec(x).dtype))


def average(x, axis=None, weights=None):
    """Reduced shape (no keepdims); float dtype promoted with the weights'."""
    dtype = floating(spec(x).dtype) if weights is None else promoted(x, weights, extra=(float,))
    return _reduce(x, axis, False, "average", dtype)


def max(x, axis=None, keepdims=False, initial=None):
    """Reduced shape, same dtype."""
    return _reduce(x, axis, keepdims, "max")


def min(x, axis=None, keepdims=False, initial=None):
    """Reduced shape, same dtype."""
    return _reduce(x, axis, keepdims, "min")


def amax(x, axis=None, keepdims=False):
    """Reduced shape, same dtype."""
    return _reduce(x, axis, keepdims, "amax")


def amin(x, axis=None, keepdims=False):
    """Reduced shape, same dtype."""
    return _reduce(x, axis, keepdims, "amin")


def all(x, axis=None, keepdims=False):
    """Reduced shape, bool."""
    return _reduce(x, axis, keepdims, "all", "bool")


def any(x, axis=None, keepdims=False):
    """Reduced shape, bool."""
    return _reduce(x, axis, keepdims, "any", "bool")


def argmax(x, axis=None, keepdims=False):
    """Reduced shape, int32."""
    return _reduce(x, axis, keepdims, "argmax", "int32")


def argmin(x, axis=None, keepdims=False):
    """Reduced shape, int32."""
    return _reduce(x, axis, keepdims, "argmin", "int32")


def count_nonzero(x, axis=None):
    """Reduced shape, int32."""
    return _reduce(x, axis, False, "count_nonzero", "int32")


def _cumulative(x, axis, dtype):
    x = spec(x)
    dtype = x.dtype if dtype is None else standardize_dtype(dtype)
    shape = (multiply_dims(*x.shape),) if axis is None else x.shape
    return out(shape, "int32" if dtype == "bool" else dtype)


def cumsum(x, axis=None, dtype=None):
    """Same shape (flattened when `axis` is None); bools give int32."""
    return _cumulative(x, axis, dtype)


def cumprod(x, axis=None, dtype=None):
    """Same shape (flattened when `axis` is None); bools give int32."""
    return _cumulative(x, axis, dtype)


def quantile(x, q, axis=None, method="linear", keepdims=False):
    """Probed: the quantile axis is prepended when `q` is a vector."""
    return probe("quantile", x, q, axis=axis, method=method, keepdims=keepdims)
