"""Element-wise ops (unary, binary with broadcasting, comparisons, logic, bits) on every backend."""

import numpy as np
import pytest

rng = np.random.default_rng(0)
F = np.float32

X = rng.uniform(-2.0, 2.0, (3, 4)).astype(F)
Y = rng.uniform(-2.0, 2.0, (3, 4)).astype(F)
ROW = rng.uniform(-2.0, 2.0, (4,)).astype(F)
COL = rng.uniform(-2.0, 2.0, (3, 1)).astype(F)
POS = rng.uniform(0.5, 3.0, (3, 4)).astype(F)
UNIT = rng.uniform(-0.9, 0.9, (3, 4)).astype(F)
GE1 = rng.uniform(1.1, 3.0, (3, 4)).astype(F)
I = np.array([[-7, -2, 0, 3], [5, -1, 8, 2], [1, 4, -6, 9]], dtype=np.int32)
J = np.array([[3, 2, 5, -3], [2, 7, 1, 2], [3, 1, 4, -4]], dtype=np.int32)
B1 = np.array([[True, False, True, False]] * 3)
B2 = np.array([[True, True, False, False]] * 3)
SPECIAL = np.array([1.0, np.nan, np.inf, -np.inf, -2.5, 0.0], dtype=F)
CPLX = (rng.uniform(-1, 1, (2, 3)) + 1j * rng.uniform(-1, 1, (2, 3))).astype(np.complex64)


def case(id, op, args, ref=None, kwargs=None, **opts):
    """One test: `op(*args, **kwargs)` against NumPy's `ref` (default: the NumPy function of that name)."""
    return pytest.param(op, args, kwargs or {}, ref or getattr(np, op), opts, id=id)


def _divide_no_nan(x1, x2):
    safe = np.where(x2 == 0, 1, x2)
    return np.where(x2 == 0, 0, x1 / safe).astype(np.result_type(x1, x2, np.float32))


UNARY_FLOAT = [
    ("abs", X), ("absolute", X), ("arccos", UNIT), ("arccosh", GE1), ("arcsin", UNIT), ("arcsinh", X),
    ("arctan", X), ("arctanh", UNIT), ("cos", X), ("cosh", X), ("exp", X), ("exp2", X), ("expm1", UNIT * 0.01),
    ("log", POS), ("log10", POS), ("log1p", UNIT * 0.001), ("log2", POS), ("negative", X), ("reciprocal", POS),
    ("sin", X), ("sinh", X), ("sqrt", POS), ("square", X), ("tan", UNIT), ("tanh", X), ("copy", X),
]  # fmt: skip

