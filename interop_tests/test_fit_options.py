"""The trainer's options on jax, torch and tensorflow: native optimizers (optax, torch.optim),
torch.compile, steps_per_execution, validation, weights, data sources and the *_on_batch calls."""

import concurrent.futures
import functools

import numpy as np
import pytest

import kbridge
from kbridge import layers, ops

BACKENDS = ["jax", "torch", "tensorflow"]


def _regression(n=64, seed=0):
    rng = np.random.RandomState(seed)
    x = rng.randn(n, 4).astype("float32")
    y = (x @ rng.randn(4, 1) + 0.1).astype("float32")
    return x, y


def _classification(n=48, seed=1):
    rng = np.random.RandomState(seed)
    x = rng.randn(n, 4).astype("float32")
    y = np.argmax(x @ rng.randn(4, 3), axis=1).astype("int32")
    return x, y


def _mlp(backend, outputs=1, start=None):
    """A 4 -> 8 (relu) -> `outputs` MLP on `backend`; `start` weights, else seeded ones."""
    kbridge.utils.set_random_seed(0)
    with kbridge.backend.use(backend):
        model = kbridge.Sequential([kbridge.Input((4,)), layers.Dense(8, activation="relu"), layers.Dense(outputs)])
    if start is not None:
        model.set_weights(start)
    return model


def _start(outputs=1):
    return _mlp("numpy", outputs).get_weights()


def _batches(x, y, batch_size):
    return [(x[i : i + batch_size], y[i : i + batch_size]) for i in range(0, len(x), batch_size)]


def _assert_weights_close(got, expected, atol=1e-5):
    assert len(got) == len(expected)
    for a, b in zip(got, expected):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), atol=atol, rtol=1e-5)


# -- native optimizers --------------------------------------------------------------------------


def _optax_reference(transformation, start, x, y, batch_size, epochs):
    import jax
    import jax.numpy as jnp
    import optax

    def loss_fn(params, xb, yb):
        k1, b1, k2, b2 = params
        pred = jnp.maximum(xb @ k1 + b1, 0.0) @ k2 + b2
        return jnp.mean(jnp.square(pred - yb))

    params = [jnp.asarray(w) for w in start]
    state = transformation.init(params)
    for _ in range(epochs):
        for xb, yb in _batches(x, y, batch_size):
            grads = jax.grad(loss_fn)(params, xb, yb)
            updates, state = transformation.update(grads, state, params)
            params = optax.apply_updates(params, updates)
    return [np.asarray(p) for p in params]


def _torch_reference(make_optimizer, start, x, y, batch_size, epochs):
    import torch

    params = [torch.nn.Parameter(torch.tensor(w)) for w in start]
    optimizer = make_optimizer(params)
    for _ in range(epochs):
        for xb, yb in _batches(x, y, batch_size):
            k1, b1, k2, b2 = params
            pred = torch.relu(torch.from_numpy(xb) @ k1 + b1) @ k2 + b2
            loss = torch.mean(torch.square(pred - torch.from_numpy(yb)))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return [p.detach().numpy() for p in params]


@pytest.mark.parametrize("name", ["adamw", "sgd_momentum"])
def test_optax_trains_a_jax_model_like_a_hand_written_optax_loop(name):
    optax = pytest.importorskip("optax")
    make = {"adamw": lambda: optax.adamw(1e-2), "sgd_momentum": lambda: optax.sgd(0.02, momentum=0.9)}[name]
    x, y = _regression()
    start = _start()
    model = _mlp("jax", start=start)
    model.compile(optimizer=make(), loss="mse")
    history = model.fit(x, y, batch_size=16, epochs=3, shuffle=False, verbose=0)
    losses = history.history["loss"]
    assert losses[-1] < losses[0], losses
    assert int(model.optimizer.iterations.numpy()) == 12
    assert model.optimizer.variables[0].path == "iteration"
    assert all(v.path == f"optax.{i}" for i, v in enumerate(model.optimizer.variables[1:]))
    _assert_weights_close(model.get_weights(), _optax_reference(make(), start, x, y, 16, 3))


