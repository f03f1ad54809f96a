"""Element-wise NumPy-like ops for TensorFlow, with Keras 3 dtype promotion."""

# ruff: noqa: A001, A002
import math

import tensorflow as tf
from kbridge.adapters.tf.backend._common import (
    cast_to,
    is_float,
    is_int,
    pair,
    promote,
    tensor,
    to_float,
)
from kbridge.adapters.tf.backend.numpy_shape import nonzero

__all__ = [
    "abs",
    "absolute",
    "add",
    "arccos",
    "arccosh",
    "arcsin",
    "arcsinh",
    "arctan",
    "arctan2",
    "arctanh",
    "bitwise_and",
    "bitwise_not",
    "bitwise_or",
    "bitwise_xor",
    "ceil",
    "clip",
    "conj",
    "conjugate",
    "copy",
    "cos",
    "cosh",
    "divide",
    "divide_no_nan",
    "equal",
    "exp",
    "exp2",
    "expm1",
    "floor",
    "floor_divide",
    "greater",
    "greater_equal",
    "imag",
    "isclose",
    "isfinite",
    "isinf",
    "isnan",
    "left_shift",
    "less",
    "less_equal",
    "log",
    "log1p",
    "log2",
    "log10",
    "logaddexp",
    "logical_and",
    "logical_not",
    "logical_or",
    "logical_xor",
    "maximum",
    "minimum",
    "mod",
    "multiply",
    "nan_to_num",
    "negative",
    "not_equal",
    "power",
    "real",
    "reciprocal",
    "right_shift",
    "round",
    "sign",
    "sin",
    "sinh",
    "sqrt",
    "square",
    "subtract",
    "tan",
    "tanh",
    "true_divide",
    "trunc",
    "where",
]


def _float_unary(tf_fn, name, doc):
    def op(x):
        return tf_fn(to_float(x))

    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc
    return op


arccos = _float_unary(tf.math.acos, "arccos", "Element-wise inverse cosine.")
arccosh = _float_unary(tf.math.acosh, "arccosh", "Element-wise inverse hyperbolic cosine.")
arcsin = _float_unary(tf.math.asin, "arcsin", "Element-wise inverse sine.")
arcsinh = _float_unary(tf.math.asinh, "arcsinh", "Element-wise inverse hyperbolic sine.")
arctan = _float_unary(tf.math.atan, "arctan", "Element-wise inverse tangent.")
arctanh = _float_unary(tf.math.atanh, "arctanh", "Element-wise inverse hyperbolic tangent.")
cos = _float_unary(tf.math.cos, "cos", "Element-wise cosine.")
cosh = _float_unary(tf.math.cosh, "cosh", "Element-wise hyperbolic cosine.")
sin = _float_unary(tf.math.sin, "sin", "Element-wise sine.")
sinh = _float_unary(tf.math.sinh, "sinh", "Element-wise hyperbolic sine.")
tan = _float_unary(tf.math.tan, "tan", "Element-wise tangent.")
tanh = _float_unary(tf.math.tanh, "tanh", "Element-wise hyperbolic tangent.")
exp = _float_unary(tf.math.exp, "exp", "Element-wise exponential.")
expm1 = _float_unary(tf.math.expm1, "expm1", "Element-wise `exp(x) - 1`.")
log = _float_unary(tf.math.log, "log", "Element-wise natural logarithm.")
log1p = _float_unary(tf.math.log1p, "log1p", "Element-wise `log(1 + x)`.")
sqrt = _float_unary(tf.math.sqrt, "sqrt", "Element-wise square root.")
reciprocal = _float_unary(tf.math.reciprocal, "reciprocal", "Element-wise `1 / x`.")


def exp2(x):
    """Element-wise `2 ** x`."""
    x = to_float(x)
    return tf.math.pow(tf.constant(2, x.dtype), x)


def log10(x):
    """Element-wise base-10 logarithm."""
    x = to_float(x)
    return tf.math.log(x) / tf.constant(math.log(10.0), x.dtype)


