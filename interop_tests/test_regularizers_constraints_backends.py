"""Weight regularizers and constraints on numpy, jax, torch and tensorflow.

Values are compared with float64 NumPy references written here; regularizer gradients in
float64 must agree across jax/torch/tensorflow (and with the analytic gradient where it is
simple). `test_layers_norm_reg.py` checks that `fit` applies them.
"""

import numpy as np
import pytest

import kbridge
from kbridge import constraints, ops, regularizers
from kbridge.backend import registry

BACKENDS = [b for b in ("numpy", "jax", "torch", "tensorflow") if registry.is_installed(b)]
GRAD_BACKENDS = [b for b in ("jax", "torch", "tensorflow") if registry.is_installed(b)]

W = np.random.RandomState(3).randn(4, 3)


def _unit(w, axis):
    return w / np.linalg.norm(w, axis=axis, keepdims=True)


def _orthogonal_reference(w, factor, mode):
    vectors = _unit(w, 1) if mode == "rows" else _unit(w, 0).T
    products = np.abs(vectors @ vectors.T)
    n = len(vectors)
    off_diagonal = products.sum() - np.trace(products)
    return factor * 0.5 * off_diagonal / (n * (n - 1) / 2)


# (id, regularizer, float64 NumPy reference)
REGULARIZERS = [
    ("l1", regularizers.L1(0.03), lambda w: 0.03 * np.abs(w).sum()),
    ("l2", regularizers.L2(0.2), lambda w: 0.2 * (w**2).sum()),
    ("l1l2", regularizers.L1L2(l1=0.1, l2=0.05), lambda w: 0.1 * np.abs(w).sum() + 0.05 * (w**2).sum()),
    ("orthogonal_rows", regularizers.OrthogonalRegularizer(0.3), lambda w: _orthogonal_reference(w, 0.3, "rows")),
    ("orthogonal_columns", regularizers.OrthogonalRegularizer(0.4, mode="columns"),
     lambda w: _orthogonal_reference(w, 0.4, "columns")),
]  # fmt: skip


def _clipped_norm_reference(w, low, high, rate, axis):
    norms = np.linalg.norm(w, axis=axis, keepdims=True)
    desired = rate * np.clip(norms, low, high) + (1 - rate) * norms
    return w * desired / (norms + 1e-7)


CONSTRAINTS = [
    ("max_norm", constraints.MaxNorm(1.5), lambda w: _clipped_norm_reference(w, 0.0, 1.5, 1.0, 0)),
    ("max_norm_axis1", constraints.MaxNorm(0.8, axis=1), lambda w: _clipped_norm_reference(w, 0.0, 0.8, 1.0, 1)),
    ("non_neg", constraints.NonNeg(), lambda w: np.maximum(w, 0.0)),
    ("unit_norm", constraints.UnitNorm(), lambda w: w / (np.linalg.norm(w, axis=0, keepdims=True) + 1e-7)),
    ("min_max_norm", constraints.MinMaxNorm(1.2, 1.6, rate=0.7),
     lambda w: _clipped_norm_reference(w, 1.2, 1.6, 0.7, 0)),
]  # fmt: skip


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name,regularizer,reference", REGULARIZERS, ids=[r[0] for r in REGULARIZERS])
def test_regularizer_value(backend, name, regularizer, reference):
    with kbridge.backend.use(backend):
        value = regularizer(ops.convert_to_tensor(W.astype("float32")))
        assert ops.dtype(value) == "float32", name
        np.testing.assert_allclose(float(ops.convert_to_numpy(value)), reference(W), rtol=1e-5)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name,constraint,reference", CONSTRAINTS, ids=[c[0] for c in CONSTRAINTS])
def test_constraint_value(backend, name, constraint, reference):
    with kbridge.backend.use(backend):
        out = constraint(ops.convert_to_tensor(W.astype("float32")))
        assert ops.dtype(out) == "float32", name
        np.testing.assert_allclose(ops.convert_to_numpy(out), reference(W), rtol=1e-5, atol=1e-6)


def _gradient(backend, fn, w):
    """d fn(w) / d w in float64, with the backend's own autodiff."""
    if backend == "jax":
        import jax

        with jax.enable_x64(True):  # float64 needs x64 on JAX
            return np.asarray(jax.grad(fn)(jax.numpy.asarray(w)))
    if backend == "torch":
        import torch

        t = torch.tensor(w, requires_grad=True)
        fn(t).backward()
        return t.grad.numpy()
    import tensorflow as tf

    t = tf.Variable(w)
    with tf.GradientTape() as tape:
        out = fn(t)
    return tape.gradient(out, t).numpy()


@pytest.mark.parametrize("name,regularizer,reference", REGULARIZERS, ids=[r[0] for r in REGULARIZERS])
def test_regularizer_gradients_agree_in_float64(name, regularizer, reference):
    grads = {}
    for backend in GRAD_BACKENDS:
        with kbridge.backend.use(backend):
            grads[backend] = _gradient(backend, regularizer, W)
        assert grads[backend].dtype == np.float64, backend
    first, *others = GRAD_BACKENDS
    for backend in others:
        np.testing.assert_allclose(grads[backend], grads[first], rtol=1e-9, atol=1e-12, err_msg=backend)
    if name == "l2":
        np.testing.assert_allclose(grads[first], 0.4 * W, rtol=1e-12)
    if name == "l1":
        # Keras 3 rounds L1's factor to float32; kbridge does the same.
        np.testing.assert_allclose(grads[first], float(np.float32(0.03)) * np.sign(W), rtol=1e-12)
