"""Element-wise, comparison and reduction ops of the torch backend (Keras 3 `keras.ops.numpy`)."""

# ruff: noqa: A001, A002
import torch

from kbridge.adapters.torch.backend._common import (
    INTLIKE,
    Tensor,
    convert,
    floatx,
    pair,
    pair_tensors,
    promote,
)

__all__ = [
    "abs", "absolute", "add", "subtract", "multiply", "divide", "true_divide", "divide_no_nan",
    "floor_divide", "mod", "power", "negative", "reciprocal", "square", "sqrt", "sign",
    "exp", "exp2", "expm1", "log", "log10", "log1p", "log2", "logaddexp",
    "sin", "cos", "tan", "arcsin", "arccos", "arctan", "arctan2", "sinh", "cosh", "tanh",
    "arcsinh", "arccosh", "arctanh", "ceil", "floor", "round", "trunc", "clip", "maximum", "minimum",
    "equal", "not_equal", "greater", "greater_equal", "less", "less_equal",
    "logical_and", "logical_or", "logical_xor", "logical_not",
    "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not", "left_shift", "right_shift",
    "isfinite", "isinf", "isnan", "isclose", "nan_to_num", "where",
]  # fmt: skip

# -- arithmetic ---------------------------------------------------------------------------


def add(x1, x2):
    """Element-wise `x1 + x2`."""
    x1, x2 = pair(x1, x2)
    return x1 + x2


def subtract(x1, x2):
    """Element-wise `x1 - x2`."""
    x1, x2 = pair(x1, x2)
    return x1 - x2


def multiply(x1, x2):
    """Element-wise `x1 * x2`."""
    x1, x2 = pair(x1, x2)
    return x1 * x2


def _floats(x1, x2):
    x1, x2 = pair(x1, x2)
    ref = x1 if isinstance(x1, Tensor) else x2
    if ref.dtype in INTLIKE:
        target = floatx()
        x1 = x1.to(target) if isinstance(x1, Tensor) else x1
        x2 = x2.to(target) if isinstance(x2, Tensor) else x2
    return x1, x2


def divide(x1, x2):
    """Element-wise true division (ints give floatx)."""
    x1, x2 = _floats(x1, x2)
    return x1 / x2


def true_divide(x1, x2):
    """Element-wise true division (ints give floatx)."""
    return divide(x1, x2)


def divide_no_nan(x1, x2):
    """Element-wise division returning 0 where `x2 == 0`."""
    x1, x2 = _floats(x1, x2)
    if not isinstance(x2, Tensor):
        return x1 / x2 if x2 != 0 else torch.zeros_like(x1)
    zero = x2 == 0
    return torch.where(zero, 0.0, x1 / torch.where(zero, 1, x2))


def floor_divide(x1, x2):
    """Element-wise floor division."""
    x1, x2 = pair(x1, x2)
    return x1 // x2


def mod(x1, x2):
    """Element-wise remainder with the sign of `x2`."""
    x1, x2 = pair(x1, x2)
    return x1 % x2


def power(x1, x2):
    """Element-wise `x1 ** x2`."""
    x1, x2 = pair(x1, x2)
    return x1**x2


def negative(x):
    """Element-wise negation."""
    if not isinstance(x, Tensor):
        x = convert(x)
    return torch.neg(x)


def abs(x):
    """Element-wise absolute value."""
    if not isinstance(x, Tensor):
        x = convert(x)
    return torch.abs(x)


def absolute(x):
    """Element-wise absolute value."""
    return abs(x)


def square(x):
    """Element-wise square."""
    if not isinstance(x, Tensor):
        x = convert(x)
    if x.dtype is torch.bool:
        x = x.to(torch.int32)
    return x * x


def sign(x):
    """Element-wise sign."""
    if not isinstance(x, Tensor):
        x = convert(x)
    return torch.sign(x)


def _float_unary(fn, name, doc):
    def op(x):
        if not isinstance(x, Tensor):
            x = convert(x)
        if x.dtype in INTLIKE:
            x = x.to(floatx())
        return fn(x)

    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc
    return op


