"""Shape and layout ops: reshape, split, pad, take, stacking, triangles, ... on every backend."""

import numpy as np
import pytest

rng = np.random.default_rng(2)
F = np.float32

X = rng.uniform(-2.0, 2.0, (3, 4)).astype(F)
X3 = rng.uniform(-2.0, 2.0, (2, 3, 4)).astype(F)
V = np.arange(6, dtype=F) - 2.5
I = np.arange(12, dtype=np.int32).reshape(3, 4)
S = rng.uniform(-2.0, 2.0, (2, 1, 3, 1)).astype(F)


def case(id, op, args, ref=None, kwargs=None, **opts):
    """One test: `op(*args, **kwargs)` against NumPy's `ref` (default: the NumPy function of that name)."""
    return pytest.param(op, args, kwargs or {}, ref or getattr(np, op), opts, id=id)


CASES = [
    # reshape / ravel / squeeze / expand_dims
    case("reshape", "reshape", (X3, (4, 6))),
    case("reshape-minus_one", "reshape", (X3, (2, -1, 2))),
    case("reshape-flat_minus_one", "reshape", (X3, (-1,))),
    case("ravel", "ravel", (X3,)),
    case("squeeze-axisNone", "squeeze", (S,)),
    case("squeeze-axis1", "squeeze", (S,), kwargs={"axis": 1}),
    case("squeeze-axis-1", "squeeze", (S,), kwargs={"axis": -1}),
    case("squeeze-axis_tuple", "squeeze", (S,), kwargs={"axis": (1, 3)}),
    case("expand_dims-0", "expand_dims", (X, 0)),
    case("expand_dims-negative", "expand_dims", (X, -1)),
    case("expand_dims-tuple", "expand_dims", (X, (0, 3))),
    # transposes
    case("transpose-default", "transpose", (X3,)),
    case("transpose-axes", "transpose", (X3,), kwargs={"axes": (1, 0, 2)}),
    case("swapaxes", "swapaxes", (X3, 0, -1)),
    case("moveaxis-int", "moveaxis", (X3, 0, -1)),
    case("moveaxis-tuple", "moveaxis", (X3, (0, 1), (2, 0))),
    # joining and splitting
    case("concatenate-axis0", "concatenate", ([X, X[:1]],)),
    case("concatenate-axis-1", "concatenate", ([X, X[:, :2], X[:, :1]],), kwargs={"axis": -1}),
    case("stack-axis0", "stack", ([X, X * 2],)),
    case("stack-axis-1", "stack", ([V, V + 1, V + 2],), kwargs={"axis": -1}),
    case("hstack-1d", "hstack", ([V, V[:2]],)),
    case("hstack-2d", "hstack", ([X, X[:, :1]],)),
    case("vstack-1d", "vstack", ([V, V * 2],)),
    case("vstack-2d", "vstack", ([X, X[:2]],)),
    case("append-axisNone", "append", (X, V)),
    case("append-axis0", "append", (X, X[:1]), kwargs={"axis": 0}),
    case("split-sections", "split", (X3, 2), kwargs={"axis": 0}),
    case("split-sections_axis-1", "split", (X3, 2), kwargs={"axis": -1}),
    case("split-indices", "split", (V, [1, 4])),
    case("split-indices_axis2", "split", (X3, [1, 3]), kwargs={"axis": 2}),
    # tiling / repeating / broadcasting
    case("tile-short_reps", "tile", (X, (2,))),
    case("tile-2d", "tile", (X, (2, 3))),
    case("tile-long_reps", "tile", (X, (2, 1, 2))),
    case("repeat-flat", "repeat", (X, 2)),
    case("repeat-axis1", "repeat", (X, 3), kwargs={"axis": 1}),
    case("repeat-list_axis0", "repeat", (X, [1, 0, 2]), kwargs={"axis": 0}),
    case("broadcast_to", "broadcast_to", (V, (2, 6))),
    case("broadcast_to-column", "broadcast_to", (X[:, :1], (2, 3, 5))),
    # reordering
    case("flip-axisNone", "flip", (X3,)),
    case("flip-axis1", "flip", (X3,), kwargs={"axis": 1}),
    case("flip-axis_tuple", "flip", (X3,), kwargs={"axis": (0, -1)}),
    case("roll-flat", "roll", (X, 5)),
    case("roll-axis1", "roll", (X, -1), kwargs={"axis": 1}),
    case("roll-tuples", "roll", (X3, (1, 2)), kwargs={"axis": (0, 2)}),
    # padding
    case("pad-constant", "pad", (X, ((1, 2), (0, 1)))),
    case("pad-constant_value", "pad", (X, ((1, 1), (2, 0))), kwargs={"constant_values": 7.0}),
    case("pad-constant_int32", "pad", (I, ((0, 1), (1, 1))), kwargs={"constant_values": -1}),
    case("pad-reflect", "pad", (X, ((2, 1), (1, 2))), kwargs={"mode": "reflect"}),
    case("pad-symmetric", "pad", (X, ((2, 1), (1, 3))), kwargs={"mode": "symmetric"}),
    case("pad-reflect_3d", "pad", (X3, ((0, 0), (1, 1), (2, 2))), kwargs={"mode": "reflect"}),
    case("pad-symmetric_1d", "pad", (V, ((3, 2),)), kwargs={"mode": "symmetric"}),
    # gathering
    case("take-flat", "take", (X, np.array([[0, 5], [11, 3]], np.int32))),
    case("take-axis1_negative", "take", (X, np.array([-1, 0, -3], np.int32)), kwargs={"axis": 1}),
    case("take-axis0", "take", (X3, np.array([1, 0, 1], np.int32)), kwargs={"axis": 0}),
    case("take-axis-1_2d_indices", "take", (X3, np.array([[0, 3], [2, 2]], np.int32)), kwargs={"axis": -1}),
    case("take-python_list_indices", "take", (X, [0, 2, -1]), kwargs={"axis": 1}),
    case("take_along_axis-axis1", "take_along_axis", (X, np.argsort(X, axis=1).astype(np.int32)), kwargs={"axis": 1}),
    case("take_along_axis-axis0", "take_along_axis", (X, np.array([[2, 0, 1, 1]], np.int32)), kwargs={"axis": 0}),
    case("take_along_axis-axisNone", "take_along_axis", (X, np.array([11, 0, 4], np.int32)), kwargs={"axis": None}),
    case("nonzero", "nonzero", (np.array([[0.0, 1.5, 0.0], [2.0, 0.0, -1.0]], F),)),
    case("nonzero-1d_int", "nonzero", (np.array([0, 3, 0, 0, -2], np.int32),)),
    # diagonals and triangles
    case("diag-from_vector", "diag", (V[:3],)),
    case("diag-from_vector_k1", "diag", (V[:3],), kwargs={"k": 1}),
    case("diag-from_matrix", "diag", (X,)),
    case("diag-from_matrix_k-1", "diag", (X,), kwargs={"k": -1}),
    case("diagonal", "diagonal", (X,)),
    case("diagonal-offset", "diagonal", (X,), kwargs={"offset": 1}),
    case("diagonal-3d_axes", "diagonal", (X3,), kwargs={"offset": -1, "axis1": 1, "axis2": 2}),
    case("tril", "tril", (X,)),
    case("tril-k", "tril", (X,), kwargs={"k": -1}),
    case("tril-batched", "tril", (X3,), kwargs={"k": 1}),
    case("triu", "triu", (X,)),
    case("triu-k", "triu", (X,), kwargs={"k": 1}),
    case("triu-batched", "triu", (X3,), kwargs={"k": -1}),
    # differences and bins
    case("diff", "diff", (X,)),
    case("diff-n2_axis1", "diff", (X3,), kwargs={"n": 2, "axis": 1}),
    case("digitize", "digitize", (np.array([-1.0, 0.0, 0.5, 1.0, 2.5, 9.0], F), np.array([0.0, 1.0, 2.0], F))),
    case("meshgrid-xy", "meshgrid", (V[:3], V[:2])),
    case("meshgrid-ij", "meshgrid", (V[:3], V[:2]), kwargs={"indexing": "ij"}),
    # sizes (Python ints or scalar tensors)
    case("ndim", "ndim", (X3,), native=False, dtype=None),
    case("size", "size", (X3,), native=False, dtype=None),
]


@pytest.mark.parametrize("op,args,kwargs,ref,opts", CASES)
def test_shape_ops(bk, op, args, kwargs, ref, opts):
    bk.check(op, args, kwargs, ref, **opts)
