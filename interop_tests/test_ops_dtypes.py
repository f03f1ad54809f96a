"""Result dtypes on every backend equal Keras 3 promotion (`kbridge.backend.dtypes.result_type`).

JAX runs without x64 in this process (no int64/float64 there), so the promotion grid uses
bool/uint8/int32/float32/bfloat16 plus weak Python scalars; float64 is checked on
numpy/torch/tensorflow here and on JAX in a subprocess with JAX_ENABLE_X64=1.
"""

import contextlib
import itertools
import os
import subprocess
import sys

import numpy as np
import pytest

from kbridge import config, ops
from kbridge.backend import result_type, use

GRID = ("bool", "uint8", "int32", "float32", "bfloat16")
BINARY_OPS = ("add", "maximum")
VALUES = np.array([1.0, 0.0, 3.0], np.float32)  # exact in every dtype of the grid


def _make(dtype):
    """A tensor of `dtype` on the active backend (made by a cast, so bfloat16 needs no NumPy support)."""
    return ops.cast(ops.convert_to_tensor(VALUES), dtype)


def _expected_values(op, a, b, dtype):
    out = getattr(np, op)(np.asarray(a, np.float64), np.asarray(b, np.float64))
    return out.astype(bool) if dtype == "bool" else out


@pytest.mark.parametrize("op", BINARY_OPS)
@pytest.mark.parametrize("dtype1,dtype2", list(itertools.product(GRID, GRID)), ids=lambda d: d)
def test_binary_promotion(bk, op, dtype1, dtype2):
    with use(bk.name):
        out = getattr(ops, op)(_make(dtype1), _make(dtype2))
        got = ops.dtype(out)
    expected = result_type(dtype1, dtype2)
    assert got == expected, f"{bk.name}: {op}({dtype1}, {dtype2}) -> {got}, expected {expected}"
    values = bk.to_numpy(out).astype(np.float64)
    a, b = (VALUES.astype(bool) if d == "bool" else VALUES for d in (dtype1, dtype2))
    np.testing.assert_array_equal(values, _expected_values(op, a, b, expected).astype(np.float64))


@pytest.mark.parametrize("scalar", [2, 2.5, True], ids=["int", "float", "bool"])
@pytest.mark.parametrize("dtype", GRID)
@pytest.mark.parametrize("order", ["tensor_first", "scalar_first"])
def test_weak_python_scalars(bk, dtype, scalar, order):
    """Python scalars are weak: they take the tensor's kind (int32 + 2.5 -> floatx, bfloat16 + 2.5 -> bfloat16)."""
    with use(bk.name):
        x = _make(dtype)
        out = ops.add(x, scalar) if order == "tensor_first" else ops.add(scalar, x)
        got = ops.dtype(out)
    expected = result_type(dtype, type(scalar))
    assert got == expected, f"{bk.name}: add({dtype}, {scalar!r}) -> {got}, expected {expected}"


# -- defaults of creation and conversion --------------------------------------------------------
DEFAULTS = {
    "convert_to_tensor(1)": (lambda: ops.convert_to_tensor(1), "int32"),
    "convert_to_tensor(1.0)": (lambda: ops.convert_to_tensor(1.0), "float32"),
    "convert_to_tensor(True)": (lambda: ops.convert_to_tensor(True), "bool"),
    "convert_to_tensor([1, 2])": (lambda: ops.convert_to_tensor([1, 2]), "int32"),
    "convert_to_tensor([1.0, 2])": (lambda: ops.convert_to_tensor([1.0, 2]), "float32"),
    "convert_to_tensor(np.int32)": (lambda: ops.convert_to_tensor(np.array([1], np.int32)), "int32"),
    "convert_to_tensor(np.uint8)": (lambda: ops.convert_to_tensor(np.array([1], np.uint8)), "uint8"),
    "convert_to_tensor(np.float16)": (lambda: ops.convert_to_tensor(np.array([1], np.float16)), "float16"),
    "convert_to_tensor(dtype=)": (lambda: ops.convert_to_tensor([1, 2], dtype="float32"), "float32"),
    "arange(5)": (lambda: ops.arange(5), "int32"),
    "arange(5.0)": (lambda: ops.arange(5.0), "float32"),
    "arange(0, 2, 0.5)": (lambda: ops.arange(0, 2, 0.5), "float32"),
    "zeros": (lambda: ops.zeros((2,)), "float32"),
    "ones": (lambda: ops.ones((2,)), "float32"),
    "eye": (lambda: ops.eye(2), "float32"),
    "full(1.5)": (lambda: ops.full((2,), 1.5), "float32"),
    "linspace": (lambda: ops.linspace(0, 1, 3), "float32"),
    "one_hot": (lambda: ops.one_hot(ops.convert_to_tensor([0, 1]), 2), "float32"),
}

