"""NumPy backend: element-wise ops, reductions and creation ops (`kbridge.ops.numpy`, part 1).

Dtypes follow Keras 3 (`kbridge.backend.dtypes.result_type`): operands are promoted
first and NumPy then runs in that dtype, so Python floats never bring float64 in.
Integer arithmetic goes through ufuncs, which wrap silently (NumPy's scalar
operators warn on overflow).
"""

# ruff: noqa: A001, A002
import numpy as np

from .core import as_dtype, axis_arg, float_dtype, np_dtype, promote, tensor, to_float

_INT32 = np.dtype(np.int32)
_BOOL = np.dtype(np.bool_)


def _quiet():
    # inf/nan results are values here, as in JAX/torch/TF, not warnings.
    return np.errstate(all="ignore")


def _agrees(x1, x2):
    """Whether NumPy's own promotion of `x1 op x2` already gives the Keras 3 dtype.

    True for two arrays of one dtype, and for a float array with a Python float (NumPy 2
    keeps the array's dtype for Python scalars): the common cases, kept cheap.
    """
    t1, t2 = type(x1), type(x2)
    if t1 is np.ndarray:
        if t2 is np.ndarray:
            return x1.dtype == x2.dtype
        return t2 is float and x1.dtype.kind in "fc"
    return t1 is float and t2 is np.ndarray and x2.dtype.kind in "fc"


def _binary(ufunc, x1, x2):
    if _agrees(x1, x2):
        return ufunc(x1, x2)
    (x1, x2), _ = promote(x1, x2)
    return ufunc(x1, x2)


def _float_binary(ufunc, x1, x2):
    if not (_agrees(x1, x2) and (type(x1) is float or x1.dtype.kind in "fc")):
        (x1, x2), _ = promote(x1, x2, extra=(float,))
    with _quiet():
        return ufunc(x1, x2)


def _float_unary(ufunc, x):
    x = to_float(x)
    with _quiet():
        return ufunc(x)


# -- element-wise, one operand --------------------------------------------------------------------


def abs(x):
    """Element-wise absolute value."""
    return np.absolute(tensor(x))


def absolute(x):
    """Element-wise absolute value."""
    return np.absolute(tensor(x))


def negative(x):
    """Element-wise negation."""
    return np.negative(tensor(x))


def sign(x):
    """Element-wise sign."""
    x = tensor(x)
    if x.dtype == _BOOL:
        return x
    return np.sign(x)


def square(x):
    """Element-wise square (bools become int32)."""
    x = tensor(x)
    if x.dtype == _BOOL:
        x = x.astype(_INT32)
    return np.square(x)


def sqrt(x):
    """Element-wise square root (ints give `floatx()`)."""
    return _float_unary(np.sqrt, x)


def reciprocal(x):
    """Element-wise `1 / x` (ints give `floatx()`)."""
    return _float_unary(np.reciprocal, x)


def exp(x):
    """Element-wise exponential."""
    return _float_unary(np.exp, x)


def exp2(x):
    """Element-wise `2 ** x`."""
    return _float_unary(np.exp2, x)


def expm1(x):
    """Element-wise `exp(x) - 1`."""
    return _float_unary(np.expm1, x)


def log(x):
    """Element-wise natural logarithm."""
    return _float_unary(np.log, x)


def log10(x):
    """Element-wise base-10 logarithm."""
    return _float_unary(np.log10, x)


def log1p(x):
    """Element-wise `log(1 + x)`."""
    return _float_unary(np.log1p, x)


def log2(x):
    """Element-wise base-2 logarithm."""
    return _float_unary(np.log2, x)


def sin(x):
    """Element-wise sine."""
    return _float_unary(np.sin, x)


def cos(x):
    """Element-wise cosine."""
    return _float_unary(np.cos, x)


def tan(x):
    """Element-wise tangent."""
    return _float_unary(np.tan, x)


def sinh(x):
    """Element-wise hyperbolic sine."""
    return _float_unary(np.sinh, x)


def cosh(x):
    """Element-wise hyperbolic cosine."""
    return _float_unary(np.cosh, x)


def tanh(x):
    """Element-wise hyperbolic tangent."""
    return _float_unary(np.tanh, x)


