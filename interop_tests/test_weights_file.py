"""`.weights.h5` files across backends: round trips, the Keras 3 group layout, optimizer state,
atomic writes and the errors of `save_weights` / `load_weights`."""

import os

import h5py
import numpy as np
import pytest

import kbridge
from kbridge import layers, ops
from kbridge.saving import weights_file

BACKENDS = ["numpy", "jax", "torch", "tensorflow"]
X = np.random.RandomState(0).randn(5, 6).astype("float32")


def _functional(backend, seed):
    kbridge.utils.set_random_seed(seed)
    with kbridge.backend.use(backend):
        inputs = kbridge.Input((6,))
        hidden = layers.Dense(8, activation="relu")(inputs)
        hidden = layers.BatchNormalization()(hidden)
        hidden = layers.Dropout(0.2, seed=3)(hidden)
        return kbridge.Model(inputs, layers.Dense(2)(hidden))


class Blocks(kbridge.Model):
    """A subclassed model whose sublayers sit in an attribute, a list and a dict, plus its own weight."""

    def __init__(self):
        super().__init__()
        self.stem = layers.Dense(4)
        self.blocks = [layers.Dense(4, activation="tanh"), layers.LayerNormalization()]
        self.heads = {"main": layers.Dense(2)}
        self.scale = self.add_weight(shape=(2,), initializer="ones", name="scale")

    def call(self, x):
        x = self.stem(x)
        for block in self.blocks:
            x = block(x)
        return ops.multiply(self.heads["main"](x), self.scale)


def _blocks(backend, seed):
    kbridge.utils.set_random_seed(seed)
    with kbridge.backend.use(backend):
        model = Blocks()
        model(X)
    return model


def _out(model):
    return np.asarray(ops.convert_to_numpy(model(X)))


def _groups(path):
    found = {}

    def visit(name, obj):
        if isinstance(obj, h5py.Dataset):
            found[name] = obj.shape
        elif "name" in obj.attrs:
            found[name] = obj.attrs["name"]

    with h5py.File(path, "r") as file:
        file.visititems(visit)
    return found


@pytest.mark.parametrize("source", BACKENDS)
def test_round_trip_between_backends(tmp_path, source):
    path = tmp_path / "model.weights.h5"
    model = _functional(source, seed=1)
    model.layers[2].moving_mean.assign(np.arange(8, dtype="float32"))  # non-trainable state travels too
    model.save_weights(path)
    for target in BACKENDS:
        other = _functional(target, seed=2)
        assert not np.allclose(_out(other), _out(model))
        other.load_weights(path)
        for a, b in zip(model.get_weights(), other.get_weights()):
            np.testing.assert_array_equal(a, b)
        np.testing.assert_allclose(_out(other), _out(model), atol=1e-5, err_msg=f"{source} -> {target}")


def test_keras_layout_of_a_functional_and_a_subclassed_model(tmp_path):
    model = _functional("numpy", seed=0)
    model.save_weights(tmp_path / "f.weights.h5")
    groups = _groups(tmp_path / "f.weights.h5")
    assert groups["vars"] == model.name and groups["layers/dense/vars"] == model.layers[1].name
    assert groups["layers/dense/vars/0"] == (6, 8) and groups["layers/dense_1/vars/0"] == (8, 2)
    assert [groups[f"layers/batch_normalization/vars/{i}"] for i in range(4)] == [(8,)] * 4
    assert "layers/input_layer/vars" in groups and "layers/dropout/vars" in groups  # empty groups, as Keras
    assert not any(key.startswith("layers/dropout/vars/") for key in groups)  # seed state is not saved

    blocks = _blocks("numpy", seed=0)
    blocks.save_weights(tmp_path / "b.weights.h5")
    shapes = {k: v for k, v in _groups(tmp_path / "b.weights.h5").items() if isinstance(v, tuple)}
    assert shapes == {
        "blocks/dense/vars/0": (4, 4),
        "blocks/dense/vars/1": (4,),
        "blocks/layer_normalization/vars/0": (4,),
        "blocks/layer_normalization/vars/1": (4,),
        "heads/dense/vars/0": (4, 2),
        "heads/dense/vars/1": (2,),
        "layers/dense/vars/0": (6, 4),
        "layers/dense/vars/1": (4,),
        "vars/0": (2,),
    }  # as Keras: `stem` sorts after the `layers` property, which reaches it first


