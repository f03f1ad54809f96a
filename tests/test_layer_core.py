"""The Layer machinery: structural paths, stateless calls, training flag, input handling, errors."""

import numpy as np
import pytest

import kbridge
from kbridge import ops
from kbridge.layers.input_spec import InputSpec
from kbridge.layers.layer import Layer
from kbridge.symbolic import KerasTensor


class Affine(Layer):
    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape):
        self.kernel = self.add_weight((input_shape[-1], self.units), initializer="ones", name="kernel")
        self.count = self.add_weight((), initializer="zeros", trainable=False, name="count")
        self.bias = self.add_weight((self.units,), initializer="zeros", name="bias")
        self.input_spec = InputSpec(min_ndim=2, axes={-1: input_shape[-1]})

    def call(self, x, training=False):
        if training:
            self.count.assign(self.count + 1.0)
        return ops.add(ops.matmul(x, self.kernel), self.bias)


class Noisy(Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.seed_generator = kbridge.random.SeedGenerator(3)

    def call(self, x, training=False):
        return ops.add(x, kbridge.random.uniform(ops.shape(x), seed=self.seed_generator)) if training else x


class Block(Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.stack = [Affine(4), Noisy(), Affine(3)]
        self.heads = {"main": Affine(2), "aux": Affine(1)}

    def call(self, x):
        for layer in self.stack:
            x = layer(x)
        return self.heads["main"](x), self.heads["aux"](x)


def _built_block():
    block = Block()
    block(np.ones((2, 5), "float32"))
    return block


@pytest.fixture(autouse=True)
def numpy_default():
    with kbridge.backend.use("numpy"):
        yield


def test_paths_are_structural_and_instance_independent():
    first, second = _built_block(), _built_block()
    paths = [p for p, _ in first.named_variables()]
    assert paths == [p for p, _ in second.named_variables()]
    assert paths == [
        "stack.0.kernel", "stack.0.bias", "stack.0.count",
        "stack.1.seed_generator.state",
        "stack.2.kernel", "stack.2.bias", "stack.2.count",
        "heads.main.kernel", "heads.main.bias", "heads.main.count",
        "heads.aux.kernel", "heads.aux.bias", "heads.aux.count",
    ]  # fmt: skip
    assert first.stack[0].name != second.stack[0].name  # names still differ; paths don't use them


def test_weights_exclude_seed_state_and_list_trainable_first():
    block = _built_block()
    assert len(block.variables) == 13 and len(block.weights) == 12
    assert [v.name for v in block.stack[0].weights] == ["kernel", "bias", "count"]
    assert len(block.trainable_variables) == 8
    assert len(block.non_trainable_variables) == 5
    assert block.count_params() == (5 * 4 + 4 + 1) + (4 * 3 + 3 + 1) + (3 * 2 + 2 + 1) + (3 + 1 + 1)


def test_freezing_recurses():
    block = _built_block()
    block.trainable = False
    assert block.trainable_variables == [] and len(block.non_trainable_variables) == 13
    assert not block.stack[2].trainable
    block.trainable = True
    assert len(block.trainable_variables) == 8


def test_set_weights_moves_values_between_instances():
    first, second = _built_block(), _built_block()
    rng = np.random.RandomState(0)
    first.set_weights([np.asarray(rng.randn(*w.shape), "float32") for w in first.weights])
    second.set_weights(first.get_weights())
    x = rng.randn(3, 5).astype("float32")
    for a, b in zip(first(x), second(x)):
        np.testing.assert_array_equal(a, b)


def test_set_weights_errors_name_the_layer():
    block = _built_block()
    with pytest.raises(ValueError, match="expects a list of 12 arrays, received 1"):
        block.set_weights([np.zeros(1)])
    weights = block.get_weights()
    weights[0] = np.zeros((9, 9))
    with pytest.raises(ValueError, match=r"stack.0.kernel has shape \(5, 4\), received an array of shape \(9, 9\)"):
        block.set_weights(weights)


def test_stateless_call_is_pure_and_returns_new_state():
    layer = Affine(2)
    x = np.ones((1, 3), "float32")
    layer(x)
    trainable = [v.numpy() * 2 for v in layer.trainable_variables]
    non_trainable = [v.numpy() for v in layer.non_trainable_variables]
    out, new_state = layer.stateless_call(trainable, non_trainable, x, training=True)
    np.testing.assert_array_equal(out, [[6.0, 6.0]])
    assert float(new_state[0]) == 1.0
    assert float(layer.count.numpy()) == 0.0  # the real variable is untouched
    np.testing.assert_array_equal(layer.kernel.numpy(), np.ones((3, 2)))


def test_stateless_call_threads_random_state():
    layer = Noisy()
    layer(np.zeros((2, 2), "float32"))
    state = [v.numpy() for v in layer.non_trainable_variables]
    first, state = layer.stateless_call([], state, np.zeros((2, 2), "float32"), training=True)
    second, state = layer.stateless_call([], state, np.zeros((2, 2), "float32"), training=True)
    assert not np.array_equal(first, second)
    assert state[0].tolist() == [3, 2]
    assert layer.seed_generator.state.numpy().tolist() == [3, 0]


def test_stateless_call_validates_counts():
    layer = Affine(2)
    layer(np.ones((1, 3), "float32"))
    with pytest.raises(ValueError, match="expects 2 trainable and 1 non-trainable values, received 1 and 1"):
        layer.stateless_call([np.ones((3, 2))], [np.zeros(())], np.ones((1, 3)))
    with pytest.raises(ValueError, match="must be built"):
        Affine(2).stateless_call([], [], np.ones((1, 3)))


def test_training_flag_reaches_nested_layers():
    class Outer(Layer):
        def __init__(self):
            super().__init__()
            self.inner = Affine(1)

        def call(self, x):  # no `training` parameter, yet the inner layer gets it
            return self.inner(x)

    outer = Outer()
    x = np.ones((1, 2), "float32")
    outer(x)
    outer(x, training=True)
    outer(x, training=True)
    outer(x, training=False)
    assert float(outer.inner.count.numpy()) == 2.0


def test_input_spec_errors_name_the_layer_and_shapes():
    layer = Affine(2, name="affine_check")
    layer(np.ones((1, 3), "float32"))
    with pytest.raises(ValueError, match=r'layer "affine_check".*axis -1 of input shape to have value 3.*\(1, 4\)'):
        layer(np.ones((1, 4), "float32"))
    with pytest.raises(ValueError, match=r'layer "affine_check".*expected min_ndim=2, found ndim=1'):
        layer(np.ones((3,), "float32"))


def test_mixing_symbolic_and_concrete_is_refused():
    layer = Affine(2, name="mixer")
    with pytest.raises(ValueError, match='Layer "mixer" was called on symbolic KerasTensors and concrete arrays'):
        layer([KerasTensor((None, 3)), np.ones((1, 3), "float32")])


def test_numpy_inputs_are_converted_and_cast_on_torch():
    import torch

    with kbridge.backend.use("torch"):
        layer = Affine(2)
    out = layer(np.ones((1, 3), "float64"))
    assert isinstance(out, torch.Tensor) and out.dtype == torch.float32


def test_foreign_tensor_error_says_how_to_move():
    import jax.numpy as jnp

    with kbridge.backend.use("torch"):
        layer = Affine(2, name="on_torch")
        layer(np.ones((1, 3), "float32"))
    with pytest.raises(ValueError, match=r'"on_torch" has its variables on the torch backend.*model.to_backend\("jax"\)'):
        layer(jnp.ones((1, 3)))
    layer.to_backend("jax")
    np.testing.assert_array_equal(np.asarray(layer(jnp.ones((1, 3)))), [[3.0, 3.0]])


def test_unbuilt_layer_builds_on_the_input_backend():
    import torch

    layer = Affine(2)
    layer(torch.ones(1, 3))
    assert layer.kernel.backend == "torch"


def test_build_marks_built_and_get_config_records_arguments():
    layer = Affine(7, name="recorded")
    assert not layer.built
    layer.build((None, 3))
    assert layer.built and layer.kernel.shape == (3, 7)
    config = layer.get_config()
    assert config["units"] == 7 and config["name"] == "recorded" and config["trainable"] is True
    clone = Affine.from_config(config)
    assert clone.units == 7


def test_unknown_constructor_keyword_is_a_type_error():
    with pytest.raises(TypeError, match="Unrecognized keyword arguments passed to Layer"):
        Layer(units=3)
