"""Activations, initializers, regularizers and constraints on the NumPy backend."""

import math

import numpy as np
import pytest

import kbridge
from kbridge import activations, constraints, initializers, layers, regularizers


@pytest.fixture(autouse=True)
def numpy_backend():
    with kbridge.backend.use("numpy"):
        yield


X = np.linspace(-4.0, 4.0, 33, dtype="float32").reshape(3, 11)
_erf = np.vectorize(math.erf)


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _softplus(x):
    return np.log1p(np.exp(x))


def _softmax(x, axis=-1):
    e = np.exp(x - x.max(axis, keepdims=True))
    return e / e.sum(axis, keepdims=True)


def _sparsemax(x):
    out = np.zeros_like(x)
    for i, row in enumerate(x):
        z = np.sort(row)[::-1]
        cumsum = np.cumsum(z)
        k = np.arange(1, len(z) + 1)
        support = k[1 + k * z > cumsum].max()
        tau = (cumsum[support - 1] - 1) / support
        out[i] = np.maximum(row - tau, 0)
    return out


SELU_ALPHA, SELU_SCALE = 1.6732632423543772, 1.0507009873554805
REFERENCES = {
    "relu": lambda x: np.maximum(x, 0),
    "leaky_relu": lambda x: np.where(x > 0, x, 0.2 * x),
    "relu6": lambda x: np.clip(x, 0, 6),
    "softmax": _softmax,
    "log_softmax": lambda x: np.log(_softmax(x)),
    "elu": lambda x: np.where(x > 0, x, np.expm1(x)),
    "selu": lambda x: SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * np.expm1(x)),
    "celu": lambda x: np.maximum(x, 0) + np.minimum(0, np.expm1(x)),
    "softplus": _softplus,
    "softsign": lambda x: x / (1 + np.abs(x)),
    "soft_shrink": lambda x: np.where(x > 0.5, x - 0.5, np.where(x < -0.5, x + 0.5, 0)),
    "hard_shrink": lambda x: np.where(np.abs(x) > 0.5, x, 0),
    "tanh_shrink": lambda x: x - np.tanh(x),
    "sparse_plus": lambda x: np.where(x <= -1, 0, np.where(x < 1, (x + 1) ** 2 / 4, x)),
    "sparse_sigmoid": lambda x: np.clip((x + 1) / 2, 0, 1),
    "squareplus": lambda x: (x + np.sqrt(x**2 + 4)) / 2,
    "silu": lambda x: x * _sigmoid(x),
    "swish": lambda x: x * _sigmoid(x),
    "gelu": lambda x: 0.5 * x * (1 + _erf(x / np.sqrt(2))),
    "glu": lambda x: x[:, :5] * _sigmoid(x[:, 5:10]),
    "tanh": np.tanh,
    "sigmoid": _sigmoid,
    "exponential": np.exp,
    "hard_sigmoid": lambda x: np.clip(x / 6 + 0.5, 0, 1),
    "hard_silu": lambda x: x * np.clip(x / 6 + 0.5, 0, 1),
    "hard_swish": lambda x: x * np.clip(x / 6 + 0.5, 0, 1),
    "hard_tanh": lambda x: np.clip(x, -1, 1),
    "linear": lambda x: x,
    "mish": lambda x: x * np.tanh(_softplus(x)),
    "log_sigmoid": lambda x: -_softplus(-x),
    "sparsemax": _sparsemax,
}


@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_activation_values(name):
    x = X[:, :10] if name == "glu" else X
    got = activations.get(name)(x)
    np.testing.assert_allclose(got, REFERENCES[name](x.astype("float64")), rtol=1e-5, atol=1e-6)
    assert got.dtype == np.float32


def test_every_keras_activation_name_is_covered():
    assert set(activations.ALL_OBJECTS_DICT) - {"threshold"} == set(REFERENCES)


def test_relu_options_and_threshold_activation():
    relu = activations.relu
    x = np.array([-10.0, -5.0, 0.0, 5.0, 10.0], "float32")
    np.testing.assert_allclose(relu(x, negative_slope=0.5), [-5, -2.5, 0, 5, 10])
    np.testing.assert_allclose(relu(x, max_value=5.0), [0, 0, 0, 5, 5])
    np.testing.assert_allclose(relu(x, threshold=5.0), [0, 0, 0, 0, 10])
    np.testing.assert_allclose(relu(x, negative_slope=0.5, threshold=5.0, max_value=7.0), [-7.5, -5, -2.5, 0, 7])
    np.testing.assert_allclose(activations.threshold(x, 0.0, -1.0), [-1, -1, -1, 5, 10])
    np.testing.assert_allclose(activations.gelu(x[1:4], approximate=True), [-0.0002, 0.0, 4.9998], atol=1e-3)


