"""torch-xla: a `to_module` module trains on an XLA device exactly as on the CPU.

Run by `nox -s xla` (torch 2.9.0 + torch-xla 2.9.0, PJRT_DEVICE=CPU). Two identical
modules (one state_dict) take the same steps, one on the CPU and one on the XLA device:
outputs, gradients, parameters and buffers (BatchNorm statistics, Dropout seed) agree.
Skipped where torch_xla is not importable, unless KBRIDGE_REQUIRE_XLA=1 (the nox session)
turns that into a failure.
"""

import os

import numpy as np
import pytest

pytestmark = pytest.mark.xla

torch = pytest.importorskip("torch")

os.environ.setdefault("PJRT_DEVICE", "CPU")
try:
    import torch_xla
    import torch_xla.core.xla_model as xm
except ImportError as error:
    if os.environ.get("KBRIDGE_REQUIRE_XLA") == "1":
        raise
    pytest.skip(f"torch_xla is not importable ({error}); `nox -s xla` runs these tests", allow_module_level=True)

import kbridge  # noqa: E402
from kbridge import layers  # noqa: E402
from kbridge.adapters.torch import to_module  # noqa: E402

RTOL = ATOL = 1e-5


def _device():
    return torch_xla.device() if hasattr(torch_xla, "device") else xm.xla_device()


def _sync():
    if hasattr(torch_xla, "sync"):
        torch_xla.sync()
    else:
        xm.mark_step()


def _mlp():
    """Dense, BatchNormalization, Dropout and LayerNormalization."""
    with kbridge.backend.use("torch"):
        inputs = layers.Input((6,))
        x = layers.Dense(16, activation="relu")(inputs)
        x = layers.BatchNormalization()(x)
        x = layers.Dropout(0.3)(x)
        x = layers.Dense(8, activation="tanh")(x)
        x = layers.LayerNormalization()(x)
        outputs = layers.Dense(3)(x)
        return kbridge.Model(inputs, outputs)


def _embedding():
    """Embedding (int32 tokens), LayerNormalization, Dropout and a second float input."""
    with kbridge.backend.use("torch"):
        tokens = layers.Input((5,), dtype="int32")
        feats = layers.Input((4,))
        e = layers.Embedding(20, 6)(tokens)
        e = layers.LayerNormalization()(e)
        e = layers.Dense(6)(layers.Flatten()(e))
        f = layers.Dense(6, activation="relu")(feats)
        x = layers.Dropout(0.25)(layers.Add()([e, f]))
        outputs = layers.Dense(2)(x)
        return kbridge.Model([tokens, feats], outputs)


def _mlp_data():
    rng = np.random.RandomState(0)
    x = torch.from_numpy(rng.randn(16, 6).astype("float32"))
    y = torch.from_numpy(rng.randn(16, 3).astype("float32"))
    return [x], y


def _embedding_data():
    rng = np.random.RandomState(1)
    tokens = torch.from_numpy(rng.randint(0, 20, (16, 5)).astype("int32"))
    feats = torch.from_numpy(rng.randn(16, 4).astype("float32"))
    y = torch.from_numpy(rng.randn(16, 2).astype("float32"))
    return [tokens, feats], y


def _twins(build):
    """Two modules of one architecture with one state: (cpu module, module moved to XLA)."""
    cpu = to_module(build())
    xla = to_module(build())
    xla.load_state_dict(cpu.state_dict())
    xla.to(_device())
    return cpu, xla


def _call(module, inputs):
    return module(inputs if len(inputs) > 1 else inputs[0])


def _train(module, inputs, y, make_optimizer, steps):
    """`steps` optimizer steps on an MSE loss; returns per-step (output, loss, grads) on the CPU."""
    device = next(module.parameters()).device
    inputs = [t.to(device) for t in inputs]
    y = y.to(device)
    optimizer = make_optimizer(module.parameters())
    module.train()
    history = []
    for _ in range(steps):
        optimizer.zero_grad()
        out = _call(module, inputs)
        loss = torch.mean((out - y) ** 2)
        loss.backward()
        grads = {name: p.grad.detach().clone() for name, p in module.named_parameters()}
        optimizer.step()
        if device.type == "xla":
            _sync()
        history.append(
            (out.detach().cpu(), loss.detach().cpu(), {name: g.cpu() for name, g in grads.items()})
        )
    return history


