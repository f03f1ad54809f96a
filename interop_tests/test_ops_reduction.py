"""Reductions, scans and sorting (axis None/int/negative/tuple, keepdims) on every backend."""

import numpy as np
import pytest

rng = np.random.default_rng(1)
F = np.float32

X3 = rng.uniform(-2.0, 2.0, (2, 3, 4)).astype(F)
X2 = rng.uniform(-2.0, 2.0, (4, 5)).astype(F)
P2 = rng.uniform(0.5, 1.5, (3, 4)).astype(F)
I2 = rng.integers(-5, 6, (3, 4)).astype(np.int32)
B2 = np.array([[True, True, False, True], [True, True, True, True], [False, False, False, False]])
TIES = np.array([[1.0, 3.0, 3.0, 0.0], [2.0, 2.0, -1.0, 2.0]], F)


def case(id, op, args, ref=None, kwargs=None, **opts):
    """One test: `op(*args, **kwargs)` against NumPy's `ref` (default: the NumPy function of that name)."""
    return pytest.param(op, args, kwargs or {}, ref or getattr(np, op), opts, id=id)


def _axes_cases(op, x, ref=None, axes=(None, 0, -1, (0, 2)), keepdims=True, **opts):
    out = []
    for axis in axes:
        label = (
            "None" if axis is None else str(axis).replace(" ", "").replace("(", "").replace(")", "").replace(",", "_")
        )
        out.append(case(f"{op}-axis{label}", op, (x,), ref, {"axis": axis}, **opts))
        if keepdims:
            out.append(case(f"{op}-axis{label}-keepdims", op, (x,), ref, {"axis": axis, "keepdims": True}, **opts))
    return out


CASES = []
for _op in ("sum", "mean", "max", "min", "amax", "amin", "var", "std"):
    CASES += _axes_cases(_op, X3, rtol=2e-5)
CASES += _axes_cases("prod", P2, axes=(None, 0, -1, (0, 1)))
CASES += _axes_cases("all", B2, axes=(None, 0, -1))
CASES += _axes_cases("any", B2, axes=(None, 0, -1))
CASES += _axes_cases("argmax", X3, axes=(None, 1, -1), keepdims=False)
CASES += _axes_cases("argmin", X3, axes=(None, 0, -1), keepdims=False)
CASES += _axes_cases("median", X2, axes=(None, 0, -1))
CASES += [
    case("sum-int32", "sum", (I2,), kwargs={"axis": 1}),
    case("sum-bool", "sum", (B2,)),
    case("max-int32", "max", (I2,), kwargs={"axis": 0}),
    case("max-initial", "max", (X2,), kwargs={"axis": 1, "initial": 1.5}),
    case("min-initial", "min", (X2,), kwargs={"axis": 0, "initial": -0.5}),
    case("mean-int32", "mean", (I2,), kwargs={"axis": -1}),
    case("prod-int32", "prod", (I2,), kwargs={"axis": 0}),
    case(
        "prod-dtype",
        "prod",
        (I2,),
        kwargs={"axis": 1, "dtype": "float32"},
        ref=lambda x, axis, dtype: np.prod(x, axis=axis, dtype=np.float32),
    ),
    case("all-float", "all", (X2,), kwargs={"axis": 0}),
    case("any-int32", "any", (I2,), kwargs={"axis": 1}),
    case("argmax-ties_first", "argmax", (TIES,), kwargs={"axis": 1}),
    case("argmin-ties_first", "argmin", (TIES,), kwargs={"axis": 1}),
    case("argmax-keepdims", "argmax", (X3,), kwargs={"axis": 2, "keepdims": True}),
    case("count_nonzero-axisNone", "count_nonzero", (I2,)),
    case("count_nonzero-axis0", "count_nonzero", (I2,), kwargs={"axis": 0}),
    case("count_nonzero-axis0_1", "count_nonzero", (X3 * (X3 > 0),), kwargs={"axis": (0, 1)}),
    case("average-axisNone", "average", (X2,)),
    case("average-axis1_weights", "average", (X2,), kwargs={"axis": 1, "weights": np.arange(1, 6).astype(F)}),
    case("average-full_weights", "average", (X2,), kwargs={"axis": None, "weights": np.abs(X2) + 0.1}),
    case("average-int32", "average", (I2,), kwargs={"axis": 0}),
    case("median-even_count", "median", (X2[:, :4],), kwargs={"axis": 1}),
    case("median-int32", "median", (I2,), kwargs={"axis": 1}),
    # cumulative (axis None flattens)
    case("cumsum-axisNone", "cumsum", (X3,)),
    case("cumsum-axis1", "cumsum", (X3,), kwargs={"axis": 1}),
    case("cumsum-axis-1", "cumsum", (X3,), kwargs={"axis": -1}),
    case("cumsum-int32", "cumsum", (I2,), kwargs={"axis": 0}),
    case(
        "cumsum-dtype",
        "cumsum",
        (I2,),
        kwargs={"axis": 1, "dtype": "float32"},
        ref=lambda x, axis, dtype: np.cumsum(x, axis=axis, dtype=np.float32),
    ),
    case("cumprod-axisNone", "cumprod", (P2,)),
    case("cumprod-axis0", "cumprod", (P2,), kwargs={"axis": 0}),
    case("cumprod-int32", "cumprod", (I2,), kwargs={"axis": -1}),
    # sorting
    case("sort-last", "sort", (X3,)),
    case("sort-axis0", "sort", (X3,), kwargs={"axis": 0}),
    case("sort-int32", "sort", (I2,), kwargs={"axis": 1}),
    case("argsort-last", "argsort", (X3,)),
    case("argsort-axis1", "argsort", (X3,), kwargs={"axis": 1}),
    case(
        "argsort-stable_ties",
        "argsort",
        (np.array([3, 1, 3, 1, 2, 1], np.int32),),
        ref=lambda x: np.argsort(x, kind="stable"),
    ),
    # bincount
    case("bincount", "bincount", (np.array([0, 1, 1, 3, 1, 0], np.int32),)),
    case("bincount-minlength", "bincount", (np.array([0, 1, 1, 3], np.int32),), kwargs={"minlength": 6}),
    case(
        "bincount-weights",
        "bincount",
        (np.array([0, 1, 1, 3], np.int32),),
        kwargs={"weights": np.array([0.5, 1.0, 2.0, -1.0], F)},
    ),
]

# quantile: no interpolation point falls on a .5 (so "nearest" has no ties): (5 - 1) * q
for _method in ("linear", "lower", "higher", "midpoint", "nearest"):
    CASES.append(
        case(
            f"quantile-{_method}", "quantile", (X2, np.array([0.1, 0.5, 0.9], F)), kwargs={"axis": 1, "method": _method}
        )
    )
CASES += [
    case("quantile-scalar_q", "quantile", (X2, 0.3), kwargs={"axis": 0}),
    case("quantile-axisNone_keepdims", "quantile", (X2, 0.7), kwargs={"keepdims": True}),
]


@pytest.mark.parametrize("op,args,kwargs,ref,opts", CASES)
def test_reduction(bk, op, args, kwargs, ref, opts):
    bk.check(op, args, kwargs, ref, **opts)
