"""`kbridge.adapters.tf.to_module`: a kbridge model as a native `tf.Module` sharing its variables."""

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")

import kbridge  # noqa: E402
from kbridge import layers  # noqa: E402
from kbridge.adapters.tf import KbridgeTFModule, to_module  # noqa: E402


def _mlp():
    with kbridge.backend.use("tensorflow"):
        inputs = layers.Input((4,), name="x")
        x = layers.Dense(8, activation="relu")(inputs)
        x = layers.BatchNormalization()(x)
        x = layers.Dropout(0.5, seed=2)(x)
        outputs = layers.Dense(2)(x)
        return kbridge.Model(inputs, outputs)


def _x(n=8, seed=0):
    return np.random.RandomState(seed).randn(n, 4).astype("float32")


def test_variables_names_and_trainable_flags():
    model = _mlp()
    model.layers[1].trainable = False  # a frozen Dense: its weights are non-trainable variables
    module = to_module(model)
    assert isinstance(module, tf.Module) and isinstance(module, KbridgeTFModule)
    paths = [p for p, _ in model.named_variables()]
    assert list(module.variables_by_path) == paths
    assert [v.name for v in module.variables] == [f"{p}:0" for p in paths]
    assert [v.name for v in module.trainable_variables] == [
        "layers.2.gamma:0", "layers.2.beta:0", "layers.4.kernel:0", "layers.4.bias:0"
    ]  # fmt: skip
    assert all(v.trainable for v in module.trainable_variables)
    non_trainable = {v.name: v.trainable for v in module.non_trainable_variables}
    assert non_trainable == {
        "layers.1.kernel:0": False, "layers.1.bias:0": False,  # frozen: tf-non-trainable too
        "layers.2.moving_mean:0": False, "layers.2.moving_variance:0": False,
        "layers.3.seed_generator.state:0": False,
    }  # fmt: skip
    for path, variable in model.named_variables():
        assert variable._value is module.variables_by_path[path]  # the very same tf.Variable
    # tf.Module's own traversal finds every variable too (SavedModel/Checkpoint tracking).
    assert {id(v) for v in tf.Module._flatten(module, predicate=lambda v: isinstance(v, tf.Variable))} == {
        id(v) for v in module.variables
    }


def test_outputs_and_training_argument():
    model = _mlp()
    module = to_module(model)
    x = _x()
    np.testing.assert_allclose(module(x).numpy(), model.predict(x, verbose=0), atol=1e-6)
    np.testing.assert_allclose(module(x).numpy(), module(x, training=False).numpy())
    mean_before = model.layers[2].moving_mean.numpy()
    seed_before = model.layers[3].seed_generator.state.numpy()
    y1 = module(x, training=True).numpy()
    y2 = module(x, training=True).numpy()
    assert not np.allclose(y1, y2)  # Dropout active, a new mask each call (the seed state advanced)
    assert not np.allclose(model.layers[2].moving_mean.numpy(), mean_before)  # statistics updated in place
    assert not np.array_equal(model.layers[3].seed_generator.state.numpy(), seed_before)
    with pytest.raises(TypeError, match="Python bool"):
        module(x, training=tf.constant(True))


def test_dynamic_batch_and_input_signature():
    module = to_module(_mlp())
    assert module.input_signature[0].shape.as_list() == [None, 4]
    assert module.input_signature[0].name == "x"
    for n in (1, 3, 17):
        assert module(_x(n)).shape == (n, 2)
    assert module.call_inference.experimental_get_tracing_count() == 1  # one trace serves every batch size


@pytest.mark.parametrize("optimizer", ["tf", "kbridge"])
def test_gradient_tape_loop_trains_the_kbridge_model(optimizer):
    kbridge.utils.set_random_seed(0)
    model = _mlp()
    module = to_module(model)
    x, y = _x(16), np.random.RandomState(1).randn(16, 2).astype("float32")
    before = [v.numpy() for v in model.trainable_variables]
    if optimizer == "tf":
        opt = tf.keras.optimizers.Adam(0.05)
    else:
        with kbridge.backend.use("tensorflow"):
            opt = kbridge.optimizers.Adam(0.05)

    @tf.function
    def step(x, y):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean((module(x, training=True) - y) ** 2)
        grads = tape.gradient(loss, module.trainable_variables)
        if optimizer == "tf":
            opt.apply_gradients(zip(grads, module.trainable_variables))
        else:
            opt.apply(grads, model.trainable_variables)
        return loss

    losses = [float(step(x, y)) for _ in range(15)]
    assert losses[-1] < losses[0]
    for old, variable in zip(before, model.trainable_variables):
        assert not np.allclose(old, variable.numpy()), variable.path
    # The kbridge model computes with the trained weights.
    np.testing.assert_allclose(model.predict(x, verbose=0), module(x).numpy(), atol=1e-6)


