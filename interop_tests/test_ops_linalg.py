"""Products: dot, matmul (batch broadcasting), einsum, tensordot, outer, vdot, cross, trace."""

import numpy as np
import pytest

rng = np.random.default_rng(3)
F = np.float32


def r(*shape):
    return rng.uniform(-1.0, 1.0, shape).astype(F)


A, B, V, W = r(3, 4), r(4, 5), r(4), r(4)
A3, B3 = r(2, 3, 4), r(2, 4, 5)
I1 = np.array([[1, 2], [3, 4]], np.int32)
I2 = np.array([[5, -1], [0, 2]], np.int32)


def case(id, op, args, ref=None, kwargs=None, **opts):
    """One test: `op(*args, **kwargs)` against NumPy's `ref` (default: the NumPy function of that name)."""
    opts.setdefault("atol", 1e-5)
    return pytest.param(op, args, kwargs or {}, ref or getattr(np, op), opts, id=id)


CASES = [
    case("dot-vectors", "dot", (V, W)),
    case("dot-matrices", "dot", (A, B)),
    case("dot-matrix_vector", "dot", (A, V)),
    case("dot-scalar", "dot", (A, np.array(2.0, F))),
    case("dot-int32", "dot", (I1, I2)),
    case("matmul", "matmul", (A, B)),
    case("matmul-batched", "matmul", (A3, B3)),
    case("matmul-broadcast_batch", "matmul", (A3, B)),
    case("matmul-broadcast_ones", "matmul", (r(2, 1, 3, 4), r(3, 4, 2))),
    case("matmul-vector_right", "matmul", (A3, V)),
    case("matmul-vector_left", "matmul", (V, B)),
    case("matmul-int32", "matmul", (I1, I2)),
    case("einsum-matmul", "einsum", ("ij,jk->ik", A, B)),
    case("einsum-batched", "einsum", ("bij,bjk->bik", A3, B3)),
    case("einsum-inner", "einsum", ("i,i->", V, W)),
    case("einsum-implicit_transpose", "einsum", ("ij", A)),
    case("einsum-trace", "einsum", ("ii->", r(3, 3))),
    case("einsum-ellipsis", "einsum", ("...ij,...jk->...ik", A3, B3)),
    case("einsum-three_operands", "einsum", ("ij,jk,k->i", A, B, r(5))),
    case("tensordot-int", "tensordot", (A3, r(3, 4, 2))),
    case("tensordot-int1", "tensordot", (A, B), kwargs={"axes": 1}),
    case("tensordot-pairs", "tensordot", (A3, r(4, 2, 3)), kwargs={"axes": ([1, 2], [2, 0])}),
    case("outer", "outer", (V, r(3))),
    case("outer-flattens", "outer", (A, r(2))),
    case("vdot", "vdot", (V, W)),
    case("vdot-flattens", "vdot", (A, r(3, 4))),
    case("cross", "cross", (r(3), r(3))),
    case("cross-batched", "cross", (r(4, 3), r(4, 3))),
    case("cross-broadcast", "cross", (r(4, 3), r(3))),
    case("cross-axis", "cross", (r(3, 2), r(3, 2)), kwargs={"axis": 0}),
    case("cross-2d_vectors", "cross", (r(4, 2), r(4, 2)), lambda a, b: a[..., 0] * b[..., 1] - a[..., 1] * b[..., 0]),
    case("trace", "trace", (A,)),
    case("trace-offset", "trace", (A,), kwargs={"offset": 1}),
    case("trace-axes", "trace", (A3,), kwargs={"offset": -1, "axis1": 1, "axis2": 2}),
    case("trace-int32", "trace", (I1,)),
]


@pytest.mark.parametrize("op,args,kwargs,ref,opts", CASES)
def test_linalg(bk, op, args, kwargs, ref, opts):
    bk.check(op, args, kwargs, ref, **opts)
