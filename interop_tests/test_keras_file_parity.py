"""`.keras` archives move both ways between real Keras 3 and kbridge: a model built and saved in
Keras loads with `kbridge.models.load_model` and predicts the same on every backend, and a model
saved by kbridge loads with `keras.saving.load_model` and predicts the same. Covers Sequential,
Functional (multi-input, shared layer), a registered subclassed model, compiled models (optimizer
state read both ways) and a catalogue of layers taken from the layer parity files."""

import json
import zipfile
import numpy as np
import pytest

import kbridge

pytestmark = pytest.mark.keras_parity
keras = pytest.importorskip("keras", reason="Keras 3 is installed only in the keras_parity session")

from test_keras_parity_conv_pool import CASES as CONV_POOL_CASES  # noqa: E402
from test_keras_parity_norm_reg import CASES as NORM_REG_CASES  # noqa: E402
from test_keras_parity_rnn import CASES as RNN_CASES  # noqa: E402
from test_keras_parity_rnn import _make as _make_recurrent  # noqa: E402
from test_weights_keras_parity import _mlp  # noqa: E402  (the Sequential architecture)

BACKENDS = ["numpy", "jax", "torch", "tensorflow"]
RNG = np.random.RandomState(0)
X = RNG.randn(6, 12).astype("float32")
TOKENS = RNG.randint(0, 20, (6, 5)).astype("int32")
Y = RNG.randint(0, 3, 6).astype("int32")


def _np(x):
    if isinstance(x, (list, tuple)):
        return [_np(i) for i in x]
    return np.asarray(keras.ops.convert_to_numpy(x)) if not isinstance(x, np.ndarray) else x


def _kb_np(x):
    if isinstance(x, (list, tuple)):
        return [_kb_np(i) for i in x]
    return np.asarray(kbridge.ops.convert_to_numpy(x))


def _assert_close(ours, theirs, tol=1e-5):
    ours = ours if isinstance(ours, list) else [ours]
    theirs = theirs if isinstance(theirs, list) else [theirs]
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        assert a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol)


# -- architectures ---------------------------------------------------------------------------


def _functional(lib):
    L = lib.layers
    tokens = lib.Input((5,), dtype="int32", name="tokens")
    features = lib.Input((12,), name="features")
    embedded = L.Flatten()(L.Embedding(20, 4)(tokens))
    shared = L.Dense(5, activation="tanh")
    a, b = shared(features), shared(L.Dense(12)(features))
    mixed = L.Concatenate()([L.Add()([a, b]), L.Multiply()([a, b]), embedded])
    out = L.EinsumDense("ab,bc->ac", output_shape=3, bias_axes="c")(mixed)
    return lib.Model(inputs=[tokens, features], outputs=L.Activation("softmax")(out))


def _tower_class(lib):
    class ParityTower(lib.Model):
        def __init__(self, units=6, **kwargs):
            super().__init__(**kwargs)
            self.units = units
            self.stem = lib.layers.Dense(units, activation="relu")
            self.blocks = [lib.layers.Dense(units, activation="tanh"), lib.layers.LayerNormalization()]
            self.head = lib.layers.Dense(3)

        def call(self, x):
            x = self.stem(x)
            for block in self.blocks:
                x = block(x)
            return lib.activations.softmax(self.head(x))

        def get_config(self):
            return {**super().get_config(), "units": self.units}

    return lib.saving.register_keras_serializable(package="keras_file_parity")(ParityTower)


TOWERS = {keras: _tower_class(keras), kbridge: _tower_class(kbridge)}


def _subclassed(lib):
    model = TOWERS[lib](units=6)
    model(X[:2])
    return model


ARCHITECTURES = {"sequential": _mlp, "functional": _functional, "subclassed": _subclassed}


def _inputs(name):
    return [TOKENS, X] if name == "functional" else X


def _kbridge_model(build, backend, seed=3):
    kbridge.utils.set_random_seed(seed)
    with kbridge.backend.use(backend):
        return build(kbridge)


def _load_kbridge(path, backend, **kwargs):
    with kbridge.backend.use(backend):
        return kbridge.models.load_model(path, **kwargs)


@pytest.mark.parametrize("name", list(ARCHITECTURES))
def test_keras_archive_loads_in_kbridge_on_every_backend(tmp_path, name):
    keras.utils.set_random_seed(1)
    theirs = ARCHITECTURES[name](keras)
    x = _inputs(name)
    theirs.save(tmp_path / "keras.keras")
    expected = _np(theirs(x, training=False))
    for backend in BACKENDS:
        ours = _load_kbridge(tmp_path / "keras.keras", backend)
        assert type(ours).__name__ == type(theirs).__name__
        assert [tuple(v.shape) for v in ours.weights] == [tuple(v.shape) for v in theirs.weights]
        _assert_close(_kb_np(ours(x, training=False)), expected)