I32 = np.array([[1, -2, 3], [4, 5, -6]], np.int32)
B = np.array([True, False, True])
F16 = np.array([1.0, 2.0], np.float16)
RESULTS = {
    "mean(int32)": (lambda: ops.mean(I32), "float32"),
    "mean(int32, axis)": (lambda: ops.mean(I32, axis=0), "float32"),
    "var(int32)": (lambda: ops.var(I32), "float32"),
    "std(int32)": (lambda: ops.std(I32), "float32"),
    "median(int32)": (lambda: ops.median(I32), "float32"),
    "average(int32)": (lambda: ops.average(I32), "float32"),
    "mean(float16)": (lambda: ops.mean(F16), "float16"),
    "sum(int32)": (lambda: ops.sum(I32), "int32"),
    "sum(bool)": (lambda: ops.sum(B), "int32"),
    "prod(int32)": (lambda: ops.prod(I32), "int32"),
    "cumsum(int32)": (lambda: ops.cumsum(I32), "int32"),
    "max(int32)": (lambda: ops.max(I32), "int32"),
    "sqrt(int32)": (lambda: ops.sqrt(ops.abs(I32)), "float32"),
    "exp(int32)": (lambda: ops.exp(I32), "float32"),
    "sin(int32)": (lambda: ops.sin(I32), "float32"),
    "log1p(int32)": (lambda: ops.log1p(ops.abs(I32)), "float32"),
    "sigmoid(int32)": (lambda: ops.sigmoid(I32), "float32"),
    "divide(int32, int32)": (lambda: ops.divide(I32, I32), "float32"),
    "true_divide(int32, int32)": (lambda: ops.true_divide(I32, I32), "float32"),
    "divide(int32, 2)": (lambda: ops.divide(I32, 2), "float32"),
    "floor_divide(int32, int32)": (lambda: ops.floor_divide(I32, I32), "int32"),
    "power(int32, 2)": (lambda: ops.power(I32, 2), "int32"),
    "abs(int32)": (lambda: ops.abs(I32), "int32"),
    "negative(uint8)": (lambda: ops.negative(np.array([1], np.uint8)), "uint8"),
    "square(bool)": (lambda: ops.square(B), "int32"),
    "argmax": (lambda: ops.argmax(I32, axis=1), "int32"),
    "argmin": (lambda: ops.argmin(I32), "int32"),
    "argsort": (lambda: ops.argsort(I32), "int32"),
    "nonzero": (lambda: ops.nonzero(I32)[0], "int32"),
    "count_nonzero": (lambda: ops.count_nonzero(I32), "int32"),
    "bincount": (lambda: ops.bincount(np.array([0, 2], np.int32)), "int32"),
    "digitize": (lambda: ops.digitize(np.array([0.5], np.float32), np.array([0.0, 1.0], np.float32)), "int32"),
    "top_k indices": (lambda: ops.top_k(np.array([1.0, 3.0], np.float32), 1)[1], "int32"),
    "equal": (lambda: ops.equal(I32, 1), "bool"),
    "isnan": (lambda: ops.isnan(np.array([1.0], np.float32)), "bool"),
    "where(bool, int32, float)": (lambda: ops.where(B, np.array([1, 2, 3], np.int32), 0.5), "float32"),
    "matmul(int32, float32)": (lambda: ops.matmul(I32, np.ones((3, 1), np.float32)), "float32"),
    "concatenate(int32, float32)": (lambda: ops.concatenate([I32, np.ones((1, 3), np.float32)]), "float32"),
    "clip(int32, ints)": (lambda: ops.clip(I32, 0, 2), "int32"),
    "logsumexp(float16)": (lambda: ops.logsumexp(F16), "float16"),
    "norm(int32)": (lambda: ops.norm(I32), "float32"),
    "softmax(bfloat16)": (lambda: ops.softmax(ops.cast(F16, "bfloat16")), "bfloat16"),
}