# Tiny arguments with atol=0: log1p/expm1 must keep their relative accuracy near 0.
CASES = [case(op, op, (x,), atol=0.0 if op in ("expm1", "log1p") else 1e-6) for op, x in UNARY_FLOAT]
CASES += [
    case("ceil", "ceil", (X,), exact=True),
    case("floor", "floor", (X,), exact=True),
    case("trunc", "trunc", (X,), exact=True),
    case("sign", "sign", (np.array([-2.5, 0.0, 3.0], F),), exact=True),
    case("round-half_even", "round", (np.array([0.5, 1.5, 2.5, -0.5, -1.5, 2.4, -2.6], F),), exact=True),
    case("round-decimals", "round", (np.array([1.234, -5.678, 3.14159], F),), kwargs={"decimals": 1}),
    case("abs-int32", "abs", (I,)),
    case("negative-int32", "negative", (I,)),
    case("sign-int32", "sign", (I,)),
    case("square-int32", "square", (I,)),
    case("real-float", "real", (X,)),
    case("imag-float", "imag", (X,)),
    case("conj-float", "conj", (X,)),
    case("real-complex", "real", (CPLX,)),
    case("imag-complex", "imag", (CPLX,)),
    case("conj-complex", "conj", (CPLX,)),
    case("conjugate-complex", "conjugate", (CPLX,)),
    # binary float, with broadcasting and weak Python scalars
    case("add", "add", (X, Y)),
    case("add-row_broadcast", "add", (X, ROW)),
    case("add-outer_broadcast", "add", (COL, ROW)),
    case("add-scalar", "add", (X, 2.5)),
    case("add-int32", "add", (I, J)),
    case("add-int32_pyint", "add", (I, 3)),
    case("subtract", "subtract", (X, ROW)),
    case("subtract-scalar_first", "subtract", (1.5, X)),
    case("multiply", "multiply", (COL, ROW)),
    case(
        "multiply-int32_wraps",
        "multiply",
        (np.array([65536, 123456789, -7], np.int32), np.array([65536, 31, 3], np.int32)),
    ),
    case("add-int32_wraps", "add", (np.array([2**31 - 1, -(2**31)], np.int32), np.array([1, -1], np.int32))),
    case("divide", "divide", (X, POS)),
    case("divide-int32_gives_float", "divide", (I, J)),
    case("true_divide", "true_divide", (X, POS)),
    case(
        "divide_no_nan",
        "divide_no_nan",
        (np.array([1.0, -2.0, 3.0, 0.0], F), np.array([2.0, 0.0, -4.0, 0.0], F)),
        _divide_no_nan,
    ),
    case("maximum", "maximum", (X, ROW)),
    case("minimum", "minimum", (X, COL)),
    case("maximum-scalar", "maximum", (X, 0.0)),
    case("minimum-int32", "minimum", (I, J)),
    case("power", "power", (POS, X)),
    case("power-int32", "power", (I, np.abs(J))),
    case("power-scalar", "power", (X, 2)),
    case(
        "arctan2-quadrants",
        "arctan2",
        (np.array([1.0, 1.0, -1.0, -1.0, 0.0], F), np.array([1.0, -1.0, -1.0, 1.0, -1.0], F)),
    ),
    case("logaddexp", "logaddexp", (X, Y)),
    case("mod-float", "mod", (np.array([-3.5, -1.25, 2.75, 5.5], F), np.array([2.0, 1.0, -2.0, 4.0], F))),
    case("mod-int32", "mod", (np.array([-7, 7, -7, 7, 9], np.int32), np.array([3, 3, -3, -3, 4], np.int32))),
    case(
        "floor_divide-float",
        "floor_divide",
        (np.array([-7.5, 7.5, -1.0, 9.0], F), np.array([2.0, -2.0, 3.0, 4.0], F)),
        exact=True,
    ),
    case(
        "floor_divide-int32",
        "floor_divide",
        (np.array([-7, 7, -7, 7, 9], np.int32), np.array([2, 2, -2, -2, 3], np.int32)),
    ),
    case("clip", "clip", (X, -0.5, 0.75)),
    case("clip-int32", "clip", (I, -2, 4)),
    # comparisons (bool results, exact)
    case("equal", "equal", (I, J)),
    case("equal-broadcast", "equal", (I, np.array([3, 2, 0, 3], np.int32))),
    case("not_equal", "not_equal", (I, J)),
    case("greater", "greater", (X, ROW)),
    case("greater_equal", "greater_equal", (I, J)),
    case("less", "less", (X, 0.0)),
    case("less_equal", "less_equal", (I, 2)),
    case("isclose", "isclose", (np.array([1.0, 1.0, 1.0, 100.0], F), np.array([1.0 + 1e-6, 1.001, 2.0, 100.0005], F))),
    case(
        "isclose-tolerances",
        "isclose",
        (np.array([1.0, 1.0, 100.0], F), np.array([1.05, 1.2, 101.0], F)),
        kwargs={"rtol": 0.0, "atol": 0.1},
    ),
    case(
        "isclose-equal_nan",
        "isclose",
        (np.array([np.nan, 1.0, np.nan], F), np.array([np.nan, 1.0, 0.0], F)),
        kwargs={"equal_nan": True},
    ),
    case("isclose-nan_not_equal", "isclose", (np.array([np.nan, 1.0], F), np.array([np.nan, 1.0], F))),
    case("isfinite", "isfinite", (SPECIAL,)),
    case("isinf", "isinf", (SPECIAL,)),
    case("isnan", "isnan", (SPECIAL,)),
    case("nan_to_num", "nan_to_num", (SPECIAL,)),
    case("nan_to_num-values", "nan_to_num", (SPECIAL,), kwargs={"nan": -1.0, "posinf": 9.0, "neginf": -9.0}),
    # logic
    case("logical_and", "logical_and", (B1, B2)),
    case("logical_or", "logical_or", (B1, B2)),
    case("logical_xor", "logical_xor", (B1, B2)),
    case("logical_not", "logical_not", (B1,)),
    case("logical_and-float", "logical_and", (np.array([0.0, 1.5, -2.0, 0.0], F), np.array([1.0, 0.0, 3.0, 0.0], F))),
    case("logical_not-int32", "logical_not", (np.array([0, 2, -1], np.int32),)),
    # bits: int32 two's complement, arithmetic right shift
    case("bitwise_and", "bitwise_and", (I, J)),
    case("bitwise_or", "bitwise_or", (I, J)),
    case("bitwise_xor", "bitwise_xor", (I, J)),
    case("bitwise_not", "bitwise_not", (I,)),
    case("bitwise_and-pyint", "bitwise_and", (I, 0x7FFFFFFF)),
    case("left_shift", "left_shift", (np.array([1, 3, -1, 5], np.int32), np.array([31, 2, 4, 0], np.int32))),
    case(
        "right_shift-arithmetic",
        "right_shift",
        (np.array([-8, 8, -1, 2**30, -(2**31)], np.int32), np.array([1, 2, 5, 30, 31], np.int32)),
    ),
    # where
    case("where", "where", (X > 0, X, Y)),
    case("where-broadcast_scalars", "where", (B1, 1.0, ROW)),
    case("where-int32", "where", (I > 0, I, 0)),
    case("where-one_argument", "where", (np.array([[0.0, 1.5, 0.0], [2.0, 0.0, -1.0]], F),), np.nonzero),
]


@pytest.mark.parametrize("op,args,kwargs,ref,opts", CASES)
def test_elementwise(bk, op, args, kwargs, ref, opts):
    bk.check(op, args, kwargs, ref, **opts)
