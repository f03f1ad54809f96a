"""The torch fused Adam kernel: large tensors (updated one at a time into buffers kept on the
optimizer) give the same bits as the foreach path, and the neutral formula within rounding."""

import numpy as np
import pytest

import kbridge
from kbridge import ops, optimizers
from kbridge.backend import registry, use

pytestmark = pytest.mark.skipif(not registry.is_installed("torch"), reason="torch is not installed")

LARGE = 1 << 20  # entries: at the kernel's threshold
RNG = np.random.RandomState(3)
INITIAL = [
    RNG.randn(LARGE).astype("float32"),
    RNG.randn(2, LARGE // 2).astype("float32"),
    RNG.randn(4, 3).astype("float32"),
]


def _grads(step, subset):
    rng = np.random.RandomState(100 + step)
    # Scales from 1e-6 to 1: small squares, the epsilon and the bias correction all count.
    return [(rng.randn(*INITIAL[i].shape) * 10.0 ** rng.randint(-6, 1)).astype("float32") for i in subset]


def _train(monkeypatch, threshold, fused=True):
    """Three Adam steps on all variables, then two on a subset (new buffer shapes)."""
    kernels = pytest.importorskip("kbridge.adapters.torch.backend.optimizer_kernels")
    monkeypatch.setattr(kernels, "_LARGE", threshold)
    if not fused:
        monkeypatch.setattr(registry.get("torch"), "optimizer_kernel", lambda update_many: None)
    with use("torch"):
        variables = [kbridge.Variable(v, name=f"w{i}") for i, v in enumerate(INITIAL)]
        optimizer = optimizers.Adam(0.01, epsilon=1e-4)
        for step, subset in enumerate([(0, 1, 2)] * 3 + [(1, 2)] * 2):
            grads = [ops.convert_to_tensor(g) for g in _grads(step, subset)]
            optimizer.apply(grads, [variables[i] for i in subset])
        monkeypatch.undo()
        return [v.numpy() for v in variables] + [v.numpy() for v in optimizer.variables]


def test_large_tensor_path_matches_foreach_path_bit_for_bit(monkeypatch):
    kept = _train(monkeypatch, LARGE)  # the two large variables take the kept-buffer path
    foreach = _train(monkeypatch, 1 << 62)  # every variable takes the foreach path
    assert len(kept) == len(foreach)
    for got, want in zip(kept, foreach):
        np.testing.assert_array_equal(got, want)
    assert not np.array_equal(kept[0], INITIAL[0])


def test_large_tensor_path_matches_the_neutral_formula(monkeypatch):
    kept = _train(monkeypatch, LARGE)
    neutral = _train(monkeypatch, LARGE, fused=False)
    for got, want in zip(kept, neutral):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)
