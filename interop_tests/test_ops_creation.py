"""Creation ops (arange, eye, full, linspace, ...) with values and default dtypes, on every backend."""

import numpy as np
import pytest

F = np.float32
X = np.array([[1.5, -2.0, 0.25], [3.0, 0.5, -1.0]], F)
I = np.array([[1, -2, 3], [4, 0, 6]], np.int32)


def case(id, op, args, ref=None, kwargs=None, **opts):
    """One test: `op(*args, **kwargs)` against NumPy's `ref` (default: the NumPy function of that name)."""
    return pytest.param(op, args, kwargs or {}, ref or getattr(np, op), opts, id=id)


def _const(value):
    return lambda *args, **kwargs: value


CASES = [
    case("arange-stop", "arange", (5,), dtype="int32"),
    case("arange-start_stop_step", "arange", (2, 11, 3), dtype="int32"),
    case("arange-negative_step", "arange", (10, 0, -3), dtype="int32"),
    case("arange-float_step", "arange", (0.0, 1.0, 0.25), dtype="float32"),
    case("arange-dtype", "arange", (4,), kwargs={"dtype": "float32"}, dtype="float32"),
    case("array-int_list", "array", ([[1, 2], [3, 4]],), dtype="int32"),
    case("array-float_list", "array", ([1.5, 2.0],), dtype="float32"),
    case("array-dtype_cast", "array", (X,), kwargs={"dtype": "int32"}),
    case("empty", "empty", ((2, 3),), _const(np.zeros((2, 3), F))),
    case("empty-dtype", "empty", ((2,),), _const(np.zeros((2,), np.int32)), kwargs={"dtype": "int32"}),
    case("eye", "eye", (3,), dtype="float32"),
    case("eye-rect_k", "eye", (3,), kwargs={"M": 4, "k": 1}),
    case("eye-negative_k", "eye", (4,), kwargs={"k": -2}),
    case("eye-int32", "eye", (3,), kwargs={"dtype": "int32"}),
    case("identity", "identity", (3,), dtype="float32"),
    case("identity-int32", "identity", (2,), kwargs={"dtype": "int32"}),
    case("full-float", "full", ((2, 3), 1.5), dtype="float32"),
    case("full-int_fill_default_floatx", "full", ((2,), 3), dtype="float32"),
    case("full-dtype", "full", ((2, 2), 3), kwargs={"dtype": "int32"}),
    case("full-broadcast_fill", "full", ((2, 3), np.array([1.0, 2.0, 3.0], F))),
    case("full_like", "full_like", (I, 7)),
    case("full_like-float", "full_like", (X, -0.5)),
    case("full_like-dtype", "full_like", (X, 2), kwargs={"dtype": "int32"}),
    case("ones", "ones", ((2, 3),), dtype="float32"),
    case("ones-dtype", "ones", ((3,),), kwargs={"dtype": "int32"}),
    case("ones_like", "ones_like", (I,)),
    case("ones_like-dtype", "ones_like", (I,), kwargs={"dtype": "float32"}),
    case("zeros", "zeros", ((3, 1),), dtype="float32"),
    case("zeros-dtype", "zeros", ((2,),), kwargs={"dtype": "bool"}),
    case("zeros_like", "zeros_like", (X,)),
    case("zeros_like-dtype", "zeros_like", (X,), kwargs={"dtype": "int32"}),
    case("linspace", "linspace", (0.0, 1.0, 5), dtype="float32"),
    case("linspace-no_endpoint", "linspace", (-1.0, 1.0), kwargs={"num": 4, "endpoint": False}, dtype="float32"),
    case("linspace-int_bounds", "linspace", (0, 10, 6), dtype="float32"),
    case("linspace-retstep", "linspace", (0.0, 2.0, 5), kwargs={"retstep": True}, native=False, dtype=None),
    case("linspace-array_bounds", "linspace", (np.array([0.0, 1.0], F), np.array([1.0, 3.0], F), 3)),
    case("tri", "tri", (3,), dtype="float32"),
    case("tri-rect_k", "tri", (3,), kwargs={"M": 4, "k": 1}, dtype="float32"),
    case("tri-int32", "tri", (3,), kwargs={"k": -1, "dtype": "int32"}),
]


@pytest.mark.parametrize("op,args,kwargs,ref,opts", CASES)
def test_creation(bk, op, args, kwargs, ref, opts):
    bk.check(op, args, kwargs, ref, **opts)
