"""The progressive ladder: one model definition, from `fit` to a hand-written loop per framework.

(a) `fit`; (b) `fit` with callbacks (EarlyStopping, ModelCheckpoint to a `.keras` file and
a custom Callback); (c) a Model subclass overriding `train_step` once with neutral APIs
(`keras.value_and_grad`, `optimizer.apply`), run under `fit` on JAX, PyTorch and
TensorFlow; (d) a fully native loop in each framework over the adapted model: `to_module`
+ `torch.optim`, `to_function` + optax under `jax.jit`, `to_module` + `tf.GradientTape`
in a `tf.function`. The loss must fall on every rung; a table sums them up.

    python examples/ladder.py
"""

import os
import tempfile
import time

import jax
import numpy as np
import optax
import tensorflow as tf
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import kbridge as keras
from kbridge import layers
from kbridge.adapters import jax as kbridge_jax
from kbridge.adapters import tf as kbridge_tf
from kbridge.adapters import torch as kbridge_torch

EPOCHS = 4
BATCH = 64


def build_model(backend, model_class=keras.Model):
    """The one model definition every rung uses; `model_class` may be a Model subclass."""
    keras.utils.set_random_seed(0)  # every rung starts from the same weights
    with keras.backend.use(backend):
        inputs = keras.Input(shape=(64,), name="pixels")
        x = layers.Rescaling(1.0 / 16.0)(inputs)
        x = layers.Dense(32, activation="relu")(x)
        outputs = layers.Dense(10, name="logits")(x)
        return model_class(inputs, outputs, name="digits")


def compile_model(model):
    model.compile(
        optimizer=keras.optimizers.Adam(0.01),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    return model


@keras.saving.register_keras_serializable(package="examples")
class NeutralStepModel(keras.Model):
    """A Model whose `train_step` is written once, with kbridge APIs only, for every backend."""

    def train_step(self, data):
        x, y = data

        def loss_fn():
            y_pred = self(x, training=True)
            return self.compute_loss(x=x, y=y, y_pred=y_pred), y_pred

        (loss, y_pred), grads = keras.value_and_grad(loss_fn, self.trainable_variables, has_aux=True)()
        self.optimizer.apply(grads, self.trainable_variables)
        for metric in self.metrics:  # as in Keras 3, the loss tracker is the step's to update
            if metric.name == "loss":
                metric.update_state(loss)
        return self.compute_metrics(x, y, y_pred)


class EpochLosses(keras.callbacks.Callback):
    """A custom callback: records the training loss at the end of every epoch."""

    def __init__(self):
        super().__init__()
        self.losses = []

    def on_epoch_end(self, epoch, logs=None):
        self.losses.append(float(logs["loss"]))


def rung_fit(data):
    model = compile_model(build_model("jax"))
    history = model.fit(data["x"], data["y"], batch_size=BATCH, epochs=EPOCHS, verbose=0)
    return history.history["loss"]


def rung_callbacks(data):
    model = compile_model(build_model("jax"))
    recorder = EpochLosses()
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "best.keras")
        callbacks = [
            keras.callbacks.EarlyStopping(monitor="val_loss", patience=2, restore_best_weights=True),
            keras.callbacks.ModelCheckpoint(path, monitor="val_loss", save_best_only=True),
            recorder,
        ]
        model.fit(data["x"], data["y"], batch_size=BATCH, epochs=EPOCHS, validation_split=0.2, callbacks=callbacks,
                  verbose=0)  # fmt: skip
        best = keras.saving.load_model(path)
        _, accuracy = best.evaluate(data["x_test"], data["y_test"], verbose=0)
    assert accuracy >= 0.85, f"the checkpointed model scores {accuracy:.3f}"
    return recorder.losses


def rung_neutral_step(data, backend):
    model = compile_model(build_model(backend, NeutralStepModel))
    history = model.fit(data["x"], data["y"], batch_size=BATCH, epochs=EPOCHS, verbose=0)
    return history.history["loss"]


def batches(data, epoch):
    order = np.random.default_rng(epoch).permutation(len(data["x"]))
    for start in range(0, len(order), BATCH):
        index = order[start : start + BATCH]
        yield data["x"][index], data["y"][index]