@pytest.mark.parametrize("name", list(ARCHITECTURES))
@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_kbridge_archive_loads_in_keras(tmp_path, name, backend):
    ours = _kbridge_model(ARCHITECTURES[name], backend)
    x = _inputs(name)
    ours.save(tmp_path / "kbridge.keras")
    theirs = keras.saving.load_model(tmp_path / "kbridge.keras")
    assert type(theirs).__name__ == type(ours).__name__
    _assert_close(_np(theirs(x, training=False)), _kb_np(ours(x, training=False)))


# -- compiled models: the optimizer state crosses both ways ----------------------------------


def _same_optimizer_state(ours, theirs):
    assert len(ours.optimizer.variables) == len(theirs.optimizer.variables)
    for a, b in zip(ours.optimizer.variables, theirs.optimizer.variables):
        np.testing.assert_allclose(np.asarray(a.numpy()), _np(b), rtol=1e-6, atol=1e-7)


def _deterministic(lib):
    """`_mlp` without Dropout: a training step draws no random numbers."""
    L = lib.layers
    return lib.Sequential(
        [lib.Input((12,)), L.Dense(8, activation="relu"), L.BatchNormalization(), L.LayerNormalization(),
         L.Dense(3, activation="softmax")]
    )  # fmt: skip


@pytest.mark.parametrize("backend", ["jax", "torch", "tensorflow"])
def test_compiled_keras_archive_resumes_in_kbridge(tmp_path, backend):
    keras.utils.set_random_seed(1)
    theirs = _deterministic(keras)
    theirs.compile(keras.optimizers.Adam(0.01), "sparse_categorical_crossentropy", metrics=["accuracy"])
    theirs.fit(X, Y, batch_size=3, epochs=1, shuffle=False, verbose=0)
    theirs.save(tmp_path / "keras.keras")
    ours = _load_kbridge(tmp_path / "keras.keras", backend)
    config = ours.get_compile_config()
    assert config["optimizer"]["class_name"] == "Adam" and config["loss"] == "sparse_categorical_crossentropy"
    assert config["metrics"] == ["accuracy"]
    assert int(ours.optimizer.iterations) == 2
    _same_optimizer_state(ours, theirs)
    _assert_close(_kb_np(ours(X)), _np(theirs(X)))
    # One more epoch on each side lands on the same weights.
    theirs.fit(X, Y, batch_size=3, epochs=1, shuffle=False, verbose=0)
    ours.fit(X, Y, batch_size=3, epochs=1, shuffle=False, verbose=0)
    for a, b in zip(ours.weights, theirs.weights):
        np.testing.assert_allclose(np.asarray(a.numpy()), _np(b), rtol=1e-4, atol=1e-5)


def test_compiled_kbridge_archive_loads_in_keras_with_its_optimizer_state(tmp_path):
    ours = _kbridge_model(_functional, "torch")
    ours.compile(kbridge.optimizers.Adam(0.01), "sparse_categorical_crossentropy", metrics=["accuracy"])
    ours.fit([TOKENS, X], Y, batch_size=3, epochs=2, shuffle=False, verbose=0)
    ours.save(tmp_path / "kbridge.keras")
    theirs = keras.saving.load_model(tmp_path / "kbridge.keras")
    assert theirs.compiled and isinstance(theirs.optimizer, keras.optimizers.Adam)
    assert int(_np(theirs.optimizer.iterations)) == 4
    _same_optimizer_state(ours, theirs)
    _assert_close(_np(theirs([TOKENS, X])), _kb_np(ours([TOKENS, X])))


# -- a catalogue of layers -------------------------------------------------------------------

