"""Core ops: conversion, casts, slicing/scatter updates, getitem, control flow; op-set coverage."""

import pathlib
import re

import numpy as np
import pytest

import kbridge
from kbridge import config, ops
from kbridge.backend import use

rng = np.random.default_rng(7)
F = np.float32
X = rng.uniform(-2.0, 2.0, (3, 4)).astype(F)
X3 = rng.uniform(-2.0, 2.0, (2, 3, 4)).astype(F)


def case(id, op, args, ref, kwargs=None, **opts):
    """One test: `op(*args, **kwargs)` against the NumPy reference `ref`."""
    return pytest.param(op, args, kwargs or {}, ref, opts, id=id)


def _getitem(x, key):
    return x[key]


def _slice(inputs, start_indices, shape):
    return inputs[tuple(slice(s, s + n) for s, n in zip(start_indices, shape))]


def _slice_update(inputs, start_indices, updates):
    out = inputs.copy()
    out[tuple(slice(s, s + n) for s, n in zip(start_indices, updates.shape))] = updates
    return out


def _scatter(indices, values, shape):
    out = np.zeros(shape, values.dtype)
    np.add.at(out, tuple(indices.T), values)  # duplicates add up
    return out


def _scatter_update(inputs, indices, updates):
    out = inputs.copy()
    out[tuple(indices.T)] = updates
    return out


def _saturate_cast(x, dtype):
    info = np.iinfo(dtype)
    return np.clip(x, info.min, info.max).astype(dtype)


GETITEM_KEYS = {
    "int": 1,
    "negative_int": -1,
    "slice": slice(1, 3),
    "step": slice(None, None, 2),
    "negative_step": slice(None, None, -1),
    "out_of_bounds_slice": slice(1, 100),
    "newaxis": (slice(None), None),
    "ellipsis_int": (Ellipsis, 0),
    "none_ellipsis_slice": (None, Ellipsis, slice(1, None)),
    "int_ellipsis_none": (1, Ellipsis, None),
    "mixed": (slice(None), slice(1, -1), slice(None, None, 2)),
    "int_tuple": (0, 2),
    "negative_slice_int": (slice(-2, None), -1),
}

