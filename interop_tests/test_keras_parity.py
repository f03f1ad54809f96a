"""Parity with real Keras 3: the same architectures, the same weights, the same outputs and config keys.

Keras is a test reference only (installed by `nox -s keras_parity`); these tests are
marked `keras_parity` and are deselected from the plain `tests` session.
"""

import numpy as np
import pytest

import kbridge

pytestmark = pytest.mark.keras_parity
keras = pytest.importorskip("keras", reason="Keras 3 is installed only in the keras_parity session")

BACKENDS = ["numpy", "jax", "torch", "tensorflow"]


def _mlp(lib):
    L = lib.layers
    return lib.Sequential(
        [
            lib.Input((12,)),
            L.Rescaling(0.5, offset=0.1),
            L.Dense(16, activation="relu", kernel_initializer="he_normal"),
            L.BatchNormalization(),
            L.Dropout(0.3, seed=1),
            L.Dense(8, activation="gelu", use_bias=False),
            L.LayerNormalization(),
            L.Dense(3, activation="softmax"),
        ]
    )


def _multi_io(lib):
    L = lib.layers
    tokens = lib.Input((6,), dtype="int32", name="tokens")
    features = lib.Input((4, 5), name="features")
    embedded = L.Embedding(20, 5)(tokens)
    merged = L.Concatenate(axis=1)([embedded, features])
    flat = L.Flatten()(merged)
    shared = L.Dense(7, activation="tanh")
    a = shared(flat)
    b = shared(L.Dense(50)(flat))
    summed = L.Add()([a, b])
    product = L.Multiply()([a, b])
    diff = L.Subtract()([summed, product])
    stats = L.Average()([L.Maximum()([a, b]), L.Minimum()([a, b])])
    dotted = L.Dot(axes=1, normalize=True)([diff, stats])
    repeated = L.RepeatVector(3)(diff)
    permuted = L.Permute((2, 1))(repeated)
    reshaped = L.Reshape((21,))(permuted)
    einsum = L.EinsumDense("ab,bc->ac", output_shape=4, bias_axes="c")(reshaped)
    out_a = L.Activation("sigmoid", name="out_a")(einsum)
    out_b = L.Identity(name="out_b")(dotted)
    return lib.Model(inputs=[tokens, features], outputs=[out_a, out_b])


def _inputs(name, rng):
    if name == "_mlp":
        return [rng.randn(5, 12).astype("float32")]
    return [rng.randint(0, 20, size=(5, 6)).astype("int32"), rng.randn(5, 4, 5).astype("float32")]


def _as_list(outputs, convert):
    return [np.asarray(convert(o)) for o in (outputs if isinstance(outputs, (list, tuple)) else [outputs])]


@pytest.mark.parametrize("builder", [_mlp, _multi_io], ids=["sequential_mlp", "functional_multi_io"])
@pytest.mark.parametrize("backend", BACKENDS)
def test_same_weights_same_outputs(builder, backend):
    rng = np.random.RandomState(0)
    reference = builder(keras)
    # Non-trivial BatchNormalization statistics, so inference mode is really tested.
    weights = [w + rng.uniform(0.1, 0.5, size=w.shape).astype(w.dtype) for w in reference.get_weights()]
    reference.set_weights(weights)
    with kbridge.backend.use(backend):
        model = builder(kbridge)
    assert [w.shape for w in model.get_weights()] == [w.shape for w in weights]
    model.set_weights(weights)
    inputs = _inputs(builder.__name__, rng)
    expected = _as_list(reference.predict(inputs if len(inputs) > 1 else inputs[0], verbose=0), np.asarray)
    received = _as_list(model(inputs if len(inputs) > 1 else inputs[0]), kbridge.ops.convert_to_numpy)
    assert len(expected) == len(received)
    for e, r in zip(expected, received):
        np.testing.assert_allclose(r, e, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("builder", [_mlp, _multi_io], ids=["sequential_mlp", "functional_multi_io"])
def test_layer_configs_have_keras_keys(builder):
    reference = builder(keras)
    with kbridge.backend.use("numpy"):
        model = builder(kbridge)
    theirs = [(type(layer).__name__, sorted(layer.get_config())) for layer in reference.layers]
    ours = [(type(layer).__name__, sorted(layer.get_config())) for layer in model.layers]
    assert ours == theirs


def test_model_config_has_keras_keys():
    reference = _multi_io(keras)
    with kbridge.backend.use("numpy"):
        model = _multi_io(kbridge)
    assert sorted(model.get_config()) == sorted(reference.get_config())
    ours = [sorted(entry) for entry in model.get_config()["layers"]]
    theirs = [sorted(entry) for entry in reference.get_config()["layers"]]
    assert ours == theirs


@pytest.mark.parametrize("name", ["relu", "gelu", "silu", "selu", "elu", "softplus", "softsign", "hard_sigmoid",
                                  "mish", "log_softmax", "softmax", "tanh", "sigmoid", "exponential", "linear",
                                  "relu6", "leaky_relu", "hard_silu", "celu", "glu", "sparse_plus", "squareplus"])  # fmt: skip
def test_activations_match_keras(name):
    x = np.random.RandomState(1).randn(3, 8).astype("float32")
    expected = keras.ops.convert_to_numpy(keras.activations.get(name)(x))
    with kbridge.backend.use("numpy"):
        received = kbridge.ops.convert_to_numpy(kbridge.activations.get(name)(x))
    np.testing.assert_allclose(received, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ["glorot_uniform", "glorot_normal", "he_uniform", "he_normal", "lecun_normal",
                                  "lecun_uniform", "zeros", "ones", "random_normal", "random_uniform",
                                  "truncated_normal", "orthogonal", "variance_scaling"])  # fmt: skip
def test_initializer_configs_and_statistics_match_keras(name):
    # Not listed: "constant" (Keras 3.15's get("constant") raises KeyError) and "identity"
    # (see test_identity_initializer_keeps_gain).
    theirs = keras.initializers.get(name)
    ours = kbridge.initializers.get(name)
    assert sorted(ours.get_config()) == sorted(theirs.get_config())
    shape = (64, 48)
    expected = keras.ops.convert_to_numpy(theirs(shape))
    with kbridge.backend.use("numpy"):
        received = kbridge.ops.convert_to_numpy(ours(shape))
    assert received.shape == expected.shape
    # Different generators: compare the distribution, not the draws.
    np.testing.assert_allclose(received.std(), expected.std(), rtol=0.1, atol=1e-6)
    np.testing.assert_allclose(received.mean(), expected.mean(), atol=0.05 + 0.1 * expected.std())


def test_identity_initializer_keeps_gain():
    """Documented deviation: Keras 3.15 drops `gain` from Identity's config, so a reload loses it."""
    theirs = keras.initializers.Identity(gain=2.0)
    ours = kbridge.initializers.Identity(gain=2.0)
    assert set(theirs.get_config()) <= set(ours.get_config())
    assert kbridge.initializers.Identity.from_config(ours.get_config()).gain == 2.0
    with kbridge.backend.use("numpy"):
        np.testing.assert_array_equal(kbridge.ops.convert_to_numpy(ours((3, 3))), keras.ops.convert_to_numpy(theirs((3, 3))))