# (id, builder(lib) -> layer, input shape without batch, input dtype)
EXTRA_CASES = [
    ("Dense", lambda lib: lib.layers.Dense(4, activation="relu"), (5,), "float32"),
    ("EinsumDense", lambda lib: lib.layers.EinsumDense("abc,cd->abd", (3, 2), bias_axes="d"), (3, 4), "float32"),
    ("Embedding", lambda lib: lib.layers.Embedding(11, 3), (4,), "int32"),
    ("BatchNormalization", lambda lib: lib.layers.BatchNormalization(momentum=0.5), (4,), "float32"),
    ("LayerNormalization", lambda lib: lib.layers.LayerNormalization(epsilon=1e-4, center=False), (3, 4), "float32"),
    ("Dropout", lambda lib: lib.layers.Dropout(0.4, seed=2), (5,), "float32"),
    ("Reshape", lambda lib: lib.layers.Reshape((2, 3)), (6,), "float32"),
    ("Permute", lambda lib: lib.layers.Permute((2, 1)), (3, 4), "float32"),
    ("Flatten", lambda lib: lib.layers.Flatten(), (3, 4), "float32"),
    ("RepeatVector", lambda lib: lib.layers.RepeatVector(3), (4,), "float32"),
    ("Normalization", lambda lib: lib.layers.Normalization(mean=[0.5, 1.0, -1.0], variance=[2.0, 0.5, 1.0]), (3,),
     "float32"),
    ("Discretization", lambda lib: lib.layers.Discretization(bin_boundaries=[0.0, 1.0]), (3,), "float32"),
    ("Rescaling", lambda lib: lib.layers.Rescaling(2.0, offset=-1.0), (3,), "float32"),
    ("Normalization-adapted", lambda lib: _adapted(lib.layers.Normalization(axis=-1)), (3,), "float32"),
    ("MultiHeadAttention", lambda lib: _self_attention(lib.layers.MultiHeadAttention(2, 3)), (4, 5), "float32"),
    ("Attention", lambda lib: _pair_merge(lib, lib.layers.Attention(use_scale=True)), (4, 5), "float32"),
    ("AdditiveAttention", lambda lib: _pair_merge(lib, lib.layers.AdditiveAttention()), (4, 5), "float32"),
    ("Add", lambda lib: _pair_merge(lib, lib.layers.Add()), (4,), "float32"),
    ("Subtract", lambda lib: _pair_merge(lib, lib.layers.Subtract()), (4,), "float32"),
    ("Average", lambda lib: _pair_merge(lib, lib.layers.Average()), (4,), "float32"),
    ("Maximum", lambda lib: _pair_merge(lib, lib.layers.Maximum()), (4,), "float32"),
    ("Concatenate", lambda lib: _pair_merge(lib, lib.layers.Concatenate(axis=1)), (2, 3), "float32"),
    ("Dot", lambda lib: _pair_merge(lib, lib.layers.Dot(axes=-1, normalize=True)), (4,), "float32"),
    ("Multiply", lambda lib: _pair_merge(lib, lib.layers.Multiply()), (4,), "float32"),
    ("Minimum", lambda lib: _pair_merge(lib, lib.layers.Minimum()), (4,), "float32"),
    ("Activation", lambda lib: lib.layers.Activation("tanh"), (4,), "float32"),
    ("Identity", lambda lib: lib.layers.Identity(), (4,), "float32"),
    ("SpectralNormalization", lambda lib: lib.layers.SpectralNormalization(lib.layers.Dense(3), power_iterations=2),
     (4,), "float32"),
    ("CategoryEncoding", lambda lib: lib.layers.CategoryEncoding(num_tokens=10, output_mode="count"), (4,), "int32"),
    ("Hashing", lambda lib: lib.layers.Hashing(num_bins=7, salt=3), (4,), "int32"),
    ("Resizing", lambda lib: lib.layers.Resizing(4, 5, interpolation="bilinear"), (6, 6, 2), "float32"),
    ("CenterCrop", lambda lib: lib.layers.CenterCrop(4, 3), (6, 5, 2), "float32"),
    ("RandomFlip", lambda lib: lib.layers.RandomFlip("horizontal", seed=1), (4, 4, 2), "float32"),
    ("RandomRotation", lambda lib: lib.layers.RandomRotation(0.1, seed=1), (4, 4, 2), "float32"),
    ("RandomZoom", lambda lib: lib.layers.RandomZoom(0.2, seed=1), (4, 4, 2), "float32"),
    ("RandomTranslation", lambda lib: lib.layers.RandomTranslation(0.1, 0.2, seed=1), (4, 4, 2), "float32"),
    ("RandomContrast", lambda lib: lib.layers.RandomContrast(0.3, seed=1), (4, 4, 2), "float32"),
    ("ConvLSTM1D", lambda lib: lib.layers.ConvLSTM1D(2, 3, padding="same", return_sequences=True), (3, 5, 2),
     "float32"),
    ("ConvLSTM2D", lambda lib: lib.layers.ConvLSTM2D(2, 2), (2, 4, 4, 1), "float32"),
    ("ConvLSTM3D", lambda lib: lib.layers.ConvLSTM3D(1, 2, go_backwards=True), (2, 3, 3, 3, 1), "float32"),
    ("StackedRNNCells", lambda lib: lib.layers.RNN(lib.layers.StackedRNNCells(
        [lib.layers.SimpleRNNCell(3), lib.layers.GRUCell(2), lib.layers.LSTMCell(2)])), (3, 4), "float32"),
]  # fmt: skip