def test_optax_learning_rate_through_inject_hyperparams():
    optax = pytest.importorskip("optax")
    x, y = _regression()
    model = _mlp("jax")
    model.compile(optimizer=optax.inject_hyperparams(optax.sgd)(learning_rate=0.5), loss="mse")
    assert model.optimizer.learning_rate == pytest.approx(0.5)  # before the first batch builds the state
    model.optimizer.learning_rate = 0.1  # kept until the state exists
    model.fit(x, y, batch_size=32, epochs=1, verbose=0)
    np.testing.assert_allclose(float(ops.convert_to_numpy(model.optimizer.learning_rate)), 0.1, rtol=1e-6)
    model.optimizer.learning_rate = 0.0
    before = model.get_weights()
    model.fit(x, y, batch_size=32, epochs=1, verbose=0)  # the jitted step reads the new rate
    _assert_weights_close(model.get_weights(), before, atol=0)

    plain = _mlp("jax")
    plain.compile(optimizer=optax.sgd(0.1), loss="mse")
    plain.fit(x, y, batch_size=32, epochs=1, verbose=0)
    with pytest.raises(ValueError, match="inject_hyperparams"):
        plain.optimizer.learning_rate = 0.01
    assert not hasattr(plain.optimizer, "learning_rate")


@pytest.mark.parametrize("kind", ["class", "partial", "factory"])
def test_torch_optim_trains_a_torch_model_like_a_hand_written_torch_loop(kind):
    torch = pytest.importorskip("torch")
    identifier, reference = {
        "class": (torch.optim.AdamW, torch.optim.AdamW),
        "partial": (functools.partial(torch.optim.SGD, lr=0.02, momentum=0.9),) * 2,
        "factory": (lambda params: torch.optim.RMSprop(params, lr=1e-2),) * 2,
    }[kind]
    x, y = _regression()
    start = _start()
    model = _mlp("torch", start=start)
    model.compile(optimizer=identifier, loss="mse")
    history = model.fit(x, y, batch_size=16, epochs=3, shuffle=False, verbose=0)
    losses = history.history["loss"]
    assert losses[-1] < losses[0], losses
    assert int(model.optimizer.iterations.numpy()) == 12
    _assert_weights_close(model.get_weights(), _torch_reference(reference, start, x, y, 16, 3))


def test_torch_optim_learning_rate_and_state():
    torch = pytest.importorskip("torch")
    x, y = _regression()
    model = _mlp("torch")
    model.compile(optimizer=functools.partial(torch.optim.SGD, lr=0.05, momentum=0.9), loss="mse")
    assert model.optimizer.learning_rate == pytest.approx(0.05)  # before the first batch builds it
    scheduler = kbridge.callbacks.LearningRateScheduler(lambda epoch, rate: rate / 2)
    history = model.fit(x, y, batch_size=32, epochs=1, verbose=0, callbacks=[scheduler])
    assert history.history["learning_rate"] == [pytest.approx(0.025)]
    assert model.optimizer.learning_rate == pytest.approx(0.025)
    model.optimizer.learning_rate = 0.01
    assert model.optimizer.torch_optimizer.param_groups[0]["lr"] == pytest.approx(0.01)
    assert len(model.optimizer.torch_optimizer.state_dict()["state"]) == 4  # momentum buffers live in torch
    # The model moves away and back: the torch optimizer follows its new Parameters.
    model.to_backend("jax")
    model.to_backend("torch")
    model.fit(x, y, batch_size=32, epochs=1, verbose=0)
    assert int(model.optimizer.iterations.numpy()) == 4


def test_native_optimizer_of_another_framework_is_a_clear_error():
    optax = pytest.importorskip("optax")
    torch = pytest.importorskip("torch")
    with pytest.raises(ValueError, match=r"jax optimizer.*'torch' backend.*to_backend\('jax'\)"):
        _mlp("torch").compile(optimizer=optax.adam(1e-3), loss="mse")
    with pytest.raises(ValueError, match=r"torch optimizer.*'jax' backend.*to_backend\('torch'\)"):
        _mlp("jax").compile(optimizer=torch.optim.Adam, loss="mse")
    with pytest.raises(ValueError, match="torch optimizer.*'tensorflow' backend"):
        _mlp("tensorflow").compile(optimizer=functools.partial(torch.optim.SGD, lr=0.1), loss="mse")
    with pytest.raises(ValueError, match="optax GradientTransformation"):
        _mlp("jax").compile(optimizer=lambda params: None, loss="mse")
    # A model moved away from the optimizer's framework after compile().
    x, y = _regression(n=16)
    model = _mlp("jax")
    model.compile(optimizer=optax.sgd(0.1), loss="mse")
    model.fit(x, y, verbose=0)
    model.to_backend("torch")
    np.testing.assert_allclose(model.predict(x, verbose=0).shape, (16, 1))
    with pytest.raises(ValueError, match=r"optax optimizer.*\['torch'\].*to_backend\('jax'\)"):
        model.fit(x, y, verbose=0)


