"""Sequential models: immediate and deferred build, add/pop, paths, masks, nesting."""

import numpy as np
import pytest

from kbridge import config, layers, ops
from kbridge.models import Functional, Model, Sequential


@pytest.fixture(autouse=True)
def numpy_backend():
    previous = config.backend()
    config.set_backend("numpy")
    yield
    config.set_backend(previous)


def rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype("float32")


def mlp_np(model, x):
    for layer in getattr(model, "layers", [model]):
        kernel, bias = layer.get_weights()
        x = x @ kernel + bias
    return x


@pytest.mark.parametrize(
    "first",
    [
        lambda: [layers.Input((3,))],
        lambda: [layers.InputLayer(shape=(3,))],
        lambda: [layers.InputLayer(batch_shape=(None, 3))],
        list,
    ],
)
def test_immediate_build(first):
    stack = first()
    if stack:
        model = Sequential(stack + [layers.Dense(4), layers.Dense(2)])
    else:
        model = Sequential([layers.Dense(4, input_shape=(3,)), layers.Dense(2)])
    assert model.built and model.input_shape == (None, 3) and model.output_shape == (None, 2)
    assert len(model.layers) == 2 and all(isinstance(layer, layers.Dense) for layer in model.layers)
    assert [path for path, _ in model.named_variables()] == [
        "layers.0.kernel",
        "layers.0.bias",
        "layers.1.kernel",
        "layers.1.bias",
    ]
    data = rand(5, 3)
    np.testing.assert_allclose(model(data), mlp_np(model, data), rtol=1e-5, atol=1e-6)


def test_deferred_build_on_first_call():
    model = Sequential([layers.Dense(4), layers.Dense(2)])
    assert not model.built
    with pytest.raises(AttributeError, match="no defined inputs"):
        model.inputs  # noqa: B018
    data = rand(5, 3)
    out = model(data)
    assert model.built and model.input_shape == (None, 3)
    np.testing.assert_allclose(out, mlp_np(model, data), rtol=1e-5, atol=1e-6)
    # The batch dimension stays free.
    assert model(rand(7, 3)).shape == (7, 2)
    assert next(path for path, _ in model.named_variables()) == "layers.0.kernel"


def test_deferred_build_with_build_and_symbolic_call():
    model = Sequential([layers.Dense(4), layers.Dense(2)])
    model.build((None, 3))
    assert model.built and model.count_params() == 26
    other = Sequential([layers.Dense(4), layers.Dense(2)])
    y = other(layers.Input((3,)))
    assert y.shape == (None, 2) and other.built


def test_add_and_pop():
    model = Sequential()
    model.add(layers.Input((3,)))
    assert not model.built and model.layers == []
    model.add(layers.Dense(4, name="first"))
    assert model.built and model.output_shape == (None, 4)
    model.add(layers.Dense(2, name="second"))
    assert model.output_shape == (None, 2)
    popped = model.pop()
    assert popped.name == "second" and model.output_shape == (None, 4)
    data = rand(2, 3)
    np.testing.assert_allclose(model(data), mlp_np(model, data), rtol=1e-5, atol=1e-6)
    model.pop()
    with pytest.raises(TypeError, match="no layers"):
        model.pop()


def test_add_errors():
    model = Sequential([layers.Input((3,)), layers.Dense(2, name="d")])
    with pytest.raises(ValueError, match="unique names"):
        model.add(layers.Dense(2, name="d"))
    with pytest.raises(ValueError, match="already has input shape"):
        model.add(layers.Input((3,)))
    with pytest.raises(TypeError, match="only Layer instances"):
        model.add("dense")
    with pytest.raises(ValueError, match="configured for input shape"):
        model.build((None, 5))
    with pytest.raises(ValueError, match="no layers"):
        Sequential().build((None, 3))


def test_identical_paths_and_weight_transfer_between_builds():
    def make():
        return Sequential([layers.Dense(4), layers.BatchNormalization(), layers.Dropout(0.1), layers.Dense(2)])

    first, second = make(), make()
    data = rand(4, 3)
    first(data)
    second.build((None, 3))
    paths = [path for path, _ in first.named_variables(weights_only=True)]
    assert paths == [path for path, _ in second.named_variables(weights_only=True)]
    assert "layers.1.moving_variance" in paths and "layers.3.kernel" in paths
    second.set_weights(first.get_weights())
    np.testing.assert_allclose(first(data), second(data), rtol=1e-6, atol=1e-6)


def test_training_flag_and_masks():
    model = Sequential([layers.Input((50,)), layers.Dropout(0.5, seed=3)])
    data = np.ones((2, 50), "float32")
    np.testing.assert_array_equal(model(data), data)
    assert (np.asarray(model(data, training=True)) == 0).any()

    class MaskedSum(layers.Layer):
        def call(self, x, mask=None):
            if mask is None:  # Symbolic calls carry no mask.
                return ops.sum(x, axis=1)
            return ops.sum(x * ops.expand_dims(ops.cast(mask, x.dtype), -1), axis=1)

    masked = Sequential([layers.Input((3,), dtype="int32"), layers.Embedding(5, 2, mask_zero=True), MaskedSum()])
    table = masked.layers[0].get_weights()[0]
    out = masked(np.array([[1, 0, 2]], dtype="int32"))
    np.testing.assert_allclose(out, (table[1] + table[2])[None], rtol=1e-6, atol=1e-6)


def test_sequential_nested_in_functional_and_sequential():
    inner = Sequential([layers.Input((3,)), layers.Dense(4), layers.Dense(2)], name="inner")
    outer = Sequential([inner, layers.Dense(1)], name="outer")
    assert outer.built and outer.input_shape == (None, 3)
    assert next(path for path, _ in outer.named_variables()) == "layers.0.layers.0.kernel"
    x = layers.Input((3,))
    model = Model(x, inner(x) + outer(x))
    data = rand(2, 3)
    expected = mlp_np(inner, data) + mlp_np(outer.layers[1], mlp_np(inner, data))
    np.testing.assert_allclose(model(data), expected, rtol=1e-5, atol=1e-6)
    assert isinstance(inner._functional, Functional)


def test_trainable_false_freezes_all_layers():
    model = Sequential([layers.Input((3,)), layers.Dense(2)], trainable=False)
    assert model.trainable_weights == [] and len(model.non_trainable_weights) == 2
    model.trainable = True
    assert len(model.trainable_weights) == 2 and model.layers[0].trainable


def test_other_backend():
    torch = pytest.importorskip("torch")
    model = Sequential([layers.Dense(4), layers.Dense(2)])
    data = rand(3, 3)
    expected = np.asarray(model(data))
    model.to_backend("torch")
    out = model(data)
    assert isinstance(out, torch.Tensor)
    np.testing.assert_allclose(out.detach().numpy(), expected, rtol=1e-5, atol=1e-6)