sqrt = _float_unary(torch.sqrt, "sqrt", "Element-wise square root.")
reciprocal = _float_unary(torch.reciprocal, "reciprocal", "Element-wise `1 / x`.")
exp = _float_unary(torch.exp, "exp", "Element-wise exponential.")
exp2 = _float_unary(torch.exp2, "exp2", "Element-wise `2 ** x`.")
expm1 = _float_unary(torch.expm1, "expm1", "Element-wise `exp(x) - 1`.")
log = _float_unary(torch.log, "log", "Element-wise natural logarithm.")
log10 = _float_unary(torch.log10, "log10", "Element-wise base-10 logarithm.")
log1p = _float_unary(torch.log1p, "log1p", "Element-wise `log(1 + x)`.")
log2 = _float_unary(torch.log2, "log2", "Element-wise base-2 logarithm.")
sin = _float_unary(torch.sin, "sin", "Element-wise sine.")
cos = _float_unary(torch.cos, "cos", "Element-wise cosine.")
tan = _float_unary(torch.tan, "tan", "Element-wise tangent.")
arcsin = _float_unary(torch.asin, "arcsin", "Element-wise inverse sine.")
arccos = _float_unary(torch.acos, "arccos", "Element-wise inverse cosine.")
arctan = _float_unary(torch.atan, "arctan", "Element-wise inverse tangent.")
sinh = _float_unary(torch.sinh, "sinh", "Element-wise hyperbolic sine.")
cosh = _float_unary(torch.cosh, "cosh", "Element-wise hyperbolic cosine.")
tanh = _float_unary(torch.tanh, "tanh", "Element-wise hyperbolic tangent.")
arcsinh = _float_unary(torch.asinh, "arcsinh", "Element-wise inverse hyperbolic sine.")
arccosh = _float_unary(torch.acosh, "arccosh", "Element-wise inverse hyperbolic cosine.")
arctanh = _float_unary(torch.atanh, "arctanh", "Element-wise inverse hyperbolic tangent.")
ceil = _float_unary(torch.ceil, "ceil", "Element-wise ceiling (ints give floatx).")
floor = _float_unary(torch.floor, "floor", "Element-wise floor (ints give floatx).")


def logaddexp(x1, x2):
    """Element-wise `log(exp(x1) + exp(x2))`."""
    x1, x2 = pair_tensors(*_floats(x1, x2))
    return torch.logaddexp(x1, x2)


def arctan2(x1, x2):
    """Element-wise arc tangent of `x1 / x2` choosing the quadrant."""
    x1, x2 = pair_tensors(*_floats(x1, x2))
    return torch.atan2(x1, x2)


def round(x, decimals=0):
    """Rounds half to even to `decimals` places (ints stay ints)."""
    if not isinstance(x, Tensor):
        x = convert(x)
    if x.dtype in INTLIKE:
        if decimals >= 0:
            return x
        factor = 10 ** (-decimals)
        return (torch.round(x.double() / factor) * factor).to(x.dtype)
    return torch.round(x, decimals=decimals)


def trunc(x):
    """Element-wise truncation toward zero (ints stay ints)."""
    if not isinstance(x, Tensor):
        x = convert(x)
    if x.dtype in INTLIKE:
        return x
    return torch.trunc(x)


def _bound(value, x):
    if value is None or type(value) in (int, float):
        return value
    return convert(value, device=x.device)


def clip(x, x_min, x_max):
    """Clips values to [x_min, x_max] (bool becomes int32; float bounds make int `x` floatx)."""
    if not isinstance(x, Tensor):
        x = convert(x)
    if x.dtype is torch.bool:
        x = x.to(torch.int32)
    x_min, x_max = _bound(x_min, x), _bound(x_max, x)
    dtype = x.dtype
    for bound in (x_min, x_max):
        if isinstance(bound, Tensor):
            dtype = promote(dtype, bound.dtype)
        elif type(bound) is float and dtype in INTLIKE:
            dtype = floatx()
    if dtype is not x.dtype:
        x = x.to(dtype)
    x_min = x_min.to(dtype) if isinstance(x_min, Tensor) else x_min
    x_max = x_max.to(dtype) if isinstance(x_max, Tensor) else x_max
    return torch.clamp(x, x_min, x_max)


def maximum(x1, x2):
    """Element-wise maximum (NaN propagates)."""
    x1, x2 = pair(x1, x2)
    if not isinstance(x2, Tensor):
        return torch.clamp_min(x1, x2)
    if not isinstance(x1, Tensor):
        return torch.clamp_min(x2, x1)
    return torch.maximum(x1, x2)


def minimum(x1, x2):
    """Element-wise minimum (NaN propagates)."""
    x1, x2 = pair(x1, x2)
    if not isinstance(x2, Tensor):
        return torch.clamp_max(x1, x2)
    if not isinstance(x1, Tensor):
        return torch.clamp_max(x2, x1)
    return torch.minimum(x1, x2)


# -- comparison and logic -----------------------------------------------------------------


def equal(x1, x2):
    """Element-wise `x1 == x2`."""
    x1, x2 = pair(x1, x2)
    return x1 == x2 if isinstance(x1, Tensor) else x2 == x1


def not_equal(x1, x2):
    """Element-wise `x1 != x2`."""
    x1, x2 = pair(x1, x2)
    return x1 != x2 if isinstance(x1, Tensor) else x2 != x1