def test_activation_get_serialize_deserialize():
    assert activations.get(None) is activations.linear
    assert activations.get("swish") is activations.silu
    assert activations.serialize(activations.relu) == "relu"
    assert activations.serialize(activations.swish) == "silu"
    assert activations.deserialize("hard_swish") is activations.hard_silu
    keras_dict = {"module": "keras.activations", "class_name": "function", "config": "tanh", "registered_name": None}
    assert activations.get(keras_dict) is activations.tanh

    def custom(x):
        return x

    config = activations.serialize(custom)
    assert config["class_name"] == "function" and config["config"] == "custom"
    assert activations.deserialize(config, custom_objects={"custom": custom}) is custom
    assert activations.get(custom) is custom
    with pytest.raises(ValueError, match="Valid activation names.*'relu'"):
        activations.get("rleu")
    with pytest.raises(ValueError, match="Could not interpret"):
        activations.get(42)


INITIALIZERS = [
    initializers.Zeros(), initializers.Ones(), initializers.Constant(2.5), initializers.RandomNormal(0.5, 2.0, seed=1),
    initializers.RandomUniform(-2.0, 3.0, seed=1), initializers.TruncatedNormal(stddev=0.3, seed=1),
    initializers.VarianceScaling(2.0, "fan_avg", "uniform", seed=1), initializers.GlorotUniform(seed=1),
    initializers.GlorotNormal(seed=1), initializers.HeUniform(seed=1), initializers.HeNormal(seed=1),
    initializers.LecunUniform(seed=1), initializers.LecunNormal(seed=1), initializers.Orthogonal(gain=1.5, seed=1),
    initializers.Identity(gain=2.0),
]  # fmt: skip


@pytest.mark.parametrize("init", INITIALIZERS, ids=lambda i: type(i).__name__)
def test_initializer_config_round_trip_and_determinism(init):
    config = initializers.serialize(init)
    assert config["module"] == "keras.initializers" and config["class_name"] == type(init).__name__
    clone = initializers.deserialize(config)
    assert type(clone) is type(init) and clone.get_config() == init.get_config()
    a, b = init((40, 30), dtype="float64"), clone((40, 30), dtype="float64")
    assert a.shape == (40, 30) and a.dtype == np.float64
    np.testing.assert_array_equal(a, b)


def test_initializer_statistics():
    fan_in, fan_out = 400, 300
    glorot = initializers.GlorotUniform(seed=3)((fan_in, fan_out))
    limit = np.sqrt(6 / (fan_in + fan_out))
    assert glorot.max() <= limit and glorot.min() >= -limit and glorot.max() > 0.95 * limit
    he = initializers.HeNormal(seed=3)((fan_in, fan_out))
    assert abs(he.std() - np.sqrt(2 / fan_in)) < 0.05 * np.sqrt(2 / fan_in)
    assert np.abs(he).max() <= 2 * np.sqrt(2 / fan_in) / 0.87962566103423978 + 1e-6
    normal = initializers.RandomNormal(1.0, 0.5, seed=0)((200, 200))
    assert abs(normal.mean() - 1.0) < 0.01 and abs(normal.std() - 0.5) < 0.01
    conv = initializers.LecunUniform(seed=0)((3, 3, 8, 16))
    assert np.abs(conv).max() <= np.sqrt(3 / (3 * 3 * 8))
    ortho = initializers.Orthogonal(seed=0)((6, 4))
    np.testing.assert_allclose(ortho.T @ ortho, np.eye(4), atol=1e-5)
    wide = initializers.Orthogonal(seed=0)((3, 5))
    np.testing.assert_allclose(wide @ wide.T, np.eye(3), atol=1e-5)
    np.testing.assert_array_equal(initializers.Identity(gain=3.0)((2, 3)), 3 * np.eye(2, 3))
    np.testing.assert_array_equal(initializers.Constant(7)((2,), dtype="int32"), [7, 7])


def test_unseeded_initializers_differ_between_instances_not_calls():
    kbridge.utils.set_random_seed(11)
    first = initializers.RandomUniform()
    second = initializers.RandomUniform()
    assert not np.array_equal(first((5,)), second((5,)))
    np.testing.assert_array_equal(first((5,)), first((5,)))
    assert first.get_config()["seed"] is None
    kbridge.utils.set_random_seed(11)
    np.testing.assert_array_equal(initializers.RandomUniform()((5,)), first((5,)))


def test_initializer_get_names_aliases_and_errors():
    assert isinstance(initializers.get("glorot_uniform"), initializers.GlorotUniform)
    assert isinstance(initializers.get("GlorotUniform"), initializers.GlorotUniform)
    assert isinstance(initializers.get("normal"), initializers.RandomNormal)
    assert isinstance(initializers.get("IdentityInitializer"), initializers.Identity)
    assert isinstance(initializers.get(initializers.Ones), initializers.Ones)
    assert initializers.get(None) is None
    table = np.arange(6, dtype="float32").reshape(2, 3)
    np.testing.assert_array_equal(initializers.get(table)((2, 3)), table)
    with pytest.raises(ValueError, match="Expected `shape`"):
        initializers.get(table)((3, 2))
    with pytest.raises(ValueError, match=r"Could not interpret initializer identifier: 'he'.*'he_normal'"):
        initializers.get("he")
    with pytest.raises(ValueError, match="scale"):
        initializers.VarianceScaling(scale=0)
    with pytest.raises(ValueError, match="mode"):
        initializers.VarianceScaling(mode="fan")
    with pytest.raises(ValueError, match="2D"):
        initializers.Identity()((2, 2, 2))
    with pytest.raises(ValueError, match="two-dimensional"):
        initializers.Orthogonal()((3,))