# -- torch.compile ------------------------------------------------------------------------------


@pytest.mark.parametrize("optimizer", ["kbridge", "torch"])
def test_torch_compile_gives_the_eager_weights(optimizer):
    torch = pytest.importorskip("torch")
    x, y = _regression(n=48)
    start = _start()
    results = []

    def train(jit_compile):
        model = _mlp("torch", start=start)
        chosen = kbridge.optimizers.Adam(0.01) if optimizer == "kbridge" else torch.optim.Adam
        model.compile(optimizer=chosen, loss="mse", metrics=["mae"], jit_compile=jit_compile)
        history = model.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
        evaluated = model.evaluate(x, y, batch_size=16, verbose=0)
        results.append((model.get_weights(), history.history, evaluated, model.predict(x, batch_size=16, verbose=0)))

    train(False)
    # In a new thread: its dispatch state is fresh, as in a new process.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pool.submit(train, True).result()
    (eager, eager_history, eager_eval, eager_pred), (compiled, history, evaluated, predicted) = results
    _assert_weights_close(compiled, eager)
    for name in ("loss", "mae"):
        np.testing.assert_allclose(history[name], eager_history[name], rtol=1e-5)
    np.testing.assert_allclose(evaluated, eager_eval, rtol=1e-5)
    np.testing.assert_allclose(predicted, eager_pred, atol=1e-5)


# -- loop options -------------------------------------------------------------------------------


@pytest.mark.parametrize("backend", BACKENDS)
def test_steps_per_execution_gives_the_same_weights(backend):
    x, y = _regression()
    start = _start()
    results = []
    for steps in (1, 3):
        model = _mlp(backend, start=start)
        model.compile(optimizer=kbridge.optimizers.SGD(0.05, momentum=0.9), loss="mse", steps_per_execution=steps)
        history = model.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)  # 8 steps: 3 + 3 + 2
        assert int(model.optimizer.iterations.numpy()) == 16
        results.append((model.get_weights(), history.history["loss"]))
    _assert_weights_close(results[1][0], results[0][0])
    np.testing.assert_allclose(results[1][1], results[0][1], rtol=1e-5)


@pytest.mark.parametrize("backend", BACKENDS)
def test_validation_split_and_data_add_val_logs(backend):
    x, y = _classification()
    model = _mlp(backend, outputs=3)
    model.compile(optimizer="adam", loss=kbridge.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])  # fmt: skip
    history = model.fit(x, y, batch_size=16, epochs=2, validation_split=0.25, shuffle=False, verbose=0)
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    # The split holds out the last 25%: the val logs are evaluate() on it.
    expected = model.evaluate(x[36:], y[36:], verbose=0, return_dict=True)
    assert history.history["val_loss"][-1] == pytest.approx(expected["loss"], rel=1e-5)
    assert int(model.optimizer.iterations.numpy()) == 6  # 36 training samples: 3 batches x 2 epochs

    history = model.fit(x, y, batch_size=16, epochs=1, validation_data=(x[:8], y[:8]), verbose=0)
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    expected = model.evaluate(x[:8], y[:8], verbose=0, return_dict=True)
    assert history.history["val_accuracy"][0] == pytest.approx(expected["accuracy"])