CASES = [case(f"getitem-{name}", "getitem", (X3, key), _getitem) for name, key in GETITEM_KEYS.items()]
CASES += [
    case(
        "cast-float_to_int_truncates", "cast", (np.array([-1.7, 2.9, 0.4, -0.6], F), "int32"), lambda x, d: x.astype(d)
    ),
    case("cast-int_to_float", "cast", (np.array([-3, 7], np.int32), "float32"), lambda x, d: x.astype(d)),
    case("cast-float_to_bool", "cast", (np.array([0.0, -2.0, 0.5], F), "bool"), lambda x, d: x.astype(d)),
    case("cast-bool_to_float", "cast", (np.array([True, False]), "float32"), lambda x, d: x.astype(d)),
    case(
        "cast-int32_to_uint8_wraps", "cast", (np.array([1, 255, 256, 300], np.int32), "uint8"), lambda x, d: x.astype(d)
    ),
    case(
        "saturate_cast-float_to_uint8",
        "saturate_cast",
        (np.array([-5.5, 12.7, 300.0, 255.4], F), "uint8"),
        _saturate_cast,
    ),
    case(
        "saturate_cast-int32_to_int8",
        "saturate_cast",
        (np.array([-1000, 5, -128, 1000], np.int32), "int8"),
        _saturate_cast,
    ),
    case("convert_to_tensor-list", "convert_to_tensor", ([[1.5, 2.0], [3.0, 4.0]],), lambda x: np.array(x, F)),
    case("convert_to_tensor-dtype", "convert_to_tensor", (X,), lambda x, dtype: x.astype(dtype), {"dtype": "int32"}),
    case("convert_to_tensor-int_list", "convert_to_tensor", ([1, 2, 3],), lambda x: np.array(x, np.int32)),
    case("stop_gradient", "stop_gradient", (X,), lambda x: x),
    case("slice", "slice", (X3, (0, 1, 2), (2, 2, 2)), _slice),
    case("slice-full_axis", "slice", (X, [1, 0], [2, 4]), _slice),
    case("slice-tensor_start", "slice", (X3, np.array([1, 0, 1], np.int32), (1, 3, 2)), _slice),
    case(
        "slice_update-tensor_start",
        "slice_update",
        (X, np.array([1, 2], np.int32), np.full((2, 2), 5.0, F)),
        _slice_update,
    ),
    case("slice_update", "slice_update", (X3, (1, 0, 1), np.ones((1, 2, 3), F)), _slice_update),
    case(
        "slice_update-int32",
        "slice_update",
        (np.zeros((4, 4), np.int32), [2, 1], np.full((2, 3), 7, np.int32)),
        _slice_update,
    ),
    case(
        "scatter",
        "scatter",
        (np.array([[0, 1], [2, 3], [1, 1]], np.int32), np.array([1.0, 2.0, 3.0], F), (3, 4)),
        _scatter,
    ),
    case(
        "scatter-duplicates_add",
        "scatter",
        (np.array([[0, 1], [0, 1], [2, 0]], np.int32), np.array([1.5, 2.0, -1.0], F), (3, 2)),
        _scatter,
    ),
    case(
        "scatter-rows",
        "scatter",
        (np.array([[1], [3]], np.int32), np.arange(6, dtype=F).reshape(2, 3), (4, 3)),
        _scatter,
    ),
    case(
        "scatter_update",
        "scatter_update",
        (X, np.array([[0, 0], [2, 3]], np.int32), np.array([9.0, -9.0], F)),
        _scatter_update,
    ),
    case(
        "scatter_update-rows",
        "scatter_update",
        (X3, np.array([[1, 2], [0, 0]], np.int32), np.ones((2, 4), F)),
        _scatter_update,
    ),
    case("unstack-axis0", "unstack", (X,), lambda x: list(x)),
    case(
        "unstack-axis1_num", "unstack", (X,), lambda x, num, axis: list(np.moveaxis(x, axis, 0)), {"num": 4, "axis": 1}
    ),
    case("unstack-axis-1", "unstack", (X3,), lambda x, axis: list(np.moveaxis(x, axis, 0)), {"axis": -1}),
]


@pytest.mark.parametrize("op,args,kwargs,ref,opts", CASES)
def test_core(bk, op, args, kwargs, ref, opts):
    bk.check(op, args, kwargs, ref, **opts)


# -- conversion and introspection -----------------------------------------------------------------
def test_convert_back_and_is_tensor(bk):
    """`convert_to_numpy` gives an ndarray; `is_tensor` is True only for native tensors."""
    x = bk.tensor(X)
    with use(bk.name):
        assert ops.is_tensor(x)
        assert not ops.is_tensor([1.0, 2.0])
        assert not ops.is_tensor(3.0)
        back = ops.convert_to_numpy(x)
    assert type(back) is np.ndarray
    np.testing.assert_array_equal(back, X)


def test_shape_and_dtype(bk):
    """`shape` is a tuple of Python ints; `dtype` a standard string."""
    with use(bk.name):
        x = ops.convert_to_tensor(X3)
        shape = ops.shape(x)
        assert type(shape) is tuple and shape == (2, 3, 4)
        assert all(type(d) is int for d in shape)
        assert ops.shape(ops.convert_to_tensor(1.0)) == ()
        assert ops.dtype(x) == "float32"
        assert ops.dtype(ops.convert_to_tensor(np.array([1, 2], np.int32))) == "int32"
        assert ops.dtype(ops.convert_to_tensor(np.array([True]))) == "bool"