@pytest.mark.parametrize("what", list(DEFAULTS) + list(RESULTS))
def test_result_dtype(bk, what):
    make, expected = {**DEFAULTS, **RESULTS}[what]
    with use(bk.name):
        out = make()
        got = ops.dtype(out)
    bk.assert_native(out, what)
    assert type(got) is str, f"{bk.name}: ops.dtype returned {type(got)}"
    assert got == expected, f"{bk.name}: {what} -> {got}, expected {expected}"


def test_float16_statistics_do_not_overflow(bk):
    """Means of float16 are accumulated in float32 and cast back (as Keras 3): no overflow to inf."""
    x = np.array([64000.0, 64000.0, 32000.0, 32000.0], np.float16)  # the sum overflows float16
    with use(bk.name):
        t = ops.convert_to_tensor(x)
        results = {"mean": ops.mean(t), "moments.mean": ops.moments(t, [0])[0], "average": ops.average(t)}
        got = {name: (ops.dtype(v), float(ops.convert_to_numpy(ops.cast(v, "float32")))) for name, v in results.items()}
    assert got == dict.fromkeys(results, ("float16", 48000.0)), f"{bk.name}: {got}"


CAST_DTYPES = ["bool", "uint8", "int8", "int16", "int32", "float16", "bfloat16", "float32"]
CAST_DTYPES_64 = ["int64", "float64", "uint16", "uint32"]


@pytest.mark.parametrize("dtype", CAST_DTYPES + CAST_DTYPES_64)
def test_cast_round_trip_names(bk, dtype):
    """`ops.dtype(cast(x, d)) == d` for every standard name (64-bit ones: not on JAX without x64)."""
    with _x64_if_jax(bk.name, dtype in ("int64", "float64")), use(bk.name):
        out = ops.cast(ops.convert_to_tensor(np.array([0.0, 1.0, 2.0], np.float32)), dtype)
        got = ops.dtype(out)
        values = ops.convert_to_numpy(ops.cast(out, "float32"))
    assert got == dtype
    np.testing.assert_array_equal(values, [0.0, 1.0, 1.0] if dtype == "bool" else [0.0, 1.0, 2.0])


def test_cast_of_python_numbers_goes_straight_to_the_target_dtype(bk):
    """`cast(1 / 3, "float64")` is the float64 nearest 1/3, not a float32 widened (as Keras)."""
    with _x64_if_jax(bk.name, True), use(bk.name):
        third = ops.convert_to_numpy(ops.cast(1.0 / 3.0, "float64"))
        pair = ops.convert_to_numpy(ops.cast([0.1, 2.9], "float64"))
        truncated = ops.convert_to_numpy(ops.cast([2.9, -1.5], "int32"))
    assert third.dtype == np.float64 and float(third) == 1.0 / 3.0
    np.testing.assert_array_equal(pair, np.array([0.1, 2.9]))
    np.testing.assert_array_equal(truncated, [2, -1])


def test_float64_attention_keeps_float64_constants(bk):
    """The default scale and the mask's large negative are float64 in float64 attention (torch once
    overflowed building the mask in float32; TensorFlow rounded the scale through float32)."""
    g = np.random.default_rng(0)
    q, k, v = (g.standard_normal((2, 4, 3, 5)) for _ in range(3))
    mask = g.random((2, 3, 4, 4)) > 0.3
    logits = np.einsum("btnh,bsnh->bnts", q, k) / np.sqrt(5.0)
    logits = np.where(mask & np.tril(np.ones((4, 4), bool)), logits, -0.7 * np.finfo(np.float64).max)
    probs = np.exp(logits - logits.max(-1, keepdims=True))
    expected = np.einsum("bnts,bsnh->btnh", probs / probs.sum(-1, keepdims=True), v)
    with _x64_if_jax(bk.name, True), use(bk.name):
        out = ops.dot_product_attention(*(ops.convert_to_tensor(a) for a in (q, k, v)), mask=mask, is_causal=True)
        got = ops.convert_to_numpy(out)
    assert got.dtype == np.float64
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-14)