def arcsin(x):
    """Element-wise inverse sine."""
    return _float_unary(np.arcsin, x)


def arccos(x):
    """Element-wise inverse cosine."""
    return _float_unary(np.arccos, x)


def arctan(x):
    """Element-wise inverse tangent."""
    return _float_unary(np.arctan, x)


def arcsinh(x):
    """Element-wise inverse hyperbolic sine."""
    return _float_unary(np.arcsinh, x)


def arccosh(x):
    """Element-wise inverse hyperbolic cosine."""
    return _float_unary(np.arccosh, x)


def arctanh(x):
    """Element-wise inverse hyperbolic tangent."""
    return _float_unary(np.arctanh, x)


def ceil(x):
    """Element-wise ceiling (ints give `floatx()`)."""
    return _float_unary(np.ceil, x)


def floor(x):
    """Element-wise floor (ints give `floatx()`)."""
    return _float_unary(np.floor, x)


def round(x, decimals=0):
    """Rounds half to even to `decimals` places (ints keep their dtype)."""
    x = tensor(x)
    if x.dtype == _BOOL:
        x = x.astype(_INT32)
    return np.round(x, decimals)


def trunc(x):
    """Element-wise truncation toward zero (ints are returned as they are)."""
    x = tensor(x)
    if x.dtype.kind in "iub":
        return x
    return np.trunc(x)


def conjugate(x):
    """Element-wise complex conjugate."""
    return np.conjugate(tensor(x))


def conj(x):
    """Element-wise complex conjugate."""
    return np.conjugate(tensor(x))


def real(x):
    """Real part."""
    return np.real(tensor(x))


def imag(x):
    """Imaginary part."""
    return np.imag(tensor(x))


def copy(x):
    """Returns a copy of `x`."""
    return np.array(tensor(x))


def isfinite(x):
    """Element-wise finiteness test."""
    return np.isfinite(tensor(x))


def isinf(x):
    """Element-wise infinity test."""
    return np.isinf(tensor(x))


def isnan(x):
    """Element-wise NaN test."""
    return np.isnan(tensor(x))


def logical_not(x):
    """Element-wise logical NOT."""
    return np.logical_not(tensor(x))


def bitwise_not(x):
    """Element-wise bitwise NOT."""
    return np.invert(tensor(x))


def nan_to_num(x, nan=0.0, posinf=None, neginf=None):
    """Replaces NaN and infinities with finite numbers."""
    return np.nan_to_num(tensor(x), nan=nan, posinf=posinf, neginf=neginf)


def clip(x, x_min, x_max):
    """Clips values to [x_min, x_max] (dtypes promote; bools give int32)."""
    (x, x_min, x_max), dtype = promote(x, x_min, x_max)
    if dtype == _BOOL:
        x, x_min, x_max = (v.astype(_INT32) for v in (x, x_min, x_max))
    return np.clip(x, x_min, x_max)


# -- element-wise, two operands ------------------------------------------------------------------


def add(x1, x2):
    """Element-wise `x1 + x2`."""
    return _binary(np.add, x1, x2)


def subtract(x1, x2):
    """Element-wise `x1 - x2`."""
    return _binary(np.subtract, x1, x2)


def multiply(x1, x2):
    """Element-wise `x1 * x2`."""
    return _binary(np.multiply, x1, x2)


def divide(x1, x2):
    """Element-wise true division (ints give `floatx()`)."""
    return _float_binary(np.true_divide, x1, x2)


def true_divide(x1, x2):
    """Element-wise true division (ints give `floatx()`)."""
    return _float_binary(np.true_divide, x1, x2)


def divide_no_nan(x1, x2):
    """Element-wise division returning 0 where `x2 == 0`."""
    (x1, x2), _ = promote(x1, x2, extra=(float,))
    with _quiet():
        return np.where(x2 == 0, np.zeros((), x1.dtype), np.true_divide(x1, x2))


def floor_divide(x1, x2):
    """Element-wise floor division."""
    (x1, x2), dtype = promote(x1, x2)
    if dtype == _BOOL:
        x1, x2 = x1.astype(_INT32), x2.astype(_INT32)
    with _quiet():
        return np.floor_divide(x1, x2)


