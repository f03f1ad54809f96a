"""`kbridge.ops.math`: logsumexp, top_k, in_top_k, segments, erf/erfinv, rsqrt, frames, norms."""

import math

import numpy as np
import pytest

rng = np.random.default_rng(4)
F = np.float32

X = rng.uniform(-2.0, 2.0, (3, 5)).astype(F)
X3 = rng.uniform(-2.0, 2.0, (2, 3, 4)).astype(F)
POS = rng.uniform(0.2, 4.0, (3, 4)).astype(F)
V = np.array([3.0, -4.0, 0.0, 1.5, -0.5], F)
M = rng.uniform(-1.0, 1.0, (4, 3)).astype(F)
M3 = rng.uniform(-1.0, 1.0, (2, 3, 3)).astype(F)
DISTINCT = rng.permutation(20).reshape(4, 5).astype(F) / 4.0 - 2.0  # no ties
_erf = np.vectorize(math.erf, otypes=[np.float64])


def case(id, op, args, ref, kwargs=None, **opts):
    """One test: `op(*args, **kwargs)` against the NumPy reference `ref`."""
    return pytest.param(op, args, kwargs or {}, ref, opts, id=id)


def _logsumexp(x, axis=None, keepdims=False):
    x = x.astype(np.float64)
    m = np.max(x, axis=axis, keepdims=True)
    out = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
    return (out if keepdims else np.squeeze(out, axis=axis)).astype(F)


def _top_k(x, k, sorted=True):
    order = np.argsort(-x, axis=-1, kind="stable")[..., :k]
    return np.take_along_axis(x, order, axis=-1), order.astype(np.int32)


def _in_top_k(targets, predictions, k):
    at_target = np.take_along_axis(predictions, targets[:, None].astype(np.int64), axis=-1)
    return 1 + np.sum(predictions > at_target, axis=-1) <= k


def _segment(reduce, empty):
    def ref(data, segment_ids, num_segments=None, sorted=False):
        n = int(segment_ids.max()) + 1 if num_segments is None else num_segments
        out = np.full((n,) + data.shape[1:], empty, data.dtype)
        for s in range(n):
            members = data[segment_ids == s]
            if len(members):
                out[s] = reduce(members, axis=0)
        return out

    return ref


def _frames(x, sequence_length, sequence_stride):
    count = 1 + (x.shape[-1] - sequence_length) // sequence_stride
    starts = range(0, count * sequence_stride, sequence_stride)
    return np.stack([x[..., s : s + sequence_length] for s in starts], axis=-2)


IDS = np.array([0, 2, 0, 1, 2, 2], np.int32)
SORTED_IDS = np.array([0, 0, 1, 1, 1, 3], np.int32)
DATA = rng.uniform(-2.0, 2.0, (6,)).astype(F)
DATA2 = rng.uniform(-2.0, 2.0, (6, 2)).astype(F)

CASES = [
    case("logsumexp-axisNone", "logsumexp", (X3,), _logsumexp),
    case("logsumexp-axis1", "logsumexp", (X3,), _logsumexp, {"axis": 1}),
    case("logsumexp-axis-1_keepdims", "logsumexp", (X3,), _logsumexp, {"axis": -1, "keepdims": True}),
    case("logsumexp-axis_tuple", "logsumexp", (X3,), _logsumexp, {"axis": (0, 2)}),
    case("logsumexp-large_values_stable", "logsumexp", (X * 10 + 500,), _logsumexp, {"axis": 1}),
    case("top_k", "top_k", (DISTINCT, 3), _top_k),
    case("top_k-k1", "top_k", (DISTINCT[0], 1), _top_k),
    case("top_k-3d", "top_k", (X3, 2), _top_k),
    case("in_top_k", "in_top_k", (np.array([0, 4, 2, 1], np.int32), DISTINCT, 2), _in_top_k),
    case(
        "in_top_k-ties_count_in",
        "in_top_k",
        (
            np.array([2, 1, 3], np.int32),
            np.array([[0.1, 0.5, 0.5, 0.2], [0.3, 0.3, 0.3, 0.0], [0.4, 0.1, 0.2, 0.3]], F),
            1,
        ),
        _in_top_k,
    ),
    case("segment_sum", "segment_sum", (DATA, IDS), _segment(np.sum, 0), {"num_segments": 3}),
    case("segment_sum-2d", "segment_sum", (DATA2, IDS), _segment(np.sum, 0), {"num_segments": 3}),
    case("segment_sum-empty_segment", "segment_sum", (DATA, IDS), _segment(np.sum, 0), {"num_segments": 4}),
    case(
        "segment_sum-sorted",
        "segment_sum",
        (DATA2, SORTED_IDS),
        _segment(np.sum, 0),
        {"num_segments": 4, "sorted": True},
    ),
    case("segment_sum-inferred_num", "segment_sum", (DATA, IDS), _segment(np.sum, 0)),
    case(
        "segment_sum-int32",
        "segment_sum",
        (np.arange(6, dtype=np.int32), IDS),
        _segment(np.sum, 0),
        {"num_segments": 3},
    ),
    case("segment_max", "segment_max", (DATA, IDS), _segment(np.max, 0), {"num_segments": 3}),
    case("segment_max-2d", "segment_max", (DATA2, IDS), _segment(np.max, 0), {"num_segments": 3}),
    case(
        "segment_max-sorted",
        "segment_max",
        (DATA2, np.array([0, 0, 1, 1, 1, 2], np.int32)),
        _segment(np.max, 0),
        {"num_segments": 3, "sorted": True},
    ),
    case("segment_max-inferred_num", "segment_max", (DATA, IDS), _segment(np.max, 0)),
    case("erf", "erf", (X,), lambda x: _erf(x).astype(F)),
    case("erf-wide", "erf", (np.array([-5.0, -1.0, -1e-3, 0.0, 1e-3, 0.5, 3.0], F),), lambda x: _erf(x).astype(F)),
    case("rsqrt", "rsqrt", (POS,), lambda x: (1.0 / np.sqrt(x.astype(np.float64))).astype(F)),
    case("extract_sequences", "extract_sequences", (rng.uniform(-1, 1, (2, 10)).astype(F), 4, 3), _frames),
    case("extract_sequences-1d", "extract_sequences", (np.arange(9, dtype=F), 3, 2), _frames),
    case("extract_sequences-3d", "extract_sequences", (rng.uniform(-1, 1, (2, 2, 7)).astype(F), 2, 2), _frames),
]