def native_torch(data):
    module = kbridge_torch.to_module(build_model("torch"))
    optimizer = torch.optim.Adam(module.parameters(), lr=0.01)
    losses = []
    for epoch in range(EPOCHS):
        module.train()
        total = 0.0
        for x, y in batches(data, epoch):
            optimizer.zero_grad()
            loss = torch.nn.functional.cross_entropy(module(torch.from_numpy(x)), torch.from_numpy(y).long())
            loss.backward()
            optimizer.step()
            total += float(loss.detach()) * len(y)
        losses.append(total / len(data["y"]))
    return losses


def native_jax(data):
    fn = kbridge_jax.to_function(build_model("jax"))
    optimizer = optax.adam(0.01)

    @jax.jit
    def step(params, state, opt_state, x, y):
        def loss_fn(params):
            logits, new_state = fn.apply(params, state, x, training=True)
            return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean(), new_state

        (loss, state), grads = jax.value_and_grad(loss_fn, has_aux=True)(params)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), state, opt_state, loss

    params, state = fn.params, fn.state
    opt_state = optimizer.init(params)
    losses = []
    for epoch in range(EPOCHS):
        total = 0.0
        for x, y in batches(data, epoch):
            params, state, opt_state, loss = step(params, state, opt_state, x, y)
            total += float(loss) * len(y)
        losses.append(total / len(data["y"]))
    return losses


def native_tf(data):
    module = kbridge_tf.to_module(build_model("tensorflow"))
    learning_rate = 0.5  # TensorFlow's optimizers live in Keras; plain SGD keeps this loop TF-only

    @tf.function(reduce_retracing=True)
    def step(x, y):
        with tf.GradientTape() as tape:
            logits = module(x, training=True)
            loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))
        grads = tape.gradient(loss, module.trainable_variables)
        for variable, grad in zip(module.trainable_variables, grads):
            variable.assign_sub(learning_rate * grad)
        return loss

    losses = []
    for epoch in range(EPOCHS):
        total = 0.0
        for x, y in batches(data, epoch):
            total += float(step(x, y)) * len(y)
        losses.append(total / len(data["y"]))
    return losses


def main():
    start = time.perf_counter()
    images, labels = load_digits(return_X_y=True)
    x, x_test, y, y_test = train_test_split(
        images.astype("float32"), labels.astype("int32"), test_size=0.2, random_state=0
    )
    data = {"x": x, "y": y, "x_test": x_test, "y_test": y_test}
    rungs = [
        ("a", "fit", "jax", lambda: rung_fit(data)),
        ("b", "fit + callbacks", "jax", lambda: rung_callbacks(data)),
        ("c", "neutral train_step", "jax", lambda: rung_neutral_step(data, "jax")),
        ("c", "neutral train_step", "torch", lambda: rung_neutral_step(data, "torch")),
        ("c", "neutral train_step", "tensorflow", lambda: rung_neutral_step(data, "tensorflow")),
        ("d", "torch.optim loop", "torch", lambda: native_torch(data)),
        ("d", "optax under jax.jit", "jax", lambda: native_jax(data)),
        ("d", "tf.GradientTape loop", "tensorflow", lambda: native_tf(data)),
    ]
    neutral = []
    print(f"{'rung':<5}{'how':<23}{'framework':<12}{'first loss':>11}{'last loss':>11}{'seconds':>9}")
    for rung, how, framework, run in rungs:
        began = time.perf_counter()
        losses = run()
        seconds = time.perf_counter() - began
        print(f"{rung:<5}{how:<23}{framework:<12}{losses[0]:>11.4f}{losses[-1]:>11.4f}{seconds:>9.1f}")
        assert losses[-1] < 0.5 * losses[0], (rung, how, framework, losses)
        if rung == "c":
            neutral.append(losses)
    # One train_step, same data order and initial weights: the three frameworks agree.
    np.testing.assert_allclose(neutral[1:], [neutral[0]] * 2, rtol=1e-3)
    print(f"done in {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