def test_sharing_both_ways():
    model = _mlp()
    module = to_module(model)
    kernel = module.variables_by_path["layers.4.kernel"]
    kernel.assign(tf.ones_like(kernel))
    np.testing.assert_array_equal(model.layers[4].kernel.numpy(), np.ones((8, 2), "float32"))
    model.layers[4].kernel.assign(np.full((8, 2), 2.0, "float32"))
    np.testing.assert_array_equal(kernel.numpy(), np.full((8, 2), 2.0, "float32"))
    # fit trains the module's variables.
    model.compile(optimizer="sgd", loss="mse")
    before = module.variables_by_path["layers.1.kernel"].numpy()
    model.fit(_x(16), np.zeros((16, 2), "float32"), batch_size=8, epochs=1, verbose=0)
    assert not np.allclose(before, module.variables_by_path["layers.1.kernel"].numpy())
    np.testing.assert_allclose(module(_x()).numpy(), model.predict(_x(), verbose=0), atol=1e-6)
    # Wrapping again reuses the same variables; freezing a layer and wrapping again re-creates its own.
    again = to_module(model)
    assert all(a is b for a, b in zip(again.variables, module.variables))
    model.layers[4].trainable = False
    frozen = to_module(model)
    assert not frozen.variables_by_path["layers.4.kernel"].trainable
    assert frozen.variables_by_path["layers.1.kernel"] is module.variables_by_path["layers.1.kernel"]
    np.testing.assert_array_equal(frozen.variables_by_path["layers.4.kernel"].numpy(), kernel.numpy())


def test_fit_after_to_module_uses_the_renamed_variables():
    model = _mlp()
    model.compile(optimizer="sgd", loss="mse")
    model.fit(_x(8), np.zeros((8, 2), "float32"), epochs=1, verbose=0)  # compiled steps exist
    module = to_module(model)
    before = module.variables_by_path["layers.4.kernel"].numpy()
    model.fit(_x(8), np.ones((8, 2), "float32"), epochs=1, verbose=0)
    assert not np.allclose(before, module.variables_by_path["layers.4.kernel"].numpy())


def test_multi_input_model_takes_positional_list_or_dict():
    with kbridge.backend.use("tensorflow"):
        a = layers.Input((3,), name="a")
        b = layers.Input((2,), name="b")
        model = kbridge.Model([a, b], layers.Dense(1)(layers.Concatenate()([a, b])))
    module = to_module(model)
    xa, xb = np.ones((4, 3), "float32"), np.ones((4, 2), "float32")
    want = model.predict([xa, xb], verbose=0)
    np.testing.assert_allclose(module(xa, xb).numpy(), want, atol=1e-6)
    np.testing.assert_allclose(module([xa, xb]).numpy(), want, atol=1e-6)
    np.testing.assert_allclose(module({"b": xb, "a": xa}).numpy(), want, atol=1e-6)


def test_subclassed_model_with_an_explicit_signature():
    class Net(kbridge.Model):
        def __init__(self):
            super().__init__()
            self.dense = layers.Dense(3)

        def call(self, x):
            return self.dense(x)

    with kbridge.backend.use("tensorflow"):
        net = Net()
        net(np.ones((2, 5), "float32"))
    module = to_module(net, input_signature=[tf.TensorSpec((None, 5), tf.float32)])
    assert [v.name for v in module.variables] == ["dense.kernel:0", "dense.bias:0"]
    np.testing.assert_allclose(module(np.ones((3, 5), "float32")).numpy(), net(np.ones((3, 5), "float32")).numpy())


def test_errors():
    with kbridge.backend.use("numpy"):
        inputs = layers.Input((4,))
        model = kbridge.Model(inputs, layers.Dense(2)(inputs))
    with pytest.raises(ValueError, match=r'to_backend\("tensorflow"\)'):
        to_module(model)
    with pytest.raises(ValueError, match="not built"):
        to_module(layers.Dense(3))
    with pytest.raises(TypeError):
        to_module(object())
    with pytest.raises(ValueError, match='input "x" expects shape \\(None, 4\\)'):
        to_module(_mlp(), input_signature=[tf.TensorSpec((None, 5), tf.float32)])