def test_validation_freq_and_initial_epoch():
    x, y = _regression()
    seen = []

    class Recorder(kbridge.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            seen.append((epoch, sorted(logs)))

    model = _mlp("jax")
    model.compile(optimizer="sgd", loss="mse")
    history = model.fit(x, y, batch_size=32, epochs=4, validation_data=(x, y), validation_freq=2,
                        callbacks=[Recorder()], verbose=0)  # fmt: skip
    assert [keys for _, keys in seen] == [["loss"], ["loss", "val_loss"]] * 2
    assert len(history.history["loss"]) == 4 and len(history.history["val_loss"]) == 2

    seen.clear()
    history = model.fit(x, y, batch_size=32, epochs=5, validation_data=(x, y), validation_freq=[1, 5],
                        initial_epoch=3, callbacks=[Recorder()], verbose=0)  # fmt: skip
    assert history.epoch == [3, 4]
    assert seen == [(3, ["loss"]), (4, ["loss", "val_loss"])]
    assert int(model.optimizer.iterations.numpy()) == 8 + 4


@pytest.mark.parametrize("backend", BACKENDS)
def test_sample_weight_and_class_weight_change_the_loss(backend):
    x, y = _classification(n=32)
    model = _mlp(backend, outputs=3)
    loss = kbridge.losses.SparseCategoricalCrossentropy(from_logits=True)
    model.compile(optimizer=kbridge.optimizers.SGD(0.0), loss=loss)  # a zero rate: weights stay put
    logits = model.predict(x, verbose=0)
    shifted = logits - logits.max(axis=1, keepdims=True)
    per_sample = np.log(np.exp(shifted).sum(axis=1)) - shifted[np.arange(32), y]

    weights = np.linspace(0.0, 2.0, 32).astype("float32")
    got = model.evaluate(x, y, sample_weight=weights, batch_size=32, verbose=0)
    assert got == pytest.approx(np.mean(per_sample * weights), rel=1e-5)  # Keras: sum(w * l) / batch size
    assert model.evaluate(x, y, batch_size=32, verbose=0) == pytest.approx(per_sample.mean(), rel=1e-5)

    class_weight = {0: 0.5, 1: 2.0, 2: 0.0}
    history = model.fit(x, y, batch_size=32, class_weight=class_weight, shuffle=False, verbose=0)
    mapped = np.array([class_weight[c] for c in y], "float32")
    assert history.history["loss"][0] == pytest.approx(np.mean(per_sample * mapped), rel=1e-5)
    history = model.fit(x, y, batch_size=32, sample_weight=weights, shuffle=False, verbose=0)
    assert history.history["loss"][0] == pytest.approx(np.mean(per_sample * weights), rel=1e-5)


def test_steps_per_epoch_with_a_generator():
    x, y = _regression()
    served = []

    def forever():
        while True:
            index = len(served) % 4
            served.append(index)
            yield x[index * 16 : (index + 1) * 16], y[index * 16 : (index + 1) * 16]

    model = _mlp("jax")
    model.compile(optimizer="adam", loss="mse")
    history = model.fit(forever(), steps_per_epoch=3, epochs=2, shuffle=False, verbose=0)
    assert len(history.history["loss"]) == 2
    assert int(model.optimizer.iterations.numpy()) == 6
    assert len(served) == 6


@pytest.mark.parametrize("backend", BACKENDS)
def test_train_test_predict_on_batch(backend):
    x, y = _classification(n=16)
    model = _mlp(backend, outputs=3)
    uncompiled = model.predict_on_batch(x)  # no compile() needed to predict
    np.testing.assert_allclose(model.predict(x, verbose=0), uncompiled, atol=1e-6)
    model.compile(optimizer="adam", loss=kbridge.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])  # fmt: skip
    first = model.train_on_batch(x, y)
    assert isinstance(first, list) and len(first) == 2
    logs = model.train_on_batch(x, y, return_dict=True)
    assert set(logs) == {"loss", "accuracy"}
    assert int(model.optimizer.iterations.numpy()) == 2
    tested = model.test_on_batch(x, y, return_dict=True)
    assert tested["loss"] == pytest.approx(model.evaluate(x, y, batch_size=16, verbose=0, return_dict=True)["loss"])
    assert model.test_on_batch(x, y)[0] == pytest.approx(tested["loss"])
    predicted = model.predict_on_batch(x)
    assert isinstance(predicted, np.ndarray) and predicted.shape == (16, 3)
    np.testing.assert_allclose(predicted, model.predict(x, verbose=0), atol=1e-6)
    weighted = model.train_on_batch(x, y, class_weight={0: 1.0, 1: 1.0, 2: 1.0}, return_dict=True)
    assert set(weighted) == {"loss", "accuracy"}


@pytest.mark.parametrize("backend", BACKENDS)
def test_run_eagerly_gives_the_compiled_weights(backend):
    x, y = _regression(n=32)
    start = _start()
    results = []
    for eager in (False, True):
        model = _mlp(backend, start=start)
        model.compile(optimizer=kbridge.optimizers.Adam(0.01), loss="mse", metrics=["mae"], run_eagerly=eager)
        history = model.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
        results.append((model.get_weights(), history.history["mae"]))
    _assert_weights_close(results[1][0], results[0][0])
    np.testing.assert_allclose(results[1][1], results[0][1], rtol=1e-5)


# -- data sources on a JAX model ----------------------------------------------------------------


