"""`kbridge.adapters.torch.TorchModuleLayer`: a native `torch.nn.Module` as a kbridge layer."""

import pathlib
import subprocess
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import kbridge  # noqa: E402
from kbridge import layers  # noqa: E402
from kbridge.adapters.torch import TorchModuleLayer, to_module  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _net():
    torch.manual_seed(0)
    return torch.nn.Sequential(
        torch.nn.Linear(4, 8), torch.nn.BatchNorm1d(8), torch.nn.ReLU(), torch.nn.Dropout(0.5), torch.nn.Linear(8, 1)
    )


def _model(net):
    layer = TorchModuleLayer(net, name="native")
    with kbridge.backend.use("torch"):
        inputs = layers.Input((4,))
        x = layers.Dense(4, activation="tanh")(inputs)
        outputs = layer(x)
        return kbridge.Model(inputs, outputs), layer


def _data(n=64):
    rng = np.random.RandomState(0)
    x = rng.randn(n, 4).astype("float32")
    return x, (x @ np.array([[1.0], [-2.0], [0.5], [1.5]], "float32")).astype("float32")


def test_variables_are_the_module_tensors():
    net = _net()
    layer = TorchModuleLayer(net)
    names = [p for p, _ in layer.named_variables()]
    assert names == ["0_weight", "0_bias", "1_weight", "1_bias", "4_weight", "4_bias",
                     "1_running_mean", "1_running_var", "1_num_batches_tracked"]  # fmt: skip
    params = list(net.parameters())
    assert len(layer.trainable_variables) == len(params)
    for variable, param in zip(layer.trainable_variables, params):
        assert variable._value is param  # the very same nn.Parameter
        assert variable.backend == "torch"
    for variable, buffer in zip(layer.non_trainable_variables, net.buffers()):
        assert variable._value is buffer
    # Assigning a variable is writing the parameter, and the other way round.
    layer.trainable_variables[1].assign(np.ones(8, "float32"))
    assert torch.equal(net[0].bias.detach(), torch.ones(8))
    with torch.no_grad():
        net[0].bias.fill_(2.0)
    np.testing.assert_array_equal(layer.trainable_variables[1].numpy(), np.full(8, 2.0, "float32"))


def test_call_training_flag_and_eager_equivalence():
    net = _net()
    layer = TorchModuleLayer(net)
    x = torch.from_numpy(_data(16)[0])
    out = layer(x)  # training defaults to False: eval mode
    assert not net.training
    net.eval()
    torch.testing.assert_close(out, net(x))
    steps = int(net[1].num_batches_tracked)
    layer(x, training=True)
    assert net.training and int(net[1].num_batches_tracked) == steps + 1


def test_symbolic_call_shapes():
    layer = TorchModuleLayer(torch.nn.Conv1d(3, 5, kernel_size=3))
    with kbridge.backend.use("torch"):
        out = layer(layers.Input((3, None)))
    assert out.shape == (None, 5, None)


def test_stateless_call_uses_given_values_and_is_pure():
    net = _net()
    layer = TorchModuleLayer(net)
    x = torch.from_numpy(_data(16)[0])
    trainable = [torch.zeros_like(v.value) for v in layer.trainable_variables]
    non_trainable = [v.value.clone() for v in layer.non_trainable_variables]
    kept = [t.clone() for t in non_trainable]
    outputs, new_state = layer.stateless_call(trainable, non_trainable, x, training=True)
    torch.testing.assert_close(outputs, torch.zeros(16, 1))  # zero weights -> zero output
    for given, original in zip(non_trainable, kept):
        assert torch.equal(given, original)  # inputs untouched
    assert int(new_state[-1]) == int(kept[-1]) + 1  # num_batches_tracked advanced in the new state
    assert int(net[1].num_batches_tracked) == int(kept[-1])  # the variables did not move


def test_fit_trains_the_torch_parameters():
    net = _net()
    model, layer = _model(net)
    x, y = _data()
    before = [p.detach().clone() for p in net.parameters()]
    model.compile(optimizer=kbridge.optimizers.Adam(0.02), loss="mse")
    history = model.fit(x, y, epochs=8, batch_size=16, verbose=0)
    losses = history.history["loss"]
    assert losses[-1] < losses[0]
    for old, new in zip(before, net.parameters()):
        assert not torch.equal(old, new.detach())
    # The native module, run on its own, agrees with the kbridge layer.
    dense_out = model.layers[1](torch.from_numpy(x[:5]))
    net.eval()
    torch.testing.assert_close(layer(dense_out), net(dense_out))


def test_to_module_and_torch_optimizer():
    net = _net()
    model, _ = _model(net)
    module = to_module(model)
    keys = list(module.state_dict())
    assert "layers.2.0_weight" in keys and "layers.2.1_running_mean" in keys
    assert module.layers._modules["2"]._parameters["0_weight"] is net[0].weight
    opt = torch.optim.SGD(module.parameters(), lr=0.05)
    x, y = map(torch.from_numpy, _data())
    losses = []
    for _ in range(20):
        opt.zero_grad()
        loss = torch.nn.functional.mse_loss(module(x), y)
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    assert losses[-1] < losses[0]


def test_weights_roundtrip_and_no_config(tmp_path):
    model, layer = _model(_net())
    with pytest.raises(NotImplementedError, match="weights only"):
        layer.get_config()
    path = str(tmp_path / "w.weights.h5")
    model.save_weights(path)
    torch.manual_seed(1)
    other, _ = _model(torch.nn.Sequential(*_net()))
    for v in other.weights:
        v.assign(np.zeros(v.shape, v.dtype))
    other.load_weights(path)
    x = _data(8)[0]
    np.testing.assert_allclose(np.asarray(other.predict(x, verbose=0)), np.asarray(model.predict(x, verbose=0)), rtol=1e-6)


def test_errors():
    with pytest.raises(TypeError, match="torch.nn.Module"):
        TorchModuleLayer(object())
    with kbridge.backend.use("numpy"):
        with pytest.raises(ValueError, match="torch backend only"):
            TorchModuleLayer(torch.nn.Linear(2, 2))


def test_torch_loop_example_under_torchrun():
    script = ROOT / "examples" / "torch_loop.py"
    result = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", str(script)],
        capture_output=True, text=True, timeout=120, cwd=str(ROOT),
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "world_size=2" in result.stdout