def _adapted(layer):
    layer.adapt(np.random.RandomState(5).randn(20, 3).astype("float32") * 3.0 + 1.0)
    return layer


def _self_attention(layer):
    return lambda t: layer(t, t)


def _pair_merge(lib, layer):
    # The second operand goes through a Dense layer, so the merge sees two different tensors.
    return lambda t: layer([t, lib.layers.Dense(t.shape[-1], activation="tanh")(t)])


def _from_case(kind, case):
    if kind == "extra":
        _, build, shape, dtype = case
        return build, shape, dtype
    name, args, kwargs, shape = case
    if kind == "rnn":
        return (lambda lib: _make_recurrent(lib, name, args, kwargs)), shape[1:], "float32"
    return (lambda lib: getattr(lib.layers, name)(*args, **kwargs)), shape[1:], "float32"


CATALOGUE = (
    [("extra", c, c[0]) for c in EXTRA_CASES]
    + [("conv_pool", c, c[0]) for c in CONV_POOL_CASES]
    + [("norm_reg", c, c[0]) for c in NORM_REG_CASES]
    + [("rnn", c, c[0]) for c in RNN_CASES]
)
CATALOGUE_IDS = [f"{kind}-{name}-{i}" for i, (kind, _, name) in enumerate(CATALOGUE)]


def _single_layer_model(lib, build, shape, dtype):
    inputs = lib.Input(shape, dtype=dtype)
    return lib.Model(inputs, build(lib)(inputs))


def _sample(shape, dtype, seed):
    rng = np.random.RandomState(seed)
    if dtype == "int32":
        return rng.randint(0, 10, (2, *shape)).astype("int32")
    return rng.randn(2, *shape).astype("float32")


@pytest.mark.parametrize("index", range(len(CATALOGUE)), ids=CATALOGUE_IDS)
def test_layer_catalogue_moves_both_ways(tmp_path, index):
    kind, case, _ = CATALOGUE[index]
    build, shape, dtype = _from_case(kind, case)
    x = _sample(shape, dtype, index)
    backend = ["jax", "torch", "tensorflow"][index % 3]  # each trainer backend sees a third of the catalogue

    keras.utils.set_random_seed(index)
    theirs = _single_layer_model(keras, build, shape, dtype)
    theirs.save(tmp_path / "keras.keras")
    expected = _np(theirs(x, training=False))
    for target in ("numpy", backend):
        ours = _load_kbridge(tmp_path / "keras.keras", target)
        _assert_close(_kb_np(ours(x, training=False)), expected)

    mine = _kbridge_model(lambda lib: _single_layer_model(lib, build, shape, dtype), backend, seed=index + 100)
    mine.save(tmp_path / "kbridge.keras")
    reloaded = keras.saving.load_model(tmp_path / "kbridge.keras")
    _assert_close(_np(reloaded(x, training=False)), _kb_np(mine(x, training=False)))


