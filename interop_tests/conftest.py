"""Shared fixtures of the cross-backend op tests.

Every op test runs once per backend (`backend_name` in numpy, jax, torch,
tensorflow). Inputs are NumPy arrays; the `bk` fixture converts them to the
backend's tensors, runs the op under `kbridge.backend.use(name)` and hands back
NumPy results. References are computed with NumPy directly in the tests, never
through kbridge's numpy backend (it is itself under test).
"""

import numpy as np
import pytest

from kbridge import ops
from kbridge.backend import registry, use

BACKENDS = ("numpy", "jax", "torch", "tensorflow")

# Ops whose result is legitimately a Python value (an int, a tuple of ints, a str, a bool, an ndarray).
PYTHON_RESULT_OPS = frozenset({"shape", "ndim", "size", "dtype", "is_tensor", "convert_to_numpy"})

# NumPy reference dtypes widened by NumPy's defaults but kept 32-bit by Keras 3 (whose
# results do not depend on the platform or on JAX's x64 flag).
_NARROW = {"int64": "int32", "uint64": "uint32", "float64": "float32", "complex128": "complex64"}


@pytest.fixture(params=BACKENDS)
def backend_name(request):
    """The name of the backend under test; skipped (never passed) when its framework is missing."""
    name = request.param
    if not registry.is_installed(name):
        pytest.skip(f"backend {name!r}: its framework is not importable in this environment")
    return name


@pytest.fixture
def bk(backend_name):
    """A `Runner` for the backend under test."""
    return Runner(backend_name)


def _map(fn, value):
    if isinstance(value, tuple):
        return tuple(_map(fn, item) for item in value)
    if isinstance(value, list):
        return [_map(fn, item) for item in value]
    if isinstance(value, dict):
        return {key: _map(fn, item) for key, item in value.items()}
    return fn(value)


def _leaves(value):
    if isinstance(value, (tuple, list)):
        for item in value:
            yield from _leaves(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _leaves(item)
    else:
        yield value


def standard_numpy_dtype(array):
    """The kbridge dtype name of a NumPy array (bfloat16 via ml_dtypes included)."""
    name = np.asarray(array).dtype.name
    return {"bool_": "bool", "str": "string"}.get(name, name)


def expected_dtype(reference):
    """The dtype Keras 3 gives where NumPy's reference widened to 64 bits (int64 -> int32, ...)."""
    name = standard_numpy_dtype(reference)
    return _NARROW.get(name, name)


class Runner:
    """Runs ops on one backend with NumPy inputs and NumPy outputs."""

    def __init__(self, name):
        self.name = name
        # A missing or broken backend module is an error, not a skip.
        self.module = registry.get(name)

    # -- conversion ------------------------------------------------------------------------
    def tensor(self, value, dtype=None):
        """`value` (array, list, scalar) as a native tensor of this backend."""
        with use(self.name):
            return ops.convert_to_tensor(value, dtype=dtype)

    def to_tensors(self, value):
        """Converts every NumPy array inside `value` (nested lists/tuples/dicts) to a native tensor."""

        def convert(leaf):
            if isinstance(leaf, np.ndarray):
                return ops.convert_to_tensor(leaf)
            return leaf

        with use(self.name):
            return _map(convert, value)

    def to_numpy(self, value):
        """Native tensors inside `value` (nested) as NumPy arrays; Python scalars as 0-d arrays."""

        def convert(leaf):
            if isinstance(leaf, (bool, int, float, complex, np.generic)):
                return np.asarray(leaf)
            return np.asarray(ops.convert_to_numpy(leaf))

        with use(self.name):
            return _map(convert, value)

    def dtypes(self, value):
        """`ops.dtype` of every native tensor inside `value` (same nesting)."""
        with use(self.name):
            return _map(ops.dtype, value)

    # -- running ---------------------------------------------------------------------------
    def call(self, fn, *args, **kwargs):
        """Calls `fn(*args, **kwargs)` under this backend with arrays converted; returns native output."""
        args, kwargs = self.to_tensors((args, kwargs))
        with use(self.name):
            return fn(*args, **kwargs)

    def run_native(self, op, *args, **kwargs):
        """Runs `kbridge.ops.<op>` on converted inputs; returns the native output."""
        return self.call(getattr(ops, op), *args, **kwargs)

    def run(self, op, *args, **kwargs):
        """Runs `kbridge.ops.<op>` and returns NumPy output (tuples/lists kept)."""
        out = self.run_native(op, *args, **kwargs)
        self.assert_native(out, op)
        return self.to_numpy(out)

    def assert_native(self, out, what):
        """Asserts every leaf of `out` is a native tensor of this backend (the op contract)."""
        for leaf in _leaves(out):
            assert isinstance(leaf, self.module.TENSOR_TYPES), (
                f"{self.name}: {what} returned {type(leaf).__module__}.{type(leaf).__qualname__}, "
                f"expected a native tensor ({self.module.TENSOR_TYPES})"
            )

    # -- checking --------------------------------------------------------------------------
    def check(self, op, args, kwargs, ref, rtol=1e-5, atol=1e-6, exact=None, dtype="auto", native=True):
        """Runs `op(*args, **kwargs)` and compares it with `ref(*args, **kwargs)` computed by NumPy.

        `exact`: compare with equality (default: when the reference is integer or bool).
        `dtype`: "auto" = the reference dtype narrowed to 32 bits, a name, or None to skip.
        `native`: require native tensors as output (False for ops returning Python values).
        """
        expected = ref(*args, **kwargs)
        out = self.run_native(op, *args, **kwargs)
        if native:
            self.assert_native(out, op)
        got = self.to_numpy(out)
        self.compare(got, expected, rtol=rtol, atol=atol, exact=exact, what=op)
        if dtype is not None and native:
            got_dtypes = self.dtypes(out)
            if dtype == "auto":
                want = _map(expected_dtype, _as_structure(expected))
            else:
                want = _map(lambda _: dtype, _as_structure(expected))
            assert _normalize_structure(got_dtypes) == _normalize_structure(want), (
                f"{self.name}: {op} result dtype {got_dtypes}, expected {want}"
            )
        return got

    def compare(self, got, expected, rtol=1e-5, atol=1e-6, exact=None, what="result"):
        """Compares (nested) results with NumPy references: same structure, shapes and values."""
        if isinstance(expected, (tuple, list)):
            assert isinstance(got, (tuple, list)), f"{self.name}: {what} returned {type(got)}, expected a sequence"
            assert len(got) == len(expected), f"{self.name}: {what} returned {len(got)} items, expected {len(expected)}"
            for index, (g, e) in enumerate(zip(got, expected)):
                self.compare(g, e, rtol=rtol, atol=atol, exact=exact, what=f"{what}[{index}]")
            return
        expected = np.asarray(expected)
        got = np.asarray(got)
        assert got.shape == expected.shape, f"{self.name}: {what} shape {got.shape}, expected {expected.shape}"
        if exact is None:
            exact = expected.dtype.kind in "biu"
        if exact:
            np.testing.assert_array_equal(got, expected, err_msg=f"{self.name}: {what}")
        else:
            if got.dtype.kind == "V" or "bfloat16" in got.dtype.name:
                got = got.astype(np.float32)
            np.testing.assert_allclose(got, expected, rtol=rtol, atol=atol, err_msg=f"{self.name}: {what}")


def _as_structure(value):
    if isinstance(value, (tuple, list)):
        return [_as_structure(item) for item in value]
    return np.asarray(value)


def _normalize_structure(value):
    if isinstance(value, (tuple, list)):
        return [_normalize_structure(item) for item in value]
    return value