def log2(x):
    """Element-wise base-2 logarithm."""
    x = to_float(x)
    return tf.math.log(x) / tf.constant(math.log(2.0), x.dtype)


def ceil(x):
    """Element-wise ceiling (integers become `floatx()`)."""
    return tf.math.ceil(to_float(x))


def floor(x):
    """Element-wise floor (integers become `floatx()`)."""
    return tf.math.floor(to_float(x))


def trunc(x):
    """Element-wise truncation toward zero."""
    x = tensor(x)
    if not is_float(x.dtype.name):
        return x
    return tf.where(x < 0, tf.math.ceil(x), tf.math.floor(x))


def round(x, decimals=0):
    """Rounds half to even, to `decimals` decimal places."""
    x = tensor(x)
    name = x.dtype.name
    if is_int(name) or name == "bool":
        if decimals >= 0:
            return x
        factor = tf.constant(10.0 ** (-decimals), "float64" if name in ("int64", "uint64", "uint32") else "float32")
        return tf.cast(tf.math.round(tf.cast(x, factor.dtype) / factor) * factor, name)
    if decimals == 0:
        return tf.math.round(x)
    factor = tf.constant(10.0**decimals, x.dtype)
    return tf.math.round(x * factor) / factor


def abs(x):
    """Element-wise absolute value."""
    x = tensor(x)
    if x.dtype == tf.bool:
        return x
    return tf.math.abs(x)


absolute = abs


def negative(x):
    """Element-wise negation (unsigned integers wrap)."""
    x = tensor(x)
    if x.dtype.is_unsigned:
        return tf.zeros_like(x) - x
    return tf.math.negative(x)


def sign(x):
    """Element-wise sign."""
    x = tensor(x)
    if x.dtype == tf.bool:
        return x
    return tf.math.sign(x)


def square(x):
    """Element-wise square (booleans become int32)."""
    x = tensor(x)
    if x.dtype == tf.bool:
        x = tf.cast(x, "int32")
    return tf.math.square(x)


def conjugate(x):
    """Element-wise complex conjugate."""
    return tf.math.conj(tensor(x))


conj = conjugate


def real(x):
    """Real part."""
    return tf.math.real(tensor(x))


def imag(x):
    """Imaginary part (zeros for real inputs)."""
    x = tensor(x)
    if not x.dtype.is_complex:
        return tf.zeros_like(x)
    return tf.math.imag(x)


def copy(x):
    """Returns a copy of `x`."""
    return tf.identity(tensor(x))


# -- binary arithmetic -----------------------------------------------------------------------


def add(x1, x2):
    """Element-wise `x1 + x2`."""
    x1, x2 = pair(x1, x2)
    if x1.dtype == tf.bool:
        return tf.math.logical_or(x1, x2)
    return tf.math.add(x1, x2)


def subtract(x1, x2):
    """Element-wise `x1 - x2`."""
    x1, x2 = pair(x1, x2)
    return tf.math.subtract(x1, x2)


def multiply(x1, x2):
    """Element-wise `x1 * x2` (integers wrap on overflow)."""
    x1, x2 = pair(x1, x2)
    if x1.dtype == tf.bool:
        return tf.math.logical_and(x1, x2)
    return tf.math.multiply(x1, x2)


def _float_pair(x1, x2):
    x1, x2 = pair(x1, x2)
    name = x1.dtype.name
    if is_float(name) or x1.dtype.is_complex:
        return x1, x2
    target = promote(name, float)
    return tf.cast(x1, target), tf.cast(x2, target)


def divide(x1, x2):
    """Element-wise true division (integers give `floatx()`)."""
    x1, x2 = _float_pair(x1, x2)
    return tf.math.truediv(x1, x2)


true_divide = divide


def divide_no_nan(x1, x2):
    """Element-wise division returning 0 where `x2 == 0`."""
    x1, x2 = _float_pair(x1, x2)
    return tf.math.divide_no_nan(x1, x2)