def test_inputs_of_every_kind(bk):
    """Ops accept native tensors, NumPy arrays, Python scalars, nested lists and kbridge Variables."""
    with use(bk.name):
        variable = kbridge.Variable(np.array([[1.0, 2.0], [3.0, 4.0]], F), name="v")
        native = ops.convert_to_tensor(np.array([[0.5], [1.5]], F))
        results = {
            "numpy+list": ops.add(np.array([1.0, 2.0], F), [10.0, 20.0]),
            "variable@native": ops.matmul(variable, native),
            "native*scalar": ops.multiply(native, 2),
            "variable_reduce": ops.sum(variable, axis=0),
        }
    expected = {
        "numpy+list": [11.0, 22.0],
        "variable@native": [[3.5], [7.5]],
        "native*scalar": [[1.0], [3.0]],
        "variable_reduce": [4.0, 6.0],
    }
    for name, value in results.items():
        bk.assert_native(value, name)
        np.testing.assert_allclose(bk.to_numpy(value), expected[name], rtol=1e-6, err_msg=name)
        assert bk.dtypes(value) == "float32", name


def test_auto_dispatch_follows_input_type(bk):
    """Outside any `use()` scope an op runs on the backend of its tensor arguments.

    NumPy arrays belong to no framework (`dispatch.backend_for`): they go to the default backend.
    """
    x = bk.tensor(X)
    out = ops.add(x, 1.0)
    target = type(bk)(config.backend()) if bk.name == "numpy" else bk
    target.assert_native(out, "add outside use()")
    np.testing.assert_allclose(target.to_numpy(out), X + 1.0, rtol=1e-6)


# -- control flow ---------------------------------------------------------------------------------
def test_cond(bk):
    x = X

    def run(pred):
        return bk.call(lambda x: ops.cond(pred(x), lambda: ops.multiply(x, 2.0), lambda: ops.negative(x)), x)

    np.testing.assert_allclose(bk.to_numpy(run(lambda x: True)), X * 2, rtol=1e-6)
    np.testing.assert_allclose(bk.to_numpy(run(lambda x: False)), -X, rtol=1e-6)
    np.testing.assert_allclose(bk.to_numpy(run(lambda x: ops.greater(ops.sum(ops.abs(x)), 0.0))), X * 2, rtol=1e-6)
    np.testing.assert_allclose(bk.to_numpy(run(lambda x: ops.less(ops.max(x), -100.0))), -X, rtol=1e-6)


def test_cond_nested_outputs(bk):
    out = bk.call(
        lambda x: ops.cond(
            ops.convert_to_tensor(False),
            lambda: (ops.add(x, 1.0), ops.sum(x)),
            lambda: (ops.subtract(x, 1.0), ops.max(x)),
        ),
        X,
    )
    first, second = bk.to_numpy(out)
    np.testing.assert_allclose(first, X - 1.0, rtol=1e-6)
    np.testing.assert_allclose(second, X.max(), rtol=1e-6)


def test_fori_loop(bk):
    out = bk.call(lambda x: ops.fori_loop(0, 5, lambda i, v: ops.add(v, ops.multiply(x, ops.cast(i, "float32"))), x), X)
    np.testing.assert_allclose(bk.to_numpy(out), X * 11.0, rtol=1e-6)  # 1 + (0 + 1 + 2 + 3 + 4)
    # lower > 0 and a tuple state
    out = bk.call(lambda: ops.fori_loop(2, 6, lambda i, v: (ops.add(v[0], i), ops.multiply(v[1], 2)), (0, 1)))
    total, power = bk.to_numpy(out)
    assert int(total) == 2 + 3 + 4 + 5 and int(power) == 16


