"""JAX backend: element-wise NumPy-like ops (unary, binary, comparisons, bitwise, products)."""

import math

import jax.numpy as jnp

from .core import _BOOL, _INEXACT, _INT32, _floatx, _pair, _t, _to_float


def _float_unary(function, name, doc):
    """An op `name(x)` applying `function` after casting ints/bools to `floatx()`."""

    def op(x):
        return function(_to_float(_t(x)))

    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc
    return op


def _binary(function, name, doc):
    """An op `name(x1, x2)` applying `function` to the Keras-promoted operands."""

    def op(x1, x2):
        x1, x2 = _pair(x1, x2)
        return function(x1, x2)

    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc
    return op


def _float_pair(x1, x2):
    """Operands promoted, then to `floatx()` if the result would not be a float."""
    x1, x2 = _pair(x1, x2)
    dtype = jnp.result_type(x1, x2)
    if dtype not in _INEXACT:
        dtype = _floatx()
    return jnp.asarray(x1, dtype), jnp.asarray(x2, dtype)


def _float_binary(function, name, doc):
    def op(x1, x2):
        return function(*_float_pair(x1, x2))

    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc
    return op


# -- unary -------------------------------------------------------------------------------

arccos = _float_unary(jnp.arccos, "arccos", "Element-wise inverse cosine.")
arccosh = _float_unary(jnp.arccosh, "arccosh", "Element-wise inverse hyperbolic cosine.")
arcsin = _float_unary(jnp.arcsin, "arcsin", "Element-wise inverse sine.")
arcsinh = _float_unary(jnp.arcsinh, "arcsinh", "Element-wise inverse hyperbolic sine.")
arctan = _float_unary(jnp.arctan, "arctan", "Element-wise inverse tangent.")
arctanh = _float_unary(jnp.arctanh, "arctanh", "Element-wise inverse hyperbolic tangent.")
cos = _float_unary(jnp.cos, "cos", "Element-wise cosine.")
cosh = _float_unary(jnp.cosh, "cosh", "Element-wise hyperbolic cosine.")
sin = _float_unary(jnp.sin, "sin", "Element-wise sine.")
sinh = _float_unary(jnp.sinh, "sinh", "Element-wise hyperbolic sine.")
tan = _float_unary(jnp.tan, "tan", "Element-wise tangent.")
tanh = _float_unary(jnp.tanh, "tanh", "Element-wise hyperbolic tangent.")
exp = _float_unary(jnp.exp, "exp", "Element-wise exponential.")
exp2 = _float_unary(jnp.exp2, "exp2", "Element-wise `2 ** x`.")
expm1 = _float_unary(jnp.expm1, "expm1", "Element-wise `exp(x) - 1`.")
log = _float_unary(jnp.log, "log", "Element-wise natural logarithm.")
log10 = _float_unary(jnp.log10, "log10", "Element-wise base-10 logarithm.")
log1p = _float_unary(jnp.log1p, "log1p", "Element-wise `log(1 + x)`.")
log2 = _float_unary(jnp.log2, "log2", "Element-wise base-2 logarithm.")
sqrt = _float_unary(jnp.sqrt, "sqrt", "Element-wise square root.")
ceil = _float_unary(jnp.ceil, "ceil", "Element-wise ceiling (ints become floats, as Keras).")
floor = _float_unary(jnp.floor, "floor", "Element-wise floor (ints become floats, as Keras).")
reciprocal = _float_unary(jnp.reciprocal, "reciprocal", "Element-wise `1 / x`.")


def abs(x):
    """Element-wise absolute value."""
    return jnp.abs(_t(x))


def absolute(x):
    """Element-wise absolute value."""
    return jnp.abs(_t(x))


def negative(x):
    """Element-wise negation."""
    return jnp.negative(_t(x))


def sign(x):
    """Element-wise sign."""
    return jnp.sign(_t(x))


def square(x):
    """Element-wise square (bools become int32)."""
    x = _t(x)
    if x.dtype == _BOOL:
        x = x.astype(_INT32)
    return jnp.square(x)


def conjugate(x):
    """Element-wise complex conjugate."""
    return jnp.conjugate(_t(x))


def conj(x):
    """Element-wise complex conjugate."""
    return jnp.conjugate(_t(x))


def real(x):
    """Real part."""
    return jnp.real(_t(x))


def imag(x):
    """Imaginary part."""
    return jnp.imag(_t(x))


def isfinite(x):
    """Element-wise finiteness test."""
    return jnp.isfinite(_t(x))


def isinf(x):
    """Element-wise infinity test."""
    return jnp.isinf(_t(x))


def isnan(x):
    """Element-wise NaN test."""
    return jnp.isnan(_t(x))


def logical_not(x):
    """Element-wise logical NOT."""
    return jnp.logical_not(_t(x))


def bitwise_not(x):
    """Element-wise bitwise NOT."""
    return jnp.invert(_t(x))


def trunc(x):
    """Element-wise truncation toward zero (ints unchanged)."""
    x = _t(x)
    return jnp.trunc(x) if x.dtype in _INEXACT else x


def round(x, decimals=0):
    """Rounds half to even to `decimals` places."""
    x = _t(x)
    if decimals < 0 and x.dtype not in _INEXACT and x.dtype != _BOOL:
        # jnp.round cannot round integers to tens, hundreds...: go through floats.
        factor = math.pow(10, -decimals)
        as_float = x.astype(_floatx())
        return (jnp.round(as_float / factor) * factor).astype(x.dtype)
    return jnp.round(x, decimals=decimals)