def greater(x1, x2):
    """Element-wise `x1 > x2`."""
    x1, x2 = pair(x1, x2)
    return x1 > x2 if isinstance(x1, Tensor) else x2 < x1


def greater_equal(x1, x2):
    """Element-wise `x1 >= x2`."""
    x1, x2 = pair(x1, x2)
    return x1 >= x2 if isinstance(x1, Tensor) else x2 <= x1


def less(x1, x2):
    """Element-wise `x1 < x2`."""
    x1, x2 = pair(x1, x2)
    return x1 < x2 if isinstance(x1, Tensor) else x2 > x1


def less_equal(x1, x2):
    """Element-wise `x1 <= x2`."""
    x1, x2 = pair(x1, x2)
    return x1 <= x2 if isinstance(x1, Tensor) else x2 >= x1


def _bools(x1, x2):
    x1 = x1 if isinstance(x1, Tensor) else convert(x1, device=x2.device if isinstance(x2, Tensor) else None)
    x2 = x2 if isinstance(x2, Tensor) else convert(x2, device=x1.device)
    return x1, x2


def logical_and(x1, x2):
    """Element-wise logical AND."""
    return torch.logical_and(*_bools(x1, x2))


def logical_or(x1, x2):
    """Element-wise logical OR."""
    return torch.logical_or(*_bools(x1, x2))


def logical_xor(x1, x2):
    """Element-wise logical XOR."""
    return torch.logical_xor(*_bools(x1, x2))


def logical_not(x):
    """Element-wise logical NOT."""
    if not isinstance(x, Tensor):
        x = convert(x)
    return torch.logical_not(x)


def bitwise_and(x, y):
    """Element-wise bitwise AND."""
    x, y = pair(x, y)
    return x & y


def bitwise_or(x, y):
    """Element-wise bitwise OR."""
    x, y = pair(x, y)
    return x | y


def bitwise_xor(x, y):
    """Element-wise bitwise XOR."""
    x, y = pair(x, y)
    return x ^ y


def bitwise_not(x):
    """Element-wise bitwise NOT."""
    if not isinstance(x, Tensor):
        x = convert(x)
    return torch.bitwise_not(x)


def left_shift(x, y):
    """Element-wise `x << y` (wrapping)."""
    x, y = pair(x, y)
    return x << y


def right_shift(x, y):
    """Element-wise arithmetic `x >> y`."""
    x, y = pair(x, y)
    # Not `x >> y`: torch-xla lowers `__rshift__` as a division rounding toward zero
    # (-1 >> 16 gives 0), which breaks the random ops' hash on XLA devices. Its
    # `bitwise_right_shift` shifts arithmetically but widens `int32 >> python_int` to int64.
    out = torch.bitwise_right_shift(x, y)
    dtype = x.dtype if isinstance(x, Tensor) else y.dtype
    return out if out.dtype is dtype else out.to(dtype)


def isfinite(x):
    """Element-wise finiteness test."""
    if not isinstance(x, Tensor):
        x = convert(x)
    return torch.isfinite(x)


def isinf(x):
    """Element-wise infinity test."""
    if not isinstance(x, Tensor):
        x = convert(x)
    return torch.isinf(x)


def isnan(x):
    """Element-wise NaN test."""
    if not isinstance(x, Tensor):
        x = convert(x)
    return torch.isnan(x)


def isclose(x1, x2, rtol=1e-05, atol=1e-08, equal_nan=False):
    """Element-wise `|x1 - x2| <= atol + rtol * |x2|`."""
    x1, x2 = pair_tensors(x1, x2)
    return torch.isclose(x1, x2, rtol=rtol, atol=atol, equal_nan=equal_nan)


def nan_to_num(x, nan=0.0, posinf=None, neginf=None):
    """Replaces NaN and infinities with finite numbers."""
    if not isinstance(x, Tensor):
        x = convert(x)
    if x.dtype in INTLIKE:
        return x
    return torch.nan_to_num(x, nan=nan, posinf=posinf, neginf=neginf)


def where(condition, x1=None, x2=None):
    """`x1` where `condition` else `x2`; with only `condition`, its non-zero indices."""
    if x1 is None and x2 is None:
        from kbridge.adapters.torch.backend.numpy_stats import nonzero

        return nonzero(condition)
    if x1 is None or x2 is None:
        raise ValueError("where: `x1` and `x2` must both be given, or neither.")
    x1, x2 = pair(x1, x2)
    if not isinstance(condition, Tensor):
        condition = convert(condition, device=(x1 if isinstance(x1, Tensor) else x2).device)
    if condition.dtype is not torch.bool:
        condition = condition.bool()
    return torch.where(condition, x1, x2)
