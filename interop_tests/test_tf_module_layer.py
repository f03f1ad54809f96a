"""`kbridge.adapters.tf.TFModuleLayer`: TensorFlow code (a tf.Module or callable) as a kbridge layer."""

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")

import kbridge  # noqa: E402
from kbridge import layers  # noqa: E402
from kbridge.adapters.tf import TFModuleLayer, export_saved_model, to_module  # noqa: E402


class Affine(tf.Module):
    """A native TF module with a trainable kernel, a non-trainable counter and a `training` flag."""

    def __init__(self, units_in, units_out):
        super().__init__(name="affine")
        rng = np.random.RandomState(0)
        self.w = tf.Variable(rng.randn(units_in, units_out).astype("float32") * 0.3, name="w")
        self.b = tf.Variable(np.zeros(units_out, "float32"), name="b")
        self.calls = tf.Variable(0.0, trainable=False, name="calls")

    def __call__(self, x, training=False):
        if training:
            self.calls.assign_add(1.0)
        return tf.matmul(x, self.w) + self.b


def _model(module):
    with kbridge.backend.use("tensorflow"):
        inputs = layers.Input((4,), name="x")
        h = TFModuleLayer(module, name="native")(inputs)
        outputs = layers.Dense(1)(layers.Activation("tanh")(h))
        return kbridge.Model(inputs, outputs)


def test_variables_are_the_modules_own():
    module = Affine(4, 3)
    layer = TFModuleLayer(module)
    # tf.Module lists variables by attribute name; names are the tf.Variable names without ":0".
    assert [v.name for v in layer.trainable_variables] == ["b", "w"]
    assert [v.name for v in layer.non_trainable_variables] == ["calls"]
    bound = TFModuleLayer(module.__call__)  # a bound method of a tf.Module adopts that module's variables
    adopted = [v._value for v in bound.trainable_variables]
    assert len(adopted) == 2 and adopted[0] is module.b and adopted[1] is module.w
    for name, tf_variable in layer.tf_variables.items():
        variable = next(v for v in layer.variables if v.name == name)
        assert variable._value is tf_variable
        assert variable.backend == "tensorflow"
    x = np.ones((2, 4), "float32")
    np.testing.assert_allclose(layer(x).numpy(), x @ module.w.numpy(), atol=1e-6)


def test_in_a_model_shapes_training_flag_and_fit():
    module = Affine(4, 3)
    model = _model(module)
    assert model.layers[1].output.shape == (None, 3)
    x = np.random.RandomState(1).randn(32, 4).astype("float32")
    y = np.tanh(x[:, :1])
    w_before = module.w.numpy()
    model.compile(optimizer=kbridge.optimizers.Adam(0.05), loss="mse")
    history = model.fit(x, y, batch_size=8, epochs=3, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert not np.allclose(w_before, module.w.numpy())  # fit trained the native module's variables
    assert module.calls.numpy() == 12.0  # training=True reached the module once per step
    model.predict(x, verbose=0)
    assert module.calls.numpy() == 12.0  # inference: training=False


def test_gradient_tape_and_to_module_share_the_variables():
    module = Affine(4, 3)
    model = _model(module)
    wrapped = to_module(model)
    assert any(v is module.w for v in wrapped.trainable_variables)  # adopted variables are kept as they are
    x = np.ones((5, 4), "float32")
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(wrapped(x, training=True))
    grads = tape.gradient(loss, wrapped.trainable_variables)
    assert all(g is not None for g in grads)
    tf.keras.optimizers.SGD(0.1).apply_gradients(zip(grads, wrapped.trainable_variables))
    np.testing.assert_allclose(model.predict(x, verbose=0), wrapped(x).numpy(), atol=1e-6)


def test_plain_callable_and_export(tmp_path):
    with kbridge.backend.use("tensorflow"):
        inputs = layers.Input((None, 3), name="seq")
        outputs = TFModuleLayer(lambda t: tf.reduce_max(t, axis=1), name="maxpool")(inputs)
        model = kbridge.Model(inputs, outputs)
    assert model.output.shape == (None, 3)
    x = np.random.RandomState(2).randn(2, 5, 3).astype("float32")
    np.testing.assert_allclose(model.predict(x, verbose=0), x.max(axis=1))
    export_saved_model(model, tmp_path / "m")
    loaded = tf.saved_model.load(str(tmp_path / "m"))
    out = loaded.signatures["serving_default"](seq=tf.constant(x))["maxpool"]
    np.testing.assert_allclose(out.numpy(), x.max(axis=1))


def test_errors():
    with pytest.raises(TypeError, match="tf.Module or a callable"):
        TFModuleLayer(3)
    with kbridge.backend.use("torch"):
        with pytest.raises(ValueError, match="tensorflow backend only"):
            TFModuleLayer(Affine(2, 2))
    layer = TFModuleLayer(Affine(4, 3))
    with pytest.raises(NotImplementedError, match="never serializes"):
        layer.get_config()
    x = np.ones((1, 4), "float32")
    values = [tf.zeros_like(v.value) for v in layer.trainable_variables]
    with pytest.raises(ValueError, match='Layer "tf_module_layer.*" \\(TFModuleLayer\\) computes with its own'):
        layer.stateless_call(values, [v.value for v in layer.non_trainable_variables], x)
