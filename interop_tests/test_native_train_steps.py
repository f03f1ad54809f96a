"""Backend-native train_step overrides work under fit, as a user of each framework expects."""

import numpy as np
import pytest

import kbridge
from kbridge import layers, ops


def _data():
    rng = np.random.RandomState(0)
    x = rng.randn(64, 4).astype("float32")
    y = (x @ np.array([[1.0], [-2.0], [0.5], [3.0]], "float32")).astype("float32")
    return x, y


def _fit(model_class, backend, seed=0):
    kbridge.utils.set_random_seed(seed)  # initial weights independent of test order
    with kbridge.backend.use(backend):
        model = model_class()
    model.compile(optimizer=kbridge.optimizers.Adam(0.05), loss="mse")
    history = model.fit(*_data(), batch_size=16, epochs=10, verbose=0, shuffle=False)
    return history.history["loss"]


class _Base(kbridge.Model):
    def __init__(self):
        super().__init__()
        self.hidden = layers.Dense(8, activation="tanh")
        self.norm = layers.BatchNormalization()
        self.out = layers.Dense(1)

    def call(self, x, training=False):
        return self.out(self.norm(self.hidden(x), training=training))


class TapeStep(_Base):
    def train_step(self, data):
        import tensorflow as tf

        x, y = data
        with tf.GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self.compute_loss(x=x, y=y, y_pred=y_pred)
        grads = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply_gradients(zip(grads, self.trainable_variables))
        return {"loss": loss}


class BackwardStep(_Base):
    def train_step(self, data):
        x, y = data
        for variable in self.trainable_variables:
            variable.value.grad = None
        y_pred = self(x, training=True)
        loss = self.compute_loss(x=x, y=y, y_pred=y_pred)
        loss.backward()
        self.optimizer.apply([v.value.grad for v in self.trainable_variables], self.trainable_variables)
        return {"loss": loss.detach()}


class PureJaxStep(_Base):
    def train_step(self, data):
        import jax

        x, y = data
        trainable = [v.value for v in self.trainable_variables]
        non_trainable = [v.value for v in self.non_trainable_variables]

        def loss_fn(values):
            y_pred, new_state = self.stateless_call(values, non_trainable, x, training=True)
            return ops.mean(ops.square(y_pred - y)), new_state

        (loss, new_state), grads = jax.value_and_grad(loss_fn, has_aux=True)(trainable)
        self.optimizer.apply(grads, self.trainable_variables)
        for variable, value in zip(self.non_trainable_variables, new_state):
            variable.assign(value)
        return {"loss": loss}


@pytest.mark.parametrize(
    "model_class,backend",
    [(TapeStep, "tensorflow"), (BackwardStep, "torch"), (PureJaxStep, "jax")],
    ids=["tf-gradient-tape", "torch-backward", "jax-pure"],
)
def test_native_train_step_trains(model_class, backend):
    losses = _fit(model_class, backend)
    assert losses[-1] < 0.5 * losses[0], losses


def test_gradient_tape_sees_kbridge_variables_directly():
    import tensorflow as tf

    with kbridge.backend.use("tensorflow"):
        dense = layers.Dense(2)
        dense(np.ones((1, 3), "float32"))
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(dense(tf.ones((4, 3))))
    kernel_grad, bias_grad = tape.gradient(loss, dense.trainable_variables)
    np.testing.assert_allclose(kernel_grad.numpy(), np.full((3, 2), 4.0))
    np.testing.assert_allclose(bias_grad.numpy(), np.full((2,), 4.0))