def _assert_states_equal(cpu, xla):
    xla_state = {key: value.cpu() for key, value in xla.state_dict().items()}
    cpu_state = cpu.state_dict()
    assert list(xla_state) == list(cpu_state)
    for key, value in cpu_state.items():
        if value.is_floating_point():
            torch.testing.assert_close(xla_state[key], value, rtol=RTOL, atol=ATOL, msg=lambda m, k=key: f"{k}: {m}")
        else:  # the Dropout seed state: int32, exact
            torch.testing.assert_close(xla_state[key], value, rtol=0, atol=0, msg=lambda m, k=key: f"{k}: {m}")


CASES = {
    "mlp-sgd": (_mlp, _mlp_data, lambda params: torch.optim.SGD(params, lr=0.05, momentum=0.9)),
    "embedding-adamw": (_embedding, _embedding_data, lambda params: torch.optim.AdamW(params, lr=0.01)),
}


def test_module_moves_to_the_xla_device():
    cpu, xla = _twins(_mlp)
    device = _device()
    assert device.type == "xla"
    tensors = {**dict(xla.named_parameters()), **dict(xla.named_buffers())}
    for path, variable in xla.model.named_variables():
        assert variable.value.device.type == "xla", path
        assert variable._value is tensors[path], path  # still shared after `.to(device)`
    assert all(v.device.type == "cpu" for v in cpu.state_dict().values())


@pytest.mark.parametrize("case", list(CASES))
def test_forward_eval_and_train_match_cpu(case):
    build, data, _ = CASES[case]
    cpu, xla = _twins(build)
    inputs, _ = data()
    device = _device()
    xla_inputs = [t.to(device) for t in inputs]
    for training in (False, True, True):  # two training calls: the Dropout seed advances
        cpu.train(training)
        xla.train(training)
        expected = _call(cpu, inputs)
        got = _call(xla, xla_inputs)
        assert got.device.type == "xla"
        torch.testing.assert_close(got.cpu(), expected, rtol=RTOL, atol=ATOL)
    _assert_states_equal(cpu, xla)


@pytest.mark.parametrize("case", list(CASES))
def test_training_steps_match_cpu(case):
    build, data, make_optimizer = CASES[case]
    cpu, xla = _twins(build)
    inputs, y = data()
    steps = 4
    cpu_history = _train(cpu, inputs, y, make_optimizer, steps)
    xla_history = _train(xla, inputs, y, make_optimizer, steps)
    for step, ((cpu_out, cpu_loss, cpu_grads), (xla_out, xla_loss, xla_grads)) in enumerate(
        zip(cpu_history, xla_history)
    ):
        torch.testing.assert_close(xla_out, cpu_out, rtol=RTOL, atol=ATOL, msg=lambda m, s=step: f"step {s}: {m}")
        torch.testing.assert_close(xla_loss, cpu_loss, rtol=RTOL, atol=ATOL)
        assert list(xla_grads) == list(cpu_grads)
        for name, grad in cpu_grads.items():
            torch.testing.assert_close(
                xla_grads[name], grad, rtol=RTOL, atol=ATOL, msg=lambda m, s=step, n=name: f"step {s} {n}: {m}"
            )
    assert cpu_history[-1][1] < cpu_history[0][1]  # it learns
    _assert_states_equal(cpu, xla)
    # Eval mode after training (moving statistics, no Dropout).
    cpu.eval()
    xla.eval()
    device = _device()
    torch.testing.assert_close(
        _call(xla, [t.to(device) for t in inputs]).cpu(), _call(cpu, inputs), rtol=RTOL, atol=ATOL
    )


def test_kbridge_model_sees_the_trained_values():
    build, data, make_optimizer = CASES["mlp-sgd"]
    cpu, xla = _twins(build)
    inputs, y = data()
    before = xla.model.get_weights()
    _train(cpu, inputs, y, make_optimizer, 3)
    _train(xla, inputs, y, make_optimizer, 3)
    # Read while the tensors are on the XLA device ...
    on_device = xla.model.get_weights()
    expected = cpu.model.get_weights()
    assert len(on_device) == len(expected) == len(before)
    assert any(not np.allclose(a, b) for a, b in zip(on_device, before))
    for got, want in zip(on_device, expected):
        np.testing.assert_allclose(got, want, rtol=RTOL, atol=ATOL)
    # ... and after moving back: the kbridge model runs on the CPU with the trained weights.
    xla.to("cpu")
    assert all(v.value.device.type == "cpu" for v in xla.model.weights)
    x = inputs[0].numpy()
    np.testing.assert_allclose(
        xla.model.predict(x, verbose=0), cpu.model.predict(x, verbose=0), rtol=RTOL, atol=ATOL
    )
    np.testing.assert_allclose(
        xla.model.predict(x, verbose=0), cpu.eval()(inputs[0]).detach().numpy(), rtol=RTOL, atol=ATOL
    )