_K = kbridge.ops
# (id, function of a KerasTensor): every op kbridge writes as a Keras 3 operation class.
OPERATOR_CASES = [
    ("multiply", lambda x: x * 0.5), ("add", lambda x: x + 1.0), ("subtract", lambda x: 2.0 - x),
    ("divide", lambda x: x / 4.0), ("floor_divide", lambda x: x // 0.3), ("mod", lambda x: x % 0.4),
    ("power", lambda x: x**2.0), ("negative", lambda x: -x), ("getitem", lambda x: x[:, 1:3]),
    ("matmul", lambda x: _K.matmul(x[:, :, None], x[:, None, :])),
    ("maximum", lambda x: _K.maximum(x, 1.0)), ("minimum", lambda x: _K.minimum(x, 1.0)),
    ("greater", lambda x: _K.greater(x, 1.0)), ("less_equal", lambda x: _K.less_equal(x, 1.0)),
    ("not_equal", lambda x: _K.not_equal(x, 1.0)),
    ("logical", lambda x: _K.logical_or(_K.logical_and(_K.greater(x, 0.8), _K.less(x, 1.2)),
                                        _K.logical_not(_K.greater_equal(x, 0.7)))),
] + [(name, lambda x, name=name: getattr(_K, name)(x)) for name in (
    "exp", "log", "sqrt", "square", "tanh", "sin", "cos", "sign", "floor", "ceil", "log1p", "expm1", "reciprocal",
    "absolute", "abs", "relu", "sigmoid", "softplus", "silu",
)]  # fmt: skip


@pytest.mark.parametrize("name,fn", OPERATOR_CASES, ids=[c[0] for c in OPERATOR_CASES])
def test_ops_on_keras_tensors_load_in_keras(tmp_path, name, fn):
    x = np.random.RandomState(5).uniform(0.5, 1.5, (3, 4)).astype("float32")
    with kbridge.backend.use("numpy"):
        inputs = kbridge.Input((4,))
        model = kbridge.Model(inputs, fn(inputs - 0.4 if name in ("sign", "relu", "absolute", "abs") else inputs))
    model.save(tmp_path / "ops.keras")
    with zipfile.ZipFile(tmp_path / "ops.keras") as archive:
        written = json.loads(archive.read("config.json"))["config"]["layers"]
    assert all(layer["class_name"] != "OpLayer" for layer in written), written
    theirs = keras.saving.load_model(tmp_path / "ops.keras")
    np.testing.assert_allclose(_np(theirs(x)), _kb_np(model(x)), rtol=1e-6, atol=1e-6)
    back = _load_kbridge(tmp_path / "ops.keras", "numpy")
    np.testing.assert_allclose(_kb_np(back(x)), _kb_np(model(x)), rtol=1e-6, atol=1e-6)


def test_ops_with_keyword_arguments_stay_kbridge_only(tmp_path):
    # Keras builds such ops with constructor arguments kbridge does not map yet: still saved, read by kbridge.
    with kbridge.backend.use("numpy"):
        inputs = kbridge.Input((4,))
        model = kbridge.Model(inputs, kbridge.layers.Dense(2)(kbridge.ops.concatenate([inputs, inputs], axis=-1)))
    model.save(tmp_path / "concat.keras")
    back = _load_kbridge(tmp_path / "concat.keras", "numpy")
    np.testing.assert_allclose(_kb_np(back(X[:, :4])), _kb_np(model(X[:, :4])), rtol=1e-6)


@pytest.mark.parametrize("backend", ["numpy", "jax", "torch", "tensorflow"])
def test_group_query_attention_archive_loads_both_ways(tmp_path, backend):
    # Keras 3 keeps GQA's projections in `_query_dense` etc. (no public properties, unlike MHA).
    inputs = keras.Input((4, 6))
    theirs = keras.Model(inputs, keras.layers.GroupQueryAttention(2, 4, 2)(inputs, inputs))
    rng = np.random.RandomState(3)
    theirs.set_weights([w + rng.uniform(-0.3, 0.3, w.shape).astype(w.dtype) for w in theirs.get_weights()])
    theirs.save(tmp_path / "gqa.keras")
    x = _sample((4, 6), "float32", 0)
    ours = _load_kbridge(tmp_path / "gqa.keras", backend)
    _assert_close(_kb_np(ours(x)), _np(theirs(x)))
    ours.save(tmp_path / "back.keras")
    _assert_close(_np(keras.saving.load_model(tmp_path / "back.keras")(x)), _np(theirs(x)))


# -- assets: adapted lookup vocabularies (string tensors: kbridge on tensorflow) -------------

from test_keras_file import LOOKUP_INPUTS, _lookup_model, _vocabularies  # noqa: E402


def _plain_vocabulary(vocabulary):
    return [v.decode() if isinstance(v, bytes) else v if isinstance(v, str) else int(v) for v in vocabulary]


def test_keras_lookup_assets_load_in_kbridge(tmp_path):
    theirs = _lookup_model(keras)
    theirs.save(tmp_path / "keras.keras")
    with kbridge.backend.use("tensorflow"):
        ours = kbridge.models.load_model(tmp_path / "keras.keras")
        received = _kb_np(ours(LOOKUP_INPUTS))
    assert _vocabularies(ours) == [_plain_vocabulary(v) for v in _vocabularies(theirs)]
    _assert_close(received, _np(theirs(LOOKUP_INPUTS)), tol=0)


def test_kbridge_lookup_assets_load_in_keras(tmp_path):
    with kbridge.backend.use("tensorflow"):
        ours = _lookup_model(kbridge)
        ours.save(tmp_path / "kbridge.keras")
        expected = _kb_np(ours(LOOKUP_INPUTS))
    theirs = keras.saving.load_model(tmp_path / "kbridge.keras")
    assert [_plain_vocabulary(v) for v in _vocabularies(theirs)] == _vocabularies(ours)
    _assert_close(_np(theirs(LOOKUP_INPUTS)), expected, tol=0)
