"""Subclassed models: structural paths, build by tracing, eager build, training flag, config."""

import numpy as np
import pytest

from kbridge import config, layers, ops
from kbridge.models import Functional, Model


@pytest.fixture(autouse=True)
def numpy_backend():
    previous = config.backend()
    config.set_backend("numpy")
    yield
    config.set_backend(previous)


def rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype("float32")


class Block(layers.Layer):
    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.dense = layers.Dense(units)
        self.norm = layers.BatchNormalization()

    def call(self, x, training=None):
        return self.norm(self.dense(x), training=training)


class Net(Model):
    def __init__(self, units=4, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.encoder = layers.Dense(units)
        self.blocks = [Block(units), Block(units)]
        self.heads = {"a": layers.Dense(1), "b": layers.Dense(2)}

    def call(self, x, training=None):
        h = self.encoder(x)
        for block in self.blocks:
            h = block(h, training=training)
        return {name: head(h) for name, head in self.heads.items()}

    def get_config(self):
        return {"units": self.units, "name": self.name}


EXPECTED_PATHS = [
    "encoder.kernel", "encoder.bias",
    "blocks.0.dense.kernel", "blocks.0.dense.bias",
    "blocks.0.norm.gamma", "blocks.0.norm.beta", "blocks.0.norm.moving_mean", "blocks.0.norm.moving_variance",
    "blocks.1.dense.kernel", "blocks.1.dense.bias",
    "blocks.1.norm.gamma", "blocks.1.norm.beta", "blocks.1.norm.moving_mean", "blocks.1.norm.moving_variance",
    "heads.a.kernel", "heads.a.bias", "heads.b.kernel", "heads.b.bias",
]  # fmt: skip


def test_structural_paths_from_attributes_lists_and_dicts():
    model = Net()
    assert not model.built
    model(rand(2, 3))
    assert model.built
    assert [path for path, _ in model.named_variables()] == EXPECTED_PATHS
    assert [v.path for v in model.weights] == EXPECTED_PATHS
    assert [layer.name for layer in model.layers][:1] == [model.encoder.name]
    assert len(model.layers) == 5


def test_build_by_tracing_matches_eager_build_and_transfers_weights():
    eager, traced = Net(), Net()
    data = rand(4, 3)
    eager(data)
    traced.build((None, 3))
    assert traced.built and traced.encoder.kernel.shape == (3, 4)
    assert [p for p, _ in traced.named_variables()] == [p for p, _ in eager.named_variables()]
    traced.set_weights(eager.get_weights())
    for key in ("a", "b"):
        np.testing.assert_allclose(traced(data)[key], eager(data)[key], rtol=1e-6, atol=1e-6)
    assert traced.get_build_config() == {"input_shape": (None, 3)}


def test_training_flag_reaches_nested_layers():
    model = Net()
    data = rand(8, 3)
    inference = model(data)["a"]
    training = model(data, training=True)["a"]
    assert not np.allclose(inference, training)
    stats = model.blocks[0].norm.moving_mean.numpy()
    assert not np.allclose(stats, 0.0)


def test_value_dependent_control_flow_builds_eagerly():
    class Branchy(Model):
        def __init__(self):
            super().__init__()
            self.pos = layers.Dense(2)
            self.neg = layers.Dense(2)

        def call(self, x):
            if float(ops.convert_to_numpy(ops.sum(x))) > 0:
                return self.pos(x)
            return self.neg(x)

    model = Branchy()
    out = model(np.ones((1, 3), "float32"))
    assert out.shape == (1, 2) and model.pos.built and not model.neg.built
    with pytest.raises(ValueError, match="could not be built by tracing"):
        Branchy().build((None, 3))


def test_model_inputs_outputs_returns_functional():
    x = layers.Input((3,))
    model = Model(inputs=x, outputs=layers.Dense(2)(x))
    assert type(model) is Functional
    model2 = Model(x, layers.Dense(2)(x), name="positional")
    assert type(model2) is Functional and model2.name == "positional"


def test_symbolic_call_and_nesting_in_functional():
    net = Net()
    x = layers.Input((3,))
    out = net(x)
    assert out["a"].shape == (None, 1) and out["b"].shape == (None, 2)
    outer = Model(x, out["a"] + 1.0)
    data = rand(2, 3)
    np.testing.assert_allclose(outer(data), net(data)["a"] + 1.0, rtol=1e-6, atol=1e-6)
    assert next(p for p, _ in outer.named_variables()) == "layers.1.encoder.kernel"


def test_get_layer_trainable_and_config():
    model = Net(units=3, name="net_a")
    model.build((None, 2))
    assert model.get_layer(index=0) is model.encoder
    assert model.get_layer(model.encoder.name) is model.encoder
    with pytest.raises(ValueError, match="has no layer named"):
        model.get_layer("missing")
    model.trainable = False
    assert model.trainable_weights == [] and not model.blocks[1].dense.trainable
    clone = Net.from_config(model.get_config())
    assert clone.units == 3 and clone.name == "net_a"
    with pytest.raises(AttributeError, match="reserved"):
        model.layers = []


def test_stateless_call_is_pure():
    model = Net()
    model.build((None, 3))
    trainable = [v.numpy() for v in model.trainable_variables]
    non_trainable = [v.numpy() for v in model.non_trainable_variables]
    before = model.blocks[0].norm.moving_mean.numpy().copy()
    out, new_state = model.stateless_call(trainable, non_trainable, rand(8, 3), training=True)
    np.testing.assert_array_equal(model.blocks[0].norm.moving_mean.numpy(), before)
    assert not np.allclose(np.asarray(new_state[0]), before)
    assert out["b"].shape == (8, 2)


def test_subclassed_model_on_jax():
    pytest.importorskip("jax")
    from kbridge.backend import registry

    jax_backend = registry.get("jax")
    model = Net()
    data = rand(2, 3)
    expected = np.asarray(model(data)["b"])
    model.to_backend("jax")
    out = model(data)["b"]
    assert isinstance(out, jax_backend.TENSOR_TYPES)
    np.testing.assert_allclose(np.asarray(out), expected, rtol=1e-5, atol=1e-6)