def test_while_loop(bk):
    """Keras semantics: a tuple of loop vars is passed positionally; one var is passed as is."""
    single = bk.call(lambda: ops.while_loop(lambda i: ops.less(i, 10), lambda i: ops.add(i, 3), 0))
    single = bk.to_numpy(single)
    if isinstance(single, (tuple, list)):  # a one-element structure is unwrapped by Keras
        pytest.fail(f"while_loop on a single loop var returned a sequence: {single}")
    assert int(single) == 12
    pair = bk.call(
        lambda x: ops.while_loop(
            lambda a, b: ops.less(ops.sum(a), 100.0), lambda a, b: (ops.multiply(a, 2.0), ops.add(b, 1)), (x, 0)
        ),
        np.ones((2, 2), F),
    )
    a, b = bk.to_numpy(pair)
    np.testing.assert_allclose(a, np.full((2, 2), 32.0))  # sum 4 -> 8 -> ... -> 128 after 5 doublings
    assert int(b) == 5
    capped = bk.call(
        lambda: ops.while_loop(
            lambda a, b: ops.less(a, 10), lambda a, b: (ops.add(a, 1), ops.add(b, 1)), (0, 1), maximum_iterations=3
        )
    )
    assert [int(v) for v in bk.to_numpy(capped)] == [3, 4]


def _scan_step(carry, x):
    carry = ops.add(carry, x)
    return carry, ops.multiply(carry, 2.0)


def test_scan(bk):
    xs = np.array([1.0, 2.0, 3.0, 4.0], F)
    carry, ys = bk.to_numpy(bk.call(lambda xs: ops.scan(_scan_step, ops.convert_to_tensor(0.0), xs), xs))
    np.testing.assert_allclose(carry, 10.0)
    np.testing.assert_allclose(ys, [2.0, 6.0, 12.0, 20.0])


def test_scan_reverse(bk):
    """reverse=True runs from the end; ys stay aligned with xs (ys[i] belongs to xs[i])."""
    xs = np.array([1.0, 2.0, 3.0, 4.0], F)
    carry, ys = bk.to_numpy(bk.call(lambda xs: ops.scan(_scan_step, ops.convert_to_tensor(0.0), xs, reverse=True), xs))
    np.testing.assert_allclose(carry, 10.0)
    np.testing.assert_allclose(ys, [20.0, 18.0, 14.0, 8.0])


def test_scan_matrix_and_unroll(bk):
    xs = rng.uniform(-1, 1, (5, 3)).astype(F)

    def step(carry, x):
        new = ops.add(ops.multiply(carry, 0.5), x)
        return new, ops.sum(new)

    carry_ref, ys_ref = np.zeros(3, F), []
    for x in xs:
        carry_ref = carry_ref * 0.5 + x
        ys_ref.append(carry_ref.sum())
    for unroll in (1, 2):
        carry, ys = bk.to_numpy(
            bk.call(lambda xs, unroll=unroll: ops.scan(step, ops.zeros((3,)), xs, unroll=unroll), xs)
        )
        np.testing.assert_allclose(carry, carry_ref, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(ys, ys_ref, rtol=1e-5, atol=1e-6)


def test_scan_without_xs(bk):
    """xs=None with `length`: f receives None and ys stack `length` outputs."""

    def step(carry, x):
        assert x is None
        return ops.multiply(carry, 3), carry

    carry, ys = bk.to_numpy(bk.call(lambda: ops.scan(step, ops.convert_to_tensor(1, dtype="int32"), None, length=4)))
    assert int(carry) == 81
    np.testing.assert_array_equal(ys, [1, 3, 9, 27])


# -- coverage -------------------------------------------------------------------------------------
def test_every_op_is_covered():
    """Each name in `kbridge.ops.OP_NAMES` is exercised by some test in this directory."""
    here = pathlib.Path(__file__).parent
    text = "\n".join(p.read_text() for p in sorted(here.glob("test_*.py")) if p.name != "test_ops_dtypes.py")
    missing = [
        name
        for name in ops.OP_NAMES
        if not re.search(
            rf'case\(\s*f?"[^"]*",\s*"{name}"|\("{name}", [A-Z]|for _op in \([^)]*"{name}"'
            rf'|bk\.run(_native)?\(\s*"{name}"|\bops\.{name}\(',
            text,
        )
    ]
    assert not missing, f"ops without a value test: {missing}"