def mod(x1, x2):
    """Element-wise remainder with the sign of `x2`."""
    (x1, x2), dtype = promote(x1, x2)
    if dtype == _BOOL:
        x1, x2 = x1.astype(_INT32), x2.astype(_INT32)
    with _quiet():
        return np.mod(x1, x2)


def power(x1, x2):
    """Element-wise `x1 ** x2` (integer powers with negative exponents truncate, as in C)."""
    (x1, x2), dtype = promote(x1, x2)
    if dtype == _BOOL:
        x1, x2 = x1.astype(_INT32), x2.astype(_INT32)
    if x2.dtype.kind == "i" and np.any(x2 < 0):
        # NumPy refuses negative integer exponents; 1/x^n truncates to 0 except for |x| == 1.
        negative = x2 < 0
        result = np.power(x1, np.where(negative, np.zeros((), x2.dtype), x2))
        sign = np.where(np.mod(x2, 2) == 0, np.ones((), x1.dtype), x1)
        truncated = np.where(np.abs(x1) == 1, sign, np.zeros((), x1.dtype))
        return np.where(negative, truncated, result)
    with _quiet():
        return np.power(x1, x2)


def maximum(x1, x2):
    """Element-wise maximum."""
    return _binary(np.maximum, x1, x2)


def minimum(x1, x2):
    """Element-wise minimum."""
    return _binary(np.minimum, x1, x2)


def arctan2(x1, x2):
    """Element-wise arc tangent of `x1 / x2` choosing the quadrant."""
    return _float_binary(np.arctan2, x1, x2)


def logaddexp(x1, x2):
    """Element-wise `log(exp(x1) + exp(x2))`."""
    return _float_binary(np.logaddexp, x1, x2)


def equal(x1, x2):
    """Element-wise `x1 == x2`."""
    return _binary(np.equal, x1, x2)


def not_equal(x1, x2):
    """Element-wise `x1 != x2`."""
    return _binary(np.not_equal, x1, x2)


def greater(x1, x2):
    """Element-wise `x1 > x2`."""
    return _binary(np.greater, x1, x2)


def greater_equal(x1, x2):
    """Element-wise `x1 >= x2`."""
    return _binary(np.greater_equal, x1, x2)


def less(x1, x2):
    """Element-wise `x1 < x2`."""
    return _binary(np.less, x1, x2)


def less_equal(x1, x2):
    """Element-wise `x1 <= x2`."""
    return _binary(np.less_equal, x1, x2)


def isclose(x1, x2, rtol=1e-05, atol=1e-08, equal_nan=False):
    """Element-wise closeness test."""
    (x1, x2), _ = promote(x1, x2)
    return np.isclose(x1, x2, rtol=rtol, atol=atol, equal_nan=equal_nan)


def logical_and(x1, x2):
    """Element-wise logical AND."""
    return np.logical_and(tensor(x1), tensor(x2))


def logical_or(x1, x2):
    """Element-wise logical OR."""
    return np.logical_or(tensor(x1), tensor(x2))


def logical_xor(x1, x2):
    """Element-wise logical XOR."""
    return np.logical_xor(tensor(x1), tensor(x2))


def bitwise_and(x, y):
    """Element-wise bitwise AND."""
    return _binary(np.bitwise_and, x, y)


def bitwise_or(x, y):
    """Element-wise bitwise OR."""
    return _binary(np.bitwise_or, x, y)


def bitwise_xor(x, y):
    """Element-wise bitwise XOR."""
    return _binary(np.bitwise_xor, x, y)


def left_shift(x, y):
    """Element-wise `x << y`."""
    return _binary(np.left_shift, x, y)


def right_shift(x, y):
    """Element-wise arithmetic `x >> y`."""
    return _binary(np.right_shift, x, y)


# -- reductions ------------------------------------------------------------------------------------

_SUM_WIDENING = {"bool": "int32", "int8": "int32", "int16": "int32", "uint8": "uint32", "uint16": "uint32"}


def _sum_dtype(dtype):
    widened = _SUM_WIDENING.get(dtype.name)
    return dtype if widened is None else np.dtype(widened)


def sum(x, axis=None, keepdims=False):
    """Sum along `axis` (bools and narrow ints accumulate in 32 bits)."""
    x = tensor(x)
    return np.sum(x, axis=axis_arg(axis), keepdims=keepdims, dtype=_sum_dtype(x.dtype))