# norm: numpy.linalg.norm semantics for vectors and matrices
for _ord in (None, 1, 2, np.inf, -np.inf, 0, 3):
    CASES.append(case(f"norm-vector_ord{_ord}", "norm", (V,), np.linalg.norm, {"ord": _ord}))
for _ord in (None, "fro", "nuc", 1, -1, 2, -2, np.inf, -np.inf):
    CASES.append(case(f"norm-matrix_ord{_ord}", "norm", (M,), np.linalg.norm, {"ord": _ord, "axis": (0, 1)}))
CASES += [
    case("norm-axisNone_flat", "norm", (X3,), np.linalg.norm),
    case("norm-axis1", "norm", (X,), np.linalg.norm, {"axis": 1}),
    case("norm-axis0_ord1_keepdims", "norm", (X,), np.linalg.norm, {"ord": 1, "axis": 0, "keepdims": True}),
    case("norm-batched_fro", "norm", (M3,), np.linalg.norm, {"ord": "fro", "axis": (1, 2)}),
    case("norm-batched_ord1_keepdims", "norm", (M3,), np.linalg.norm, {"ord": 1, "axis": (-2, -1), "keepdims": True}),
    case("norm-matrix_swapped_axes_inf", "norm", (M,), np.linalg.norm, {"ord": np.inf, "axis": (1, 0)}),
]


@pytest.mark.parametrize("op,args,kwargs,ref,opts", CASES)
def test_math(bk, op, args, kwargs, ref, opts):
    bk.check(op, args, kwargs, ref, **opts)


def test_top_k_unsorted(bk):
    """`sorted=False`: the same set of values, each index pointing at its value."""
    values, indices = bk.run("top_k", DISTINCT, 3, sorted=False)
    expected, _ = _top_k(DISTINCT, 3)
    np.testing.assert_array_equal(np.sort(values, axis=-1), np.sort(expected, axis=-1))
    np.testing.assert_array_equal(np.take_along_axis(DISTINCT, indices.astype(np.int64), axis=-1), values)


def test_erfinv_round_trip(bk):
    """erf(erfinv(y)) == y (reference erf: `math.erf`), erfinv is odd and erfinv(0) == 0."""
    y = np.array([-0.99, -0.9, -0.6, -0.2, -1e-4, 0.0, 1e-4, 0.2, 0.6, 0.9, 0.99], F)
    x = bk.run("erfinv", y)
    assert bk.dtypes(bk.run_native("erfinv", y)) == "float32"
    np.testing.assert_allclose(_erf(x.astype(np.float64)), y, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(x, -x[::-1], rtol=1e-6, atol=0)
    assert x[5] == 0.0
    # A few known values: erf(0.4769362762044699) = 0.5, erf(1.1630871536766743) = 0.9
    known = bk.run("erfinv", np.array([0.5, 0.9], F))
    np.testing.assert_allclose(known, [0.4769362762044699, 1.1630871536766743], rtol=1e-5)