@pytest.mark.parametrize("source,target", [("jax", "torch"), ("torch", "tensorflow"), ("tensorflow", "jax")])
def test_subclassed_model_and_optimizer_state_round_trip(tmp_path, source, target):
    y = np.random.RandomState(1).randn(5, 2).astype("float32")
    model = _blocks(source, seed=4)
    model.compile(kbridge.optimizers.Adam(0.01), "mse")
    model.fit(X, y, batch_size=5, epochs=3, verbose=0)
    model.save_weights(tmp_path / "b.weights.h5")
    other = _blocks(target, seed=5)
    other.compile(kbridge.optimizers.Adam(0.01), "mse")
    other.optimizer.build(other.trainable_variables)
    other.load_weights(tmp_path / "b.weights.h5")
    np.testing.assert_allclose(_out(other), _out(model), atol=1e-5)
    assert int(other.optimizer.iterations) == 3
    for a, b in zip(model.optimizer.variables, other.optimizer.variables):
        assert a.path == b.path
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_an_exception_mid_write_leaves_the_previous_file_intact(tmp_path, monkeypatch):
    path = tmp_path / "model.weights.h5"
    model = _functional("numpy", seed=0)
    model.save_weights(path)
    before = path.read_bytes()
    expected = model.get_weights()
    model.set_weights([w + 1.0 for w in expected])
    written = []
    original = weights_file._write_dataset

    def failing_write(group, key, array):
        if len(written) == 3:
            raise OSError("disk full (injected)")
        written.append(key)
        original(group, key, array)

    monkeypatch.setattr(weights_file, "_write_dataset", failing_write)
    with pytest.raises(OSError, match="injected"):
        model.save_weights(path)
    assert len(written) == 3  # the failure came mid-file, after some datasets were written
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["model.weights.h5"]  # no temporary left
    fresh = _functional("numpy", seed=9)
    fresh.load_weights(path)
    for a, b in zip(fresh.get_weights(), expected):
        np.testing.assert_array_equal(a, b)


def test_errors_name_the_problem_and_change_nothing(tmp_path):
    model = _functional("numpy", seed=0)
    with pytest.raises(ValueError, match=r"must end in `\.weights\.h5`"):
        model.save_weights(tmp_path / "model.h5")
    with pytest.raises(ValueError, match="File format not supported"):
        model.load_weights(tmp_path / "model.npz")
    with pytest.raises(FileNotFoundError, match="missing.weights.h5"):
        model.load_weights(tmp_path / "missing.weights.h5")

    kbridge.utils.set_random_seed(0)
    with kbridge.backend.use("numpy"):
        inputs = kbridge.Input((6,))
        hidden = layers.BatchNormalization()(layers.Dense(8, activation="relu")(inputs))
        wider = kbridge.Model(inputs, layers.Dense(3)(layers.Dropout(0.2)(hidden)))
    wider.save_weights(tmp_path / "wider.weights.h5")
    before = model.get_weights()
    with pytest.raises(ValueError) as error:
        model.load_weights(tmp_path / "wider.weights.h5")
    message = str(error.value)
    assert "layers.4.kernel" in message and "(8, 2)" in message and "(8, 3)" in message
    assert "layers/dense_1/vars/0" in message
    for a, b in zip(model.get_weights(), before):
        np.testing.assert_array_equal(a, b)  # validated before assigning: nothing changed

    with pytest.warns(UserWarning, match="could not be loaded"):
        model.load_weights(tmp_path / "wider.weights.h5", skip_mismatch=True)
    np.testing.assert_array_equal(model.layers[1].kernel.numpy(), wider.layers[1].kernel.numpy())
    np.testing.assert_array_equal(model.layers[4].kernel.numpy(), before[-2])  # the mismatched layer is skipped

    with kbridge.backend.use("numpy"):
        unbuilt = kbridge.Sequential([layers.Dense(2)])
    with pytest.raises(ValueError, match="not yet been built"):
        unbuilt.save_weights(tmp_path / "u.weights.h5")


def test_layer_count_mismatch_lists_the_expected_variables(tmp_path):
    with kbridge.backend.use("numpy"):
        small = kbridge.Sequential([kbridge.Input((6,)), layers.Dense(2, use_bias=False)])
        big = kbridge.Sequential([kbridge.Input((6,)), layers.Dense(2)])
    small.save_weights(tmp_path / "small.weights.h5")
    with pytest.raises(ValueError, match=r"expected 2 variables, but received 1 .*layers\.0\.bias"):
        big.load_weights(tmp_path / "small.weights.h5")