def nan_to_num(x, nan=0.0, posinf=None, neginf=None):
    """Replaces NaN and infinities with finite numbers."""
    return jnp.nan_to_num(_t(x), nan=nan, posinf=posinf, neginf=neginf)


def copy(x):
    """Returns a copy of `x`."""
    return jnp.array(_t(x), copy=True)


# -- binary ------------------------------------------------------------------------------

add = _binary(jnp.add, "add", "Element-wise `x1 + x2`.")
subtract = _binary(jnp.subtract, "subtract", "Element-wise `x1 - x2`.")
multiply = _binary(jnp.multiply, "multiply", "Element-wise `x1 * x2`.")
maximum = _binary(jnp.maximum, "maximum", "Element-wise maximum.")
minimum = _binary(jnp.minimum, "minimum", "Element-wise minimum.")
mod = _binary(jnp.mod, "mod", "Element-wise remainder with the sign of `x2`.")
floor_divide = _binary(jnp.floor_divide, "floor_divide", "Element-wise floor division.")
power = _binary(jnp.power, "power", "Element-wise `x1 ** x2`.")
equal = _binary(jnp.equal, "equal", "Element-wise `x1 == x2`.")
not_equal = _binary(jnp.not_equal, "not_equal", "Element-wise `x1 != x2`.")
greater = _binary(jnp.greater, "greater", "Element-wise `x1 > x2`.")
greater_equal = _binary(jnp.greater_equal, "greater_equal", "Element-wise `x1 >= x2`.")
less = _binary(jnp.less, "less", "Element-wise `x1 < x2`.")
less_equal = _binary(jnp.less_equal, "less_equal", "Element-wise `x1 <= x2`.")
logical_and = _binary(jnp.logical_and, "logical_and", "Element-wise logical AND.")
logical_or = _binary(jnp.logical_or, "logical_or", "Element-wise logical OR.")
logical_xor = _binary(jnp.logical_xor, "logical_xor", "Element-wise logical XOR.")
divide = _float_binary(jnp.divide, "divide", "Element-wise true division (ints give `floatx()`).")
true_divide = _float_binary(jnp.divide, "true_divide", "Element-wise true division (ints give `floatx()`).")
arctan2 = _float_binary(jnp.arctan2, "arctan2", "Element-wise arc tangent of `x1 / x2` choosing the quadrant.")
logaddexp = _float_binary(jnp.logaddexp, "logaddexp", "Element-wise `log(exp(x1) + exp(x2))`.")


def divide_no_nan(x1, x2):
    """Element-wise division returning 0 where `x2 == 0`."""
    x1, x2 = _float_pair(x1, x2)
    zero = x2 == 0
    return jnp.where(zero, jnp.zeros((), x1.dtype), x1 / jnp.where(zero, jnp.ones((), x2.dtype), x2))


def bitwise_and(x, y):
    """Element-wise bitwise AND."""
    x, y = _pair(x, y)
    return jnp.bitwise_and(x, y)


def bitwise_or(x, y):
    """Element-wise bitwise OR."""
    x, y = _pair(x, y)
    return jnp.bitwise_or(x, y)


def bitwise_xor(x, y):
    """Element-wise bitwise XOR."""
    x, y = _pair(x, y)
    return jnp.bitwise_xor(x, y)


def left_shift(x, y):
    """Element-wise `x << y`."""
    x, y = _pair(x, y)
    return jnp.left_shift(x, y)


def right_shift(x, y):
    """Element-wise `x >> y`, arithmetic (sign-extending) for signed ints."""
    x, y = _pair(x, y)
    return jnp.right_shift(x, y)


def isclose(x1, x2, rtol=1e-05, atol=1e-08, equal_nan=False):
    """Element-wise `abs(x1 - x2) <= atol + rtol * abs(x2)`."""
    x1, x2 = _pair(x1, x2)
    return jnp.isclose(x1, x2, rtol=rtol, atol=atol, equal_nan=equal_nan)


# -- products ----------------------------------------------------------------------------


def matmul(x1, x2):
    """Matrix product with broadcasting of batch dimensions (int8 x int8 accumulates in int32)."""
    x1, x2 = _pair(x1, x2)
    int8 = getattr(x1, "dtype", None) == jnp.int8 and getattr(x2, "dtype", None) == jnp.int8
    return jnp.matmul(x1, x2, preferred_element_type=_INT32 if int8 else None)


def dot(x1, x2):
    """Dot product (matrix product for 2-D; a scalar operand multiplies)."""
    x1, x2 = _pair(x1, x2)
    return jnp.dot(x1, x2)


def vdot(x1, x2):
    """Dot product of flattened vectors."""
    x1, x2 = _pair(x1, x2)
    return jnp.vdot(x1, x2)


def outer(x1, x2):
    """Outer product of two vectors (flattened first)."""
    x1, x2 = _pair(x1, x2)
    return jnp.outer(x1, x2)


def tensordot(x1, x2, axes=2):
    """Tensor dot product over `axes`."""
    x1, x2 = _pair(x1, x2)
    return jnp.tensordot(x1, x2, axes=axes)


def einsum(subscripts, *operands):
    """Einstein summation."""
    operands = [_t(x) for x in operands]
    preferred = None
    if operands and all(x.dtype == jnp.int8 for x in operands):
        preferred = _INT32
    return jnp.einsum(subscripts, *operands, preferred_element_type=preferred)


def cross(x1, x2, axisa=-1, axisb=-1, axisc=-1, axis=None):
    """Cross product of 3-vectors (or 2-vectors)."""
    x1, x2 = _pair(x1, x2)
    return jnp.cross(x1, x2, axisa=axisa, axisb=axisb, axisc=axisc, axis=axis)
