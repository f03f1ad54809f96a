"""The shared trainer on jax, torch and tensorflow: one loop, one neutral train_step."""

import numpy as np
import pytest

import kbridge
from kbridge import layers, ops

TRAINING_BACKENDS = ["jax", "torch", "tensorflow"]


def _data(n=64, seed=0):
    rng = np.random.RandomState(seed)
    x = rng.randn(n, 8).astype("float32")
    w = rng.randn(8, 3).astype("float32")
    y = np.argmax(x @ w, axis=1).astype("int32")
    return x, y


def _mlp(dropout=0.0, batchnorm=False):
    stack = [kbridge.Input((8,)), layers.Dense(16, activation="relu")]
    if batchnorm:
        stack.append(layers.BatchNormalization())
    if dropout:
        stack.append(layers.Dropout(dropout, seed=2))
    stack.append(layers.Dense(3))
    return kbridge.Sequential(stack)


@pytest.mark.parametrize("backend", TRAINING_BACKENDS)
@pytest.mark.parametrize("variant", ["plain", "batchnorm_dropout"])
def test_loss_falls_on_a_learnable_task(backend, variant):
    kbridge.utils.set_random_seed(0)  # initial weights independent of test order
    x, y = _data()
    with kbridge.backend.use(backend):
        model = _mlp(dropout=0.2, batchnorm=True) if variant != "plain" else _mlp()
    model.compile(optimizer=kbridge.optimizers.Adam(0.02), loss=kbridge.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])  # fmt: skip
    history = model.fit(x, y, batch_size=16, epochs=8, verbose=0, shuffle=False)
    losses = history.history["loss"]
    assert len(losses) == 8 and losses[-1] < 0.7 * losses[0], losses
    assert set(history.history) == {"loss", "accuracy"}
    logs = model.evaluate(x, y, verbose=0, return_dict=True)
    assert logs["accuracy"] > 0.7
    predictions = model.predict(x, batch_size=32, verbose=0)
    assert isinstance(predictions, np.ndarray) and predictions.shape == (64, 3)


def test_same_start_same_data_same_weights_after_20_sgd_steps():
    x, y = _data(n=80, seed=1)
    with kbridge.backend.use("numpy"):
        template = _mlp(batchnorm=True)
    start = template.get_weights()
    results = {}
    for backend in TRAINING_BACKENDS:
        with kbridge.backend.use(backend):
            model = _mlp(batchnorm=True)
        model.set_weights(start)
        model.compile(optimizer=kbridge.optimizers.SGD(0.05, momentum=0.9),
                      loss=kbridge.losses.SparseCategoricalCrossentropy(from_logits=True))  # fmt: skip
        model.fit(x, y, batch_size=16, epochs=4, shuffle=False, verbose=0)  # 5 batches x 4 epochs
        assert int(ops.convert_to_numpy(model.optimizer.iterations)) == 20
        results[backend] = model.get_weights()
    for backend in TRAINING_BACKENDS[1:]:
        for a, b in zip(results["jax"], results[backend]):
            np.testing.assert_allclose(b, a, atol=1e-4, rtol=1e-4, err_msg=backend)


class ContrastiveMetricModel(kbridge.Model):
    """A custom train_step written once with neutral APIs, plus a custom metric."""

    def __init__(self):
        super().__init__()
        self.body = layers.Dense(16, activation="tanh")
        self.head = layers.Dense(1)
        self.gap_tracker = kbridge.metrics.Mean(name="gap")

    def call(self, x):
        return self.head(self.body(x))

    def train_step(self, data):
        x, y = data

        def loss_fn():
            prediction = self(x, training=True)
            loss = ops.mean(ops.square(ops.subtract(prediction[:, 0], y)))
            return loss, prediction

        (loss, prediction), grads = kbridge.value_and_grad(loss_fn, self.trainable_variables, has_aux=True)()
        self.optimizer.apply(grads, self.trainable_variables)
        self.gap_tracker.update_state(ops.mean(ops.abs(ops.subtract(prediction[:, 0], y))))
        return {"loss": loss, "gap": self.gap_tracker.result()}

    @property
    def metrics(self):
        return [self.gap_tracker]


