"""Optional backend hooks (fused_dense, fused_layer_norm, fused_lstm): used on torch inside a layer
call, equal to the generic ops path, and never in the way of calling `layer.call` directly."""

import numpy as np
import pytest

import kbridge
from kbridge import layers, ops
from kbridge.backend import registry

BACKENDS = [b for b in ("numpy", "jax", "torch", "tensorflow") if registry.is_installed(b)]
X2 = np.random.RandomState(0).randn(3, 4).astype("float32")
X3 = np.random.RandomState(1).randn(2, 5, 4).astype("float32")

CASES = {
    "dense": (lambda: layers.Dense(3), X2, "fused_dense"),
    "layer_norm": (lambda: layers.LayerNormalization(axis=[-2, -1]), X3, "fused_layer_norm"),
    "lstm": (lambda: layers.LSTM(3), X3, "fused_lstm"),
}


def _built(name, backend):
    factory, x, _ = CASES[name]
    kbridge.utils.set_random_seed(3)
    with kbridge.backend.use(backend):
        layer = factory()
        layer.build(x.shape)
    return layer, x


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", sorted(CASES))
def test_direct_call_works_on_every_backend(name, backend):
    # `layer.call` outside `__call__`: the dispatcher is active, not a backend module.
    layer, x = _built(name, backend)
    with kbridge.backend.use(backend):
        direct = ops.convert_to_numpy(layer.call(ops.convert_to_tensor(x)))
        np.testing.assert_allclose(direct, ops.convert_to_numpy(layer(x)), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", sorted(CASES))
def test_torch_uses_the_hook_and_matches_the_generic_path(name, monkeypatch):
    if not registry.is_installed("torch"):
        pytest.skip("torch is not installed")
    backend = registry.get("torch")
    hook = CASES[name][2]
    layer, x = _built(name, "torch")
    calls = []
    original = getattr(backend, hook)
    monkeypatch.setattr(backend, hook, lambda *a, **k: calls.append(1) or original(*a, **k))
    fused = ops.convert_to_numpy(layer(x))
    assert calls, f"{hook} was not used"
    monkeypatch.delattr(backend, hook)
    generic = ops.convert_to_numpy(layer(x))
    np.testing.assert_allclose(fused, generic, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("units", [1, 10, 40])  # 10 from 300 inputs: the transposed-copy path on the CPU
def test_torch_fused_dense_float64_gradients_match_the_generic_path(units, monkeypatch):
    if not registry.is_installed("torch"):
        pytest.skip("torch is not installed")
    import torch

    backend = registry.get("torch")
    rng = np.random.RandomState(units)
    x, kernel, bias = rng.randn(5, 300), rng.randn(300, units), rng.randn(units)

    def value_and_grads(use_hook):
        if not use_hook:
            monkeypatch.delattr(backend, "fused_dense")
        with kbridge.backend.use("torch"):
            layer = layers.Dense(units, dtype="float64")
            layer.build((None, 300))
            layer.set_weights([kernel, bias])
            inputs = torch.tensor(x, requires_grad=True)
            out = layer(inputs)
            (out * torch.tensor(np.cos(np.arange(out.numel())).reshape(out.shape))).sum().backward()
        monkeypatch.undo()
        return [out.detach().numpy(), inputs.grad.numpy(), layer.kernel.value.grad.numpy(), layer.bias.value.grad.numpy()]

    fused, generic = value_and_grads(True), value_and_grads(False)
    for got, want in zip(fused, generic):
        assert got.dtype == np.float64
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(fused[0], x @ kernel + bias, rtol=1e-12, atol=1e-12)


def test_torch_assign_add_hook_adds_in_place_and_falls_back():
    if not registry.is_installed("torch"):
        pytest.skip("torch is not installed")
    import torch

    with kbridge.backend.use("torch"):
        v = kbridge.Variable(np.array([1.0, 2.0, 3.0], "float32"))
        storage = v.value
        v.assign_add(torch.tensor([0.5, 0.5, 0.5]))
        v.assign_add(2)
        assert v.value is storage  # in place: modules sharing the storage see the update
        np.testing.assert_array_equal(v.numpy(), [3.5, 4.5, 5.5])
        v.assign_add(torch.tensor(1.0))  # broadcast scalar: the general path
        np.testing.assert_array_equal(v.numpy(), [4.5, 5.5, 6.5])
        with pytest.raises(ValueError, match=r"cannot add a value of shape \(2,\) to a variable of shape \(3,\)"):
            v.assign_add(torch.tensor([1.0, 1.0]))
        counter = kbridge.Variable(np.array(3, "int32"))
        counter.assign_add(2)
        assert counter.dtype == "int32" and int(counter.numpy()) == 5
        with kbridge.StatelessScope() as scope:
            v.assign_add(torch.tensor([1.0, 1.0, 1.0]))
            recorded = scope.get_current_value(v)
        np.testing.assert_array_equal(v.numpy(), [4.5, 5.5, 6.5])  # untouched outside the scope
        np.testing.assert_array_equal(ops.convert_to_numpy(recorded), [5.5, 6.5, 7.5])
