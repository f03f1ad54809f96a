"""`.weights.h5` files move both ways between real Keras 3 and kbridge: the same architecture
predicts the same after loading, the optimizer state lands in the same slots, and `fit` calls
the callback hooks in the same order."""

import numpy as np
import pytest

import kbridge

pytestmark = pytest.mark.keras_parity
keras = pytest.importorskip("keras", reason="Keras 3 is installed only in the keras_parity session")

RNG = np.random.RandomState(0)
X = RNG.randn(16, 12).astype("float32")
Y = RNG.randint(0, 3, 16).astype("int32")


def _mlp(lib):
    L = lib.layers
    return lib.Sequential(
        [
            lib.Input((12,)),
            L.Rescaling(0.5, offset=0.1),
            L.Dense(16, activation="relu"),
            L.BatchNormalization(),
            L.Dropout(0.3, seed=1),
            L.Dense(8, activation="gelu", use_bias=False),
            L.LayerNormalization(),
            L.Dense(3, activation="softmax"),
        ]
    )


def _branches(lib):
    L = lib.layers
    tokens = lib.Input((6,), dtype="int32", name="tokens")
    features = lib.Input((12,), name="features")
    embedded = L.Flatten()(L.Embedding(20, 4)(tokens))
    shared = L.Dense(5, activation="tanh")
    a, b = shared(features), shared(L.Dense(12)(features))
    mixed = L.Concatenate()([L.Add()([a, b]), embedded])
    out = L.EinsumDense("ab,bc->ac", output_shape=3, bias_axes="c")(mixed)
    return lib.Model(inputs=[tokens, features], outputs=L.Activation("softmax")(out))


def _make_subclassed(lib):
    class Tower(lib.Model):
        def __init__(self):
            super().__init__()
            self.stem = lib.layers.Dense(8, activation="relu")
            self.blocks = [lib.layers.Dense(8, activation="tanh"), lib.layers.LayerNormalization(), lib.layers.Dense(8)]
            self.heads = {"logits": lib.layers.Dense(3)}

        def call(self, x):
            x = self.stem(x)
            for block in self.blocks:
                x = block(x)
            return lib.activations.softmax(self.heads["logits"](x))

    model = Tower()
    model(X[:2])
    return model


ARCHITECTURES = {"sequential": _mlp, "functional": _branches, "subclassed": _make_subclassed}


def _inputs(name):
    if name == "functional":
        return [RNG.randint(0, 20, (16, 6)).astype("int32"), X]
    return X


def _keras_model(name):
    model = ARCHITECTURES[name](keras)
    model.compile(keras.optimizers.Adam(0.01), "sparse_categorical_crossentropy")
    model.optimizer.build(model.trainable_variables)
    return model


def _kbridge_model(name, backend):
    with kbridge.backend.use(backend):
        model = ARCHITECTURES[name](kbridge)
    model.compile(kbridge.optimizers.Adam(0.01), "sparse_categorical_crossentropy")
    model.optimizer.build(model.trainable_variables)
    return model


def _same_optimizer_state(kb, ks):
    assert len(kb.optimizer.variables) == len(ks.optimizer.variables)
    for a, b in zip(kb.optimizer.variables, ks.optimizer.variables):
        np.testing.assert_allclose(np.asarray(a), keras.ops.convert_to_numpy(b), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("name", list(ARCHITECTURES))
@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_keras_file_loads_into_kbridge(tmp_path, name, backend):
    x = _inputs(name)
    ks = _keras_model(name)
    ks.fit(x, Y, batch_size=8, epochs=2, verbose=0)  # trained weights, statistics and optimizer slots
    ks.save_weights(tmp_path / "keras.weights.h5")
    kb = _kbridge_model(name, backend)
    kb.load_weights(tmp_path / "keras.weights.h5")
    np.testing.assert_allclose(
        kbridge.ops.convert_to_numpy(kb(x, training=False)), keras.ops.convert_to_numpy(ks(x, training=False)),
        rtol=1e-5, atol=1e-6,
    )  # fmt: skip
    assert int(kb.optimizer.iterations) == 4
    _same_optimizer_state(kb, ks)


@pytest.mark.parametrize("name", list(ARCHITECTURES))
def test_kbridge_file_loads_into_keras(tmp_path, name):
    x = _inputs(name)
    kb = _kbridge_model(name, "torch")
    kb.fit(x, Y, batch_size=8, epochs=2, verbose=0)
    kb.save_weights(tmp_path / "kbridge.weights.h5")
    ks = _keras_model(name)
    ks.load_weights(tmp_path / "kbridge.weights.h5")
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(ks(x, training=False)), kbridge.ops.convert_to_numpy(kb(x, training=False)),
        rtol=1e-5, atol=1e-6,
    )  # fmt: skip
    _same_optimizer_state(kb, ks)


def test_a_keras_archive_gives_its_weights(tmp_path):
    ks = _keras_model("sequential")
    ks.save(tmp_path / "model.keras")
    kb = _kbridge_model("sequential", "jax")
    kb.load_weights(tmp_path / "model.keras")
    np.testing.assert_allclose(
        kbridge.ops.convert_to_numpy(kb(X)), keras.ops.convert_to_numpy(ks(X)), rtol=1e-5, atol=1e-6
    )


def _record_hooks(lib):
    calls = []

    class Recorder(lib.callbacks.Callback):
        pass

    for hook in ("on_train_begin", "on_train_end", "on_test_begin", "on_test_end"):
        setattr(Recorder, hook, lambda self, logs=None, _h=hook: calls.append((_h,)))
    for hook in ("on_epoch_begin", "on_epoch_end", "on_train_batch_begin", "on_train_batch_end",
                 "on_test_batch_begin", "on_test_batch_end", "on_batch_begin", "on_batch_end"):  # fmt: skip
        setattr(Recorder, hook, lambda self, index, logs=None, _h=hook: calls.append((_h, index)))
    return calls, Recorder()


def test_fit_calls_hooks_in_the_same_order_as_keras():
    x, y = X[:12], X[:12, :2]
    orders = []
    for lib, backend in ((keras, None), (kbridge, "torch")):
        calls, recorder = _record_hooks(lib)
        if backend:
            with kbridge.backend.use(backend):
                model = lib.Sequential([lib.Input((12,)), lib.layers.Dense(2)])
        else:
            model = lib.Sequential([lib.Input((12,)), lib.layers.Dense(2)])
        model.compile("sgd", "mse")
        model.fit(x, y, batch_size=4, epochs=2, validation_data=(x[:4], y[:4]), callbacks=[recorder], verbose=0)
        orders.append(calls)
    assert orders[1] == orders[0] and len(orders[0]) == 2 + 2 * (2 + 2 * 3 + 4)