@pytest.mark.parametrize("backend", TRAINING_BACKENDS)
def test_one_neutral_train_step_trains_everywhere(backend):
    rng = np.random.RandomState(3)
    x = rng.randn(64, 4).astype("float32")
    y = (x @ np.array([1.0, -2.0, 0.5, 3.0], "float32")).astype("float32")
    with kbridge.backend.use(backend):
        model = ContrastiveMetricModel()
    model.compile(optimizer=kbridge.optimizers.Adam(0.01))
    history = model.fit(x, y, batch_size=16, epochs=10, verbose=0, shuffle=False)
    assert history.history["gap"][-1] < 0.5 * history.history["gap"][0]
    assert history.history["loss"][-1] < 0.3 * history.history["loss"][0]


def test_fit_before_compile_is_a_clear_error():
    with kbridge.backend.use("jax"):
        model = _mlp()
    with pytest.raises(ValueError, match=r"must call `compile\(\)` before calling `fit\(\)`"):
        model.fit(*_data(), verbose=0)


def test_x_and_y_of_different_lengths():
    with kbridge.backend.use("jax"):
        model = _mlp()
    model.compile(loss="mse")
    x, y = _data()
    with pytest.raises(ValueError, match="64.*63|63.*64"):
        model.fit(x, y[:63], verbose=0)


def test_unknown_loss_and_optimizer_names():
    with kbridge.backend.use("jax"):
        model = _mlp()
    with pytest.raises(ValueError, match="not_a_loss"):
        model.compile(optimizer="sgd", loss="not_a_loss")
    with pytest.raises(ValueError, match="adamm"):
        model.compile(optimizer="adamm", loss="mse")


def test_loss_dict_naming_a_missing_output():
    with kbridge.backend.use("jax"):
        inputs = kbridge.Input((8,))
        model = kbridge.Model(inputs, {"a": layers.Dense(1, name="a")(inputs), "b": layers.Dense(1, name="b")(inputs)})
    model.compile(optimizer="sgd", loss={"a": "mse", "c": "mse"})
    with pytest.raises(ValueError, match=r"names output\(s\) \['c'\].*\['a', 'b'\]"):
        model.fit(_data()[0], {"a": np.zeros((64, 1)), "b": np.zeros((64, 1))}, verbose=0)


def test_multi_output_losses_weights_and_metrics():
    x, y = _data()
    with kbridge.backend.use("torch"):
        inputs = kbridge.Input((8,))
        hidden = layers.Dense(16, activation="relu")(inputs)
        model = kbridge.Model(inputs, [layers.Dense(3, name="cls")(hidden), layers.Dense(1, name="reg")(hidden)])
    model.compile(
        optimizer="adam",
        loss=[kbridge.losses.SparseCategoricalCrossentropy(from_logits=True), "mse"],
        loss_weights=[1.0, 0.5],
        metrics=[["accuracy"], ["mae"]],
    )
    target = x[:, :1].astype("float32")
    history = model.fit(x, [y, target], batch_size=16, epochs=3, verbose=0)
    assert {"loss", "cls_accuracy", "reg_mae"} <= set(history.history)
    assert history.history["loss"][-1] < history.history["loss"][0]


@pytest.mark.parametrize("how", ["layer", "variable"])
def test_eager_torch_fit_sees_trainable_changes_between_fits(how):
    # The eager step keeps its variable lists between steps; a changed `trainable` flag
    # (on a layer or on a variable) must still reach the next fit without compile().
    x, y = _data()
    with kbridge.backend.use("torch"):
        model = _mlp()
    model.compile(optimizer=kbridge.optimizers.SGD(0.1), loss=kbridge.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(x, y, batch_size=16, epochs=1, verbose=0)
    first, last = model.layers[0], model.layers[-1]
    if how == "layer":
        first.trainable = False
    else:
        first.kernel.trainable = False
    frozen = first.kernel.numpy().copy()
    before_last = last.kernel.numpy().copy()
    model.fit(x, y, batch_size=16, epochs=1, verbose=0)
    np.testing.assert_array_equal(first.kernel.numpy(), frozen)
    assert not np.allclose(last.kernel.numpy(), before_last)
    first.trainable = True
    first.kernel.trainable = True
    model.fit(x, y, batch_size=16, epochs=1, verbose=0)
    assert not np.allclose(first.kernel.numpy(), frozen)