def _int_if_bool(x1, x2):
    x1, x2 = pair(x1, x2)
    if x1.dtype == tf.bool:
        return tf.cast(x1, "int32"), tf.cast(x2, "int32")
    return x1, x2


def floor_divide(x1, x2):
    """Element-wise floor division."""
    x1, x2 = _int_if_bool(x1, x2)
    return tf.math.floordiv(x1, x2)


def mod(x1, x2):
    """Element-wise remainder with the sign of `x2`."""
    x1, x2 = _int_if_bool(x1, x2)
    return tf.math.floormod(x1, x2)


def power(x1, x2):
    """Element-wise `x1 ** x2`."""
    x1, x2 = _int_if_bool(x1, x2)
    return tf.math.pow(x1, x2)


def maximum(x1, x2):
    """Element-wise maximum."""
    x1, x2 = pair(x1, x2)
    if x1.dtype == tf.bool:
        return tf.math.logical_or(x1, x2)
    return tf.math.maximum(x1, x2)


def minimum(x1, x2):
    """Element-wise minimum."""
    x1, x2 = pair(x1, x2)
    if x1.dtype == tf.bool:
        return tf.math.logical_and(x1, x2)
    return tf.math.minimum(x1, x2)


def arctan2(x1, x2):
    """Element-wise arc tangent of `x1 / x2` choosing the quadrant."""
    x1, x2 = _float_pair(x1, x2)
    return tf.math.atan2(x1, x2)


def logaddexp(x1, x2):
    """Element-wise `log(exp(x1) + exp(x2))`, computed stably."""
    x1, x2 = _float_pair(x1, x2)
    delta = x1 - x2
    stable = tf.math.maximum(x1, x2) + tf.math.log1p(tf.math.exp(-tf.math.abs(delta)))
    # Equal infinities give a NaN delta; their sum is the right answer there.
    return tf.where(tf.math.is_nan(delta), x1 + x2, stable)


# -- comparisons and logic -------------------------------------------------------------------


def _compare(tf_fn, name, doc):
    def op(x1, x2):
        x1, x2 = pair(x1, x2)
        return tf_fn(x1, x2)

    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc
    return op


equal = _compare(tf.math.equal, "equal", "Element-wise `x1 == x2`.")
not_equal = _compare(tf.math.not_equal, "not_equal", "Element-wise `x1 != x2`.")
greater = _compare(tf.math.greater, "greater", "Element-wise `x1 > x2`.")
greater_equal = _compare(tf.math.greater_equal, "greater_equal", "Element-wise `x1 >= x2`.")
less = _compare(tf.math.less, "less", "Element-wise `x1 < x2`.")
less_equal = _compare(tf.math.less_equal, "less_equal", "Element-wise `x1 <= x2`.")


def _bool(x):
    return tensor(x, "bool")


def logical_and(x1, x2):
    """Element-wise logical AND."""
    return tf.math.logical_and(_bool(x1), _bool(x2))


def logical_or(x1, x2):
    """Element-wise logical OR."""
    return tf.math.logical_or(_bool(x1), _bool(x2))


def logical_xor(x1, x2):
    """Element-wise logical XOR."""
    return tf.math.logical_xor(_bool(x1), _bool(x2))


def logical_not(x):
    """Element-wise logical NOT."""
    return tf.math.logical_not(_bool(x))


def isclose(x1, x2, rtol=1e-05, atol=1e-08, equal_nan=False):
    """Element-wise `|x1 - x2| <= atol + rtol * |x2|` (equal infinities are close)."""
    x1, x2 = pair(x1, x2)
    if not (is_float(x1.dtype.name) or x1.dtype.is_complex):
        return tf.math.equal(x1, x2)
    close = tf.math.abs(x1 - x2) <= cast_to(atol, x1.dtype) + cast_to(rtol, x1.dtype) * tf.math.abs(x2)
    close = tf.math.logical_or(close, tf.math.equal(x1, x2))
    if equal_nan:
        close = tf.math.logical_or(close, tf.math.logical_and(tf.math.is_nan(x1), tf.math.is_nan(x2)))
    return close