def prod(x, axis=None, keepdims=False, dtype=None):
    """Product along `axis`."""
    x = tensor(x)
    dtype = _sum_dtype(x.dtype) if dtype is None else np_dtype(dtype)
    return np.prod(x, axis=axis_arg(axis), keepdims=keepdims, dtype=dtype)


def _float_reduction(function, x, axis, keepdims):
    x = tensor(x)
    dtype = float_dtype(x.dtype)
    with _quiet():
        return as_dtype(function(x, axis=axis_arg(axis), keepdims=keepdims), dtype)


def mean(x, axis=None, keepdims=False):
    """Arithmetic mean along `axis` (ints give `floatx()`)."""
    return _float_reduction(np.mean, x, axis, keepdims)


def var(x, axis=None, keepdims=False):
    """Variance along `axis`."""
    return _float_reduction(np.var, x, axis, keepdims)


def std(x, axis=None, keepdims=False):
    """Standard deviation along `axis`."""
    return _float_reduction(np.std, x, axis, keepdims)


def median(x, axis=None, keepdims=False):
    """Median along `axis`."""
    return _float_reduction(np.median, x, axis, keepdims)


def quantile(x, q, axis=None, method="linear", keepdims=False):
    """q-th quantile along `axis` (`q` in [0, 1])."""
    x = tensor(x)
    dtype = float_dtype(x.dtype)
    with _quiet():
        result = np.quantile(x, tensor(q), axis=axis_arg(axis), method=method, keepdims=keepdims)
    return as_dtype(result, dtype)


def average(x, axis=None, weights=None):
    """Weighted average along `axis`."""
    if weights is None:
        return mean(x, axis=axis)
    (x, weights), _ = promote(x, weights, extra=(float,))
    with _quiet():
        return np.average(x, axis=axis_arg(axis), weights=weights)


def max(x, axis=None, keepdims=False, initial=None):
    """Maximum along `axis`."""
    return np.max(tensor(x), axis=axis_arg(axis), keepdims=keepdims, initial=initial)


def min(x, axis=None, keepdims=False, initial=None):
    """Minimum along `axis`."""
    return np.min(tensor(x), axis=axis_arg(axis), keepdims=keepdims, initial=initial)


def amax(x, axis=None, keepdims=False):
    """Maximum along `axis`."""
    return np.max(tensor(x), axis=axis_arg(axis), keepdims=keepdims)


def amin(x, axis=None, keepdims=False):
    """Minimum along `axis`."""
    return np.min(tensor(x), axis=axis_arg(axis), keepdims=keepdims)


def all(x, axis=None, keepdims=False):
    """Logical AND reduction."""
    return np.all(tensor(x), axis=axis_arg(axis), keepdims=keepdims)


def any(x, axis=None, keepdims=False):
    """Logical OR reduction."""
    return np.any(tensor(x), axis=axis_arg(axis), keepdims=keepdims)


def argmax(x, axis=None, keepdims=False):
    """Indices (int32) of the maximum values along `axis` (flattened when None)."""
    return np.argmax(tensor(x), axis=axis, keepdims=keepdims).astype(_INT32)


def argmin(x, axis=None, keepdims=False):
    """Indices (int32) of the minimum values along `axis` (flattened when None)."""
    return np.argmin(tensor(x), axis=axis, keepdims=keepdims).astype(_INT32)


def count_nonzero(x, axis=None):
    """Counts non-zero values along `axis` (int32)."""
    return np.asarray(np.count_nonzero(tensor(x), axis=axis_arg(axis))).astype(_INT32)


def _cumulative(function, x, axis, dtype):
    x = tensor(x)
    dtype = x.dtype if dtype is None else np_dtype(dtype)
    if dtype == _BOOL:
        dtype = _INT32
    return function(x, axis=axis, dtype=dtype)


def cumsum(x, axis=None, dtype=None):
    """Cumulative sum along `axis` (flattened when None)."""
    return _cumulative(np.cumsum, x, axis, dtype)


def cumprod(x, axis=None, dtype=None):
    """Cumulative product along `axis` (flattened when None)."""
    return _cumulative(np.cumprod, x, axis, dtype)