class _Batches(kbridge.utils.PyDataset):
    def __init__(self, x, y, batch_size):
        super().__init__()
        self.x, self.y, self.batch_size = x, y, batch_size

    def __len__(self):
        return len(self.x) // self.batch_size

    def __getitem__(self, index):
        chunk = slice(index * self.batch_size, (index + 1) * self.batch_size)
        return self.x[chunk], self.y[chunk]


def _tf_dataset(x, y):
    tf = pytest.importorskip("tensorflow")
    return tf.data.Dataset.from_tensor_slices((x, y)).batch(16)


def _torch_loader(x, y):
    torch = pytest.importorskip("torch")
    dataset = torch.utils.data.TensorDataset(torch.from_numpy(x), torch.from_numpy(y))
    return torch.utils.data.DataLoader(dataset, batch_size=16, shuffle=False)


@pytest.mark.parametrize("source", ["py_dataset", "tf_data", "torch_loader"])
def test_data_sources_train_a_jax_model_like_arrays(source):
    x, y = _regression()
    data = {"py_dataset": lambda: _Batches(x, y, 16), "tf_data": lambda: _tf_dataset(x, y),
            "torch_loader": lambda: _torch_loader(x, y)}[source]()  # fmt: skip
    start = _start()
    model = _mlp("jax", start=start)
    model.compile(optimizer=kbridge.optimizers.Adam(0.01), loss="mse")
    history = model.fit(data, epochs=3, verbose=0, shuffle=False)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert int(model.optimizer.iterations.numpy()) == 12
    reference = _mlp("jax", start=start)
    reference.compile(optimizer=kbridge.optimizers.Adam(0.01), loss="mse")
    reference.fit(x, y, batch_size=16, epochs=3, shuffle=False, verbose=0)
    _assert_weights_close(model.get_weights(), reference.get_weights())
    assert model.evaluate(data, verbose=0) == pytest.approx(reference.evaluate(x, y, batch_size=16, verbose=0))


# -- several outputs ----------------------------------------------------------------------------


@pytest.mark.parametrize("backend", BACKENDS)
def test_dict_outputs_losses_weights_and_metrics(backend):
    x, y = _regression(n=32)
    kbridge.utils.set_random_seed(0)
    with kbridge.backend.use(backend):
        inputs = kbridge.Input((4,), name="features")
        hidden = layers.Dense(8, activation="relu")(inputs)
        outputs = {"a": layers.Dense(1, name="a")(hidden), "b": layers.Dense(1, name="b")(hidden)}
        model = kbridge.Model(inputs, outputs)
    model.compile(optimizer=kbridge.optimizers.SGD(0.01), loss={"a": "mse", "b": "mae"}, loss_weights={"a": 1.0, "b": 0.5},
                  metrics={"a": ["mae"], "b": ["mse"]}, weighted_metrics={"b": ["mae"]})  # fmt: skip
    targets = {"a": y, "b": 2 * y}
    logs = model.evaluate(x, targets, batch_size=32, verbose=0, return_dict=True)
    predicted = model.predict(x, verbose=0)
    mse_a = np.mean((predicted["a"] - y) ** 2)
    mae_b = np.mean(np.abs(predicted["b"] - 2 * y))
    assert logs["loss"] == pytest.approx(mse_a + 0.5 * mae_b, rel=1e-5)
    assert logs["a_mae"] == pytest.approx(np.mean(np.abs(predicted["a"] - y)), rel=1e-5)
    assert logs["b_mse"] == pytest.approx(np.mean((predicted["b"] - 2 * y) ** 2), rel=1e-5)
    assert logs["b_mae"] == pytest.approx(mae_b, rel=1e-5)
    # Per-output sample weights, by output name: the loss and the weighted metric use them.
    weights = {"a": np.ones(32, "float32"), "b": np.linspace(0.0, 1.0, 32).astype("float32")}
    logs = model.evaluate(x, targets, sample_weight=weights, batch_size=32, verbose=0, return_dict=True)
    errors_b = np.abs(predicted["b"] - 2 * y)[:, 0]
    assert logs["loss"] == pytest.approx(mse_a + 0.5 * np.mean(weights["b"] * errors_b), rel=1e-5)
    assert logs["b_mae"] == pytest.approx(np.sum(weights["b"] * errors_b) / np.sum(weights["b"]), rel=1e-5)
    history = model.fit(x, targets, batch_size=8, epochs=3, verbose=0)
    assert {"loss", "a_mae", "b_mse", "b_mae"} <= set(history.history)
    assert history.history["loss"][-1] < history.history["loss"][0]