def test_floatx_is_respected(bk):
    """With floatx float16, float defaults and int-meets-float promotion follow it."""
    saved = config.floatx()
    config.set_floatx("float16")
    try:
        with use(bk.name):
            got = {
                "zeros": ops.dtype(ops.zeros((2,))),
                "convert_to_tensor(1.0)": ops.dtype(ops.convert_to_tensor(1.0)),
                "int32 + 1.5": ops.dtype(ops.add(ops.convert_to_tensor(np.array([1], np.int32)), 1.5)),
                "mean(int32)": ops.dtype(ops.mean(ops.convert_to_tensor(np.array([1, 2], np.int32)))),
            }
    finally:
        config.set_floatx(saved)
    assert got == dict.fromkeys(got, "float16"), f"{bk.name}: {got}"


# -- float64 ------------------------------------------------------------------------------------
def _float64_checks(name):
    """float64 in, float64 out, with float64 precision (1e-10 survives where float32 would lose it)."""
    a = np.linspace(-1.0, 1.0, 12).reshape(3, 4)
    b = np.cos(np.arange(12.0)).reshape(3, 4)
    with use(name):
        ta, tb = ops.convert_to_tensor(a), ops.convert_to_tensor(b)
        checks = {
            "convert_to_tensor": (ta, a),
            "add": (ops.add(ta, tb), a + b),
            "add python float": (ops.add(ta, 0.1), a + 0.1),
            "add float32": (ops.add(ta, ops.convert_to_tensor(b.astype(np.float32))), a + b.astype(np.float32)),
            "tiny difference": (ops.subtract(ops.add(ta, 1e-10), ta), np.full_like(a, 1e-10)),
            "matmul": (ops.matmul(ta, ops.transpose(tb)), a @ b.T),
            "exp": (ops.exp(ta), np.exp(a)),
            "sum": (ops.sum(ta, axis=1), a.sum(axis=1)),
            "mean": (ops.mean(ta), a.mean()),
            "softmax": (ops.softmax(ta), np.exp(a) / np.exp(a).sum(axis=-1, keepdims=True)),
            "cast": (ops.cast(ops.convert_to_tensor(a.astype(np.float32)), "float64"), a.astype(np.float32)),
            "int64 sum": (ops.sum(ops.convert_to_tensor(np.array([2**40, 3], np.int64))), np.int64(2**40 + 3)),
        }
        for what, (tensor, ref) in checks.items():
            want = "int64" if what == "int64 sum" else "float64"
            assert ops.dtype(tensor) == want, f"{name}: {what} has dtype {ops.dtype(tensor)}, expected {want}"
            np.testing.assert_allclose(ops.convert_to_numpy(tensor), ref, rtol=1e-12, atol=1e-15, err_msg=what)


def test_float64(bk):
    with _x64_if_jax(bk.name, True):
        _float64_checks(bk.name)


def _x64_if_jax(name, needed):
    """JAX has 64-bit dtypes only with x64 on: turn it on for this block (a context manager)."""
    if name == "jax" and needed:
        import jax

        return jax.enable_x64(True)
    return contextlib.nullcontext()


def test_float64_jax_x64_subprocess():
    """The same float64 checks on JAX with JAX_ENABLE_X64=1, in a fresh interpreter."""
    pytest.importorskip("jax", reason="jax is not installed")
    env = dict(os.environ, JAX_ENABLE_X64="1", JAX_PLATFORMS="cpu")
    proc = subprocess.run([sys.executable, __file__], check=False, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "float64 checks passed" in proc.stdout


if __name__ == "__main__":
    _float64_checks(sys.argv[1] if len(sys.argv) > 1 else "jax")
    print("float64 checks passed")