def test_initializer_seed_generator_advances():
    init = initializers.RandomNormal(seed=kbridge.random.SeedGenerator(5))
    assert not np.array_equal(init((4,)), init((4,)))


def test_regularizer_values_and_configs():
    w = np.array([[1.0, -2.0], [3.0, 0.5]], "float32")
    np.testing.assert_allclose(regularizers.L1(0.1)(w), 0.65, rtol=1e-6)
    np.testing.assert_allclose(regularizers.L2(0.1)(w), 1.425, rtol=1e-6)
    np.testing.assert_allclose(regularizers.L1L2(0.1, 0.1)(w), 2.075, rtol=1e-6)
    np.testing.assert_allclose(regularizers.L1L2()(w), 0.0)
    rows = w / np.linalg.norm(w, axis=1, keepdims=True)
    # Both (i, j) and (j, i) are summed, then halved and averaged over the one pair.
    expected = 0.01 * 0.5 * 2 * np.abs(rows[0] @ rows[1]) / 1.0
    np.testing.assert_allclose(regularizers.OrthogonalRegularizer()(w), expected, rtol=1e-5)
    cols = w / np.linalg.norm(w, axis=0, keepdims=True)
    np.testing.assert_allclose(
        regularizers.OrthogonalRegularizer(0.2, "columns")(w), 0.2 * np.abs(cols[:, 0] @ cols[:, 1]), rtol=1e-5
    )
    for reg in (regularizers.L1(0.3), regularizers.L2(0.2), regularizers.L1L2(0.1, 0.4),
                regularizers.OrthogonalRegularizer(0.5, "columns")):  # fmt: skip
        config = regularizers.serialize(reg)
        assert config["module"] == "keras.regularizers"
        assert regularizers.deserialize(config).get_config() == reg.get_config()
    assert regularizers.get("l1l2").get_config() == {"l1": 0.0, "l2": 0.0}  # Keras 3 spells it so
    assert isinstance(regularizers.get("L2"), regularizers.L2)
    with pytest.raises(ValueError, match="non-negative"):
        regularizers.L1(-1.0)
    with pytest.raises(ValueError, match="mode"):
        regularizers.OrthogonalRegularizer(mode="diag")
    with pytest.raises(ValueError, match="rank 2"):
        regularizers.OrthogonalRegularizer()(np.ones(3, "float32"))


def test_regularizers_feed_layer_losses():
    dense = layers.Dense(2, kernel_initializer="ones", kernel_regularizer=regularizers.L1(0.5),
                          activity_regularizer="l2")  # fmt: skip
    dense(np.ones((1, 3), "float32"))
    losses = [float(np.asarray(loss)) for loss in dense.losses]
    assert sorted(losses) == pytest.approx(sorted([0.01 * 2 * 9.0, 0.5 * 6.0]))


def test_constraint_values_and_configs():
    w = np.array([[3.0, 0.1], [4.0, -0.2]], "float32")
    norms = np.linalg.norm(w, axis=0)
    np.testing.assert_allclose(constraints.MaxNorm(2.0)(w), w * np.minimum(norms, 2.0) / (norms + 1e-7), rtol=1e-5)
    np.testing.assert_allclose(constraints.UnitNorm()(w), w / (norms + 1e-7), rtol=1e-5)
    np.testing.assert_allclose(constraints.NonNeg()(w), np.maximum(w, 0))
    desired = 0.5 * np.clip(norms, 1.0, 2.0) + 0.5 * norms
    np.testing.assert_allclose(constraints.MinMaxNorm(1.0, 2.0, rate=0.5)(w), w * desired / (norms + 1e-7), rtol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(constraints.UnitNorm(axis=[0, 1])(w)), 1.0, rtol=1e-5)
    for con in (constraints.MaxNorm(3, axis=1), constraints.NonNeg(), constraints.UnitNorm(axis=[0, 1]),
                constraints.MinMaxNorm(0.5, 1.5, 0.3, 1)):  # fmt: skip
        config = constraints.serialize(con)
        assert config["module"] == "keras.constraints"
        assert constraints.deserialize(config).get_config() == con.get_config()
    assert isinstance(constraints.get("max_norm"), constraints.MaxNorm)
    with pytest.raises(ValueError, match="Valid constraint names"):
        constraints.get("maxnorm")