def isfinite(x):
    """Element-wise finiteness test."""
    x = tensor(x)
    if not is_float(x.dtype.name):
        return tf.ones_like(x, dtype="bool")
    return tf.math.is_finite(x)


def isinf(x):
    """Element-wise infinity test."""
    x = tensor(x)
    if not is_float(x.dtype.name):
        return tf.zeros_like(x, dtype="bool")
    return tf.math.is_inf(x)


def isnan(x):
    """Element-wise NaN test."""
    x = tensor(x)
    if not is_float(x.dtype.name):
        return tf.zeros_like(x, dtype="bool")
    return tf.math.is_nan(x)


# -- bitwise -----------------------------------------------------------------------------------


def _int_pair(x1, x2, op):
    x1, x2 = pair(x1, x2)
    name = x1.dtype.name
    if not (is_int(name) or name == "bool"):
        raise TypeError(f"{op}: expected integer or boolean tensors, received dtype {name}")
    return x1, x2


def bitwise_and(x, y):
    """Element-wise bitwise AND."""
    x, y = _int_pair(x, y, "bitwise_and")
    if x.dtype == tf.bool:
        return tf.math.logical_and(x, y)
    return tf.bitwise.bitwise_and(x, y)


def bitwise_or(x, y):
    """Element-wise bitwise OR."""
    x, y = _int_pair(x, y, "bitwise_or")
    if x.dtype == tf.bool:
        return tf.math.logical_or(x, y)
    return tf.bitwise.bitwise_or(x, y)


def bitwise_xor(x, y):
    """Element-wise bitwise XOR."""
    x, y = _int_pair(x, y, "bitwise_xor")
    if x.dtype == tf.bool:
        return tf.math.logical_xor(x, y)
    return tf.bitwise.bitwise_xor(x, y)


def bitwise_not(x):
    """Element-wise bitwise NOT."""
    x = tensor(x)
    if x.dtype == tf.bool:
        return tf.math.logical_not(x)
    return tf.bitwise.invert(x)


def left_shift(x, y):
    """Element-wise `x << y`."""
    x, y = _int_pair(x, y, "left_shift")
    return tf.bitwise.left_shift(x, y)


def right_shift(x, y):
    """Element-wise arithmetic `x >> y` (sign-extending for signed types)."""
    x, y = _int_pair(x, y, "right_shift")
    return tf.bitwise.right_shift(x, y)


# -- selection ---------------------------------------------------------------------------------


def where(condition, x1=None, x2=None):
    """Chooses `x1` where `condition` else `x2`; with neither, the indices of non-zero entries."""
    if x1 is None and x2 is None:
        return nonzero(condition)
    if x1 is None or x2 is None:
        raise ValueError("where: `x1` and `x2` must be given together (or both omitted)")
    condition = _bool(condition)
    x1, x2 = pair(x1, x2)
    return tf.where(condition, x1, x2)


def clip(x, x_min, x_max):
    """Clips values to [x_min, x_max]; the result keeps `x`'s dtype (bool becomes int32)."""
    x = tensor(x)
    if x.dtype == tf.bool:
        x = tf.cast(x, "int32")
    name = x.dtype.name
    return tf.math.minimum(tf.math.maximum(x, tensor(x_min, name)), tensor(x_max, name))


def nan_to_num(x, nan=0.0, posinf=None, neginf=None):
    """Replaces NaN and infinities with finite numbers."""
    x = tensor(x)
    if not is_float(x.dtype.name):
        return x
    dtype = x.dtype
    posinf = dtype.max if posinf is None else posinf
    neginf = dtype.min if neginf is None else neginf
    x = tf.where(tf.math.is_nan(x), cast_to(nan, dtype), x)
    x = tf.where(tf.math.equal(x, tf.constant(math.inf, dtype)), cast_to(posinf, dtype), x)
    return tf.where(tf.math.equal(x, tf.constant(-math.inf, dtype)), cast_to(neginf, dtype), x)
