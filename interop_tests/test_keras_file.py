"""`.keras` archives across backends: round trips (Sequential, Functional, registered subclassed,
compiled), the archive layout, atomic writes, every bad-file error, and `load_model` + `fit`
resuming exactly where the saved run stopped."""

import io
import json
import os
import zipfile

import h5py
import numpy as np
import pytest

import kbridge
from kbridge import layers, ops
from kbridge.saving import serialization_lib
from kbridge.variables import Variable

BACKENDS = ["numpy", "jax", "torch", "tensorflow"]
TRAINERS = ["jax", "torch", "tensorflow"]
RNG = np.random.RandomState(0)
X = RNG.randn(8, 6).astype("float32")
TOKENS = RNG.randint(0, 10, (8, 3)).astype("int32")
Y = RNG.randn(8, 2).astype("float32")


@kbridge.saving.register_keras_serializable(package="test_keras_file")
class Tower(kbridge.Model):
    """A registered subclassed model: sublayers in an attribute, a list and a dict, plus its own weight."""

    def __init__(self, units=4, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.stem = layers.Dense(units)
        self.blocks = [layers.Dense(units, activation="tanh"), layers.LayerNormalization()]
        self.heads = {"main": layers.Dense(2)}
        self.scale = self.add_weight(shape=(2,), initializer="ones", name="scale")

    def call(self, x):
        x = self.stem(x)
        for block in self.blocks:
            x = block(x)
        return ops.multiply(self.heads["main"](x), self.scale)

    def get_config(self):
        return {**super().get_config(), "units": self.units}


def _sequential():
    return kbridge.Sequential(
        [kbridge.Input((6,)), layers.Dense(5, activation="relu"), layers.BatchNormalization(), layers.Dense(2)]
    )


def _functional():
    tokens = kbridge.Input((3,), dtype="int32", name="tokens")
    features = kbridge.Input((6,), name="features")
    embedded = layers.Flatten()(layers.Embedding(10, 2)(tokens))
    shared = layers.Dense(4, activation="tanh")
    mixed = layers.Concatenate()([shared(features), shared(layers.Dense(6)(features)), embedded])
    return kbridge.Model([tokens, features], layers.Dense(2)(mixed))


def _subclassed():
    model = Tower()
    model(X[:2])
    return model


ARCHITECTURES = {"sequential": _sequential, "functional": _functional, "subclassed": _subclassed}


def _inputs(name):
    return [TOKENS, X] if name == "functional" else X


def _build(name, backend, seed=1):
    kbridge.utils.set_random_seed(seed)
    with kbridge.backend.use(backend):
        return ARCHITECTURES[name]()


def _out(model, x):
    return np.asarray(ops.convert_to_numpy(model(x, training=False)))


def _weights(model):
    return [np.asarray(v.numpy()) for v in model.weights]


def _load(path, backend, **kwargs):
    with kbridge.backend.use(backend):
        return kbridge.models.load_model(path, **kwargs)


# -- round trips -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(ARCHITECTURES))
@pytest.mark.parametrize("backend", BACKENDS)
def test_round_trip_predicts_the_same(tmp_path, name, backend):
    model = _build(name, backend)
    x = _inputs(name)
    model.save(tmp_path / "m.keras")
    loaded = _load(tmp_path / "m.keras", backend)
    assert type(loaded) is type(model)
    assert [v.path for v in loaded.weights] == [v.path for v in model.weights]
    for a, b in zip(_weights(loaded), _weights(model)):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(_out(loaded, x), _out(model, x), rtol=0, atol=1e-6)
    assert loaded.weights[0]._backend.NAME == kbridge.backend.registry.get(backend).NAME


def test_a_file_saved_on_one_backend_loads_on_another(tmp_path):
    model = _build("functional", "torch")
    model.save(tmp_path / "m.keras")
    loaded = _load(tmp_path / "m.keras", "jax")
    np.testing.assert_allclose(_out(loaded, _inputs("functional")), _out(model, _inputs("functional")), atol=1e-6)


def test_archive_layout_matches_keras(tmp_path):
    model = _build("sequential", "numpy")
    model.save(tmp_path / "m.keras")
    with zipfile.ZipFile(tmp_path / "m.keras") as archive:
        assert archive.namelist() == ["metadata.json", "config.json", "model.weights.h5"]
        assert {info.compress_type for info in archive.infolist()} == {zipfile.ZIP_STORED}
        metadata = json.loads(archive.read("metadata.json"))
        config = json.loads(archive.read("config.json"))
        weights = h5py.File(io.BytesIO(archive.read("model.weights.h5")), "r")
    assert oct(os.stat(tmp_path / "m.keras").st_mode & 0o777) == oct(0o644)  # not mkstemp's private 0600
    assert metadata["keras_version"].startswith("3.") and "@" in metadata["date_saved"]
    assert list(config)[:4] == ["module", "class_name", "config", "registered_name"]
    assert config["class_name"] == "Sequential" and config["compile_config"] == {}
    assert config["build_config"] == {"input_shape": [None, 6]}
    with weights:
        assert list(weights["layers"]) == ["batch_normalization", "dense", "dense_1"]
        assert weights["layers/dense/vars/0"].shape == (6, 5)


# -- compiled models -------------------------------------------------------------------------


def _compiled(backend, optimizer=None, seed=1):
    model = _build("sequential", backend, seed=seed)
    model.compile(optimizer or kbridge.optimizers.Adam(0.01), "mse", metrics=["mae"])
    return model


@pytest.mark.parametrize("backend", TRAINERS)
def test_compiled_model_comes_back_compiled_with_its_optimizer_state(tmp_path, backend):
    model = _compiled(backend)
    model.fit(X, Y, batch_size=4, epochs=1, shuffle=False, verbose=0)
    model.save(tmp_path / "m.keras")
    loaded = _load(tmp_path / "m.keras", backend)
    assert loaded.get_compile_config() == model.get_compile_config()
    config = loaded.get_compile_config()
    assert list(config) == [
        "optimizer", "loss", "loss_weights", "metrics", "weighted_metrics", "run_eagerly", "steps_per_execution",
        "jit_compile",
    ]  # fmt: skip
    assert config["optimizer"]["class_name"] == "Adam" and config["loss"] == "mse" and config["metrics"] == ["mae"]
    assert int(loaded.optimizer.iterations) == 2
    assert len(loaded.optimizer.variables) == len(model.optimizer.variables)
    for a, b in zip(loaded.optimizer.variables, model.optimizer.variables):
        np.testing.assert_array_equal(np.asarray(a.numpy()), np.asarray(b.numpy()))
    np.testing.assert_allclose(_out(loaded, X), _out(model, X), atol=1e-6)


def test_to_json_carries_the_compile_config_as_keras_does():
    model = _compiled("numpy")
    config = json.loads(model.to_json())
    assert config["compile_config"]["loss"] == "mse" and config["compile_config"]["metrics"] == ["mae"]
    clone = kbridge.models.model_from_json(model.to_json())
    assert clone.get_compile_config() == model.get_compile_config()
    assert json.loads(_build("sequential", "numpy").to_json())["compile_config"] == {}  # as Keras 3 writes it


def test_compile_false_loads_an_uncompiled_model(tmp_path):
    model = _compiled("jax")
    model.fit(X, Y, batch_size=4, epochs=1, verbose=0)
    model.save(tmp_path / "m.keras")
    loaded = _load(tmp_path / "m.keras", "jax", compile=False)
    assert loaded.get_compile_config() == {}
    assert getattr(loaded, "optimizer", None) is None
    np.testing.assert_allclose(_out(loaded, X), _out(model, X), atol=1e-6)


@pytest.mark.parametrize("backend", TRAINERS)
def test_load_model_and_fit_resumes_exactly(tmp_path, backend):
    straight = _compiled(backend)
    straight.fit(X, Y, batch_size=4, epochs=2, shuffle=False, verbose=0)

    first = _compiled(backend)
    first.fit(X, Y, batch_size=4, epochs=1, shuffle=False, verbose=0)
    first.save(tmp_path / "m.keras")
    resumed = _load(tmp_path / "m.keras", backend)
    resumed.fit(X, Y, batch_size=4, epochs=1, shuffle=False, verbose=0)
    assert int(resumed.optimizer.iterations) == int(straight.optimizer.iterations) == 4
    for a, b in zip(_weights(resumed), _weights(straight)):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)

    # Control: a fresh optimizer (compile=False + compile) does not land on the same weights.
    fresh = _load(tmp_path / "m.keras", backend, compile=False)
    fresh.compile(kbridge.optimizers.Adam(0.01), "mse")
    fresh.fit(X, Y, batch_size=4, epochs=1, shuffle=False, verbose=0)
    assert max(np.abs(a - b).max() for a, b in zip(_weights(fresh), _weights(straight))) > 1e-4


def test_native_optimizer_saves_without_compile_config(tmp_path):
    import torch

    model = _compiled("torch", optimizer=torch.optim.SGD)
    model.fit(X, Y, batch_size=4, epochs=1, verbose=0)
    with pytest.warns(UserWarning, match="framework-native optimizer"):
        model.save(tmp_path / "m.keras")
    loaded = _load(tmp_path / "m.keras", "torch")
    assert loaded.get_compile_config() == {}
    np.testing.assert_allclose(_out(loaded, X), _out(model, X), atol=1e-6)


# -- folders, checkpoints, API errors --------------------------------------------------------


def test_unzipped_folder_round_trip_and_overwrite(tmp_path):
    model = _build("functional", "numpy")
    model.save(tmp_path / "saved", zipped=False)
    assert sorted(os.listdir(tmp_path / "saved")) == ["config.json", "metadata.json", "model.weights.h5"]
    loaded = _load(tmp_path / "saved", "numpy")
    np.testing.assert_allclose(_out(loaded, _inputs("functional")), _out(model, _inputs("functional")), atol=1e-6)
    other = _build("functional", "numpy", seed=7)
    other.save(tmp_path / "saved", zipped=False)
    again = _load(tmp_path / "saved", "numpy")
    np.testing.assert_allclose(_out(again, _inputs("functional")), _out(other, _inputs("functional")), atol=1e-6)
    assert sorted(os.listdir(tmp_path)) == ["saved"]  # no temporary folders left


def test_model_checkpoint_writes_loadable_keras_files(tmp_path):
    model = _compiled("jax")
    checkpoint = kbridge.callbacks.ModelCheckpoint(str(tmp_path / "ckpt-{epoch}.keras"))
    model.fit(X, Y, batch_size=4, epochs=2, shuffle=False, verbose=0, callbacks=[checkpoint])
    assert sorted(os.listdir(tmp_path)) == ["ckpt-1.keras", "ckpt-2.keras"]
    loaded = _load(tmp_path / "ckpt-2.keras", "jax")
    assert int(loaded.optimizer.iterations) == 4
    np.testing.assert_allclose(_out(loaded, X), _out(model, X), atol=1e-6)


def test_public_entry_points(tmp_path):
    model = _build("sequential", "numpy")
    kbridge.saving.save_model(model, tmp_path / "a.keras")
    kbridge.models.save_model(model, str(tmp_path / "b.keras"))
    for path in ("a.keras", "b.keras"):
        np.testing.assert_allclose(_out(kbridge.saving.load_model(tmp_path / path), X), _out(model, X), atol=1e-6)
    with open(tmp_path / "a.keras", "rb") as stream:
        np.testing.assert_allclose(_out(kbridge.models.load_model(stream), X), _out(model, X), atol=1e-6)


@pytest.mark.parametrize(
    "filepath, kwargs, message",
    [
        ("m.h5", {}, "legacy HDF5 model format"),
        ("m.weights.h5", {}, "legacy HDF5 model format"),
        ("m.txt", {}, "Invalid filepath extension for saving"),
        ("m.keras", {"zipped": False}, "should not end in `.keras`"),
        ("m.keras", {"bogus": 1}, r"not supported: \['bogus'\]"),
    ],
)
def test_save_errors(tmp_path, filepath, kwargs, message):
    model = _build("sequential", "numpy")
    with pytest.raises(ValueError, match=message):
        model.save(tmp_path / filepath, **kwargs)
    assert os.listdir(tmp_path) == []


# -- atomic writes ---------------------------------------------------------------------------


def _spy(monkeypatch, cls, name, fail_at=None):
    calls = []
    original = getattr(cls, name)

    def wrapper(*args, **kwargs):
        calls.append(args)
        if fail_at is not None and len(calls) == fail_at:
            raise RuntimeError(f"injected failure in {name}")
        return original(*args, **kwargs)

    monkeypatch.setattr(cls, name, wrapper)
    return calls


@pytest.mark.parametrize("where", ["weight read", "zip write"])
def test_failed_save_leaves_the_previous_file_intact(tmp_path, monkeypatch, where):
    target = tmp_path / "m.keras"
    _build("sequential", "numpy", seed=1).save(target)
    before = target.read_bytes()
    newer = _build("sequential", "numpy", seed=2)
    if where == "weight read":
        _spy(monkeypatch, Variable, "numpy", fail_at=3)
    else:
        _spy(monkeypatch, zipfile.ZipFile, "writestr", fail_at=3)  # after metadata and config
    with pytest.raises(RuntimeError, match="injected failure"):
        newer.save(target)
    assert target.read_bytes() == before
    assert os.listdir(tmp_path) == ["m.keras"]


def test_failed_first_save_leaves_no_file(tmp_path, monkeypatch):
    model = _build("sequential", "numpy")
    _spy(monkeypatch, zipfile.ZipFile, "writestr", fail_at=3)
    with pytest.raises(RuntimeError, match="injected failure"):
        model.save(tmp_path / "m.keras")
    assert os.listdir(tmp_path) == []


# -- bad files -------------------------------------------------------------------------------


def _saved_members(tmp_path, name="sequential"):
    model = _build(name, "numpy")
    model.save(tmp_path / "good.keras")
    with zipfile.ZipFile(tmp_path / "good.keras") as archive:
        return {n: archive.read(n) for n in archive.namelist()}


def _write_archive(path, members):
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def _edit_config(members, edit):
    config = json.loads(members["config.json"])
    edit(config)
    return {**members, "config.json": json.dumps(config).encode()}


def _corrupted(data):
    return data.replace(b'"Sequential"', b'"Sequentiax"')


def _set_units(config, units):
    config["config"]["layers"][-1]["config"]["units"] = units


def _lambda_model(config):
    code = "YQ=="  # never decoded: safe mode refuses before looking at it
    config["config"]["layers"].insert(
        2,
        {"module": "keras.layers", "class_name": "Lambda", "registered_name": None,
         "config": {"name": "evil", "function": {"class_name": "__lambda__",
                                                 "config": {"code": code, "defaults": None, "closure": None}},
                    "arguments": {}}},
    )  # fmt: skip


BAD_FILES = {
    # case: (make the file from the good members, error type, message pattern, whether the config reaches the
    # deserializer: file-level problems are found before it)
    "missing": (lambda m, p: p / "absent.keras", ValueError, "File not found: filepath=.*absent.keras", False),
    "directory": (lambda m, p: (p / "d.keras").mkdir() or p / "d.keras", ValueError, "is a directory", False),
    "plain directory": (lambda m, p: (p / "d").mkdir() or p / "d", ValueError, "is a directory", False),
    "not a zip": (
        lambda m, p: (p / "x.keras").write_bytes(b"not a zip at all" * 10) and p / "x.keras",
        ValueError, r"x.keras: it is not a valid `.keras` file", False,
    ),
    "truncated": (
        lambda m, p: (p / "t.keras").write_bytes((p / "good.keras").read_bytes()[:-300]) and p / "t.keras",
        ValueError, r"t.keras: it is not a valid `.keras` file.*(corrupt|truncated)", False,
    ),
    "corrupt member": (  # a stored member whose bytes no longer match its CRC
        lambda m, p: (p / "c.keras").write_bytes(_corrupted((p / "good.keras").read_bytes())) and p / "c.keras",
        ValueError, "c.keras: it is not a valid `.keras` file.*(CRC|Bad)", False,
    ),
    "no config": (
        lambda m, p: _write_archive(p / "n.keras", {k: v for k, v in m.items() if k != "config.json"}),
        ValueError, "n.keras: the archive has no `config.json` member", False,
    ),
    "no weights": (
        lambda m, p: _write_archive(p / "n.keras", {k: v for k, v in m.items() if k != "model.weights.h5"}),
        ValueError, "n.keras: the archive has no `model.weights.h5` member", False,
    ),
    "bad json": (
        lambda m, p: _write_archive(p / "j.keras", {**m, "config.json": b'{"class_name": "Seq'}),
        ValueError, "j.keras: `config.json` is not valid JSON", False,
    ),
    "json not a model": (
        lambda m, p: _write_archive(p / "j.keras", {**m, "config.json": b"[1, 2]"}),
        ValueError, "j.keras: `config.json` is not a serialized model", False,
    ),
    "bad hdf5": (
        lambda m, p: _write_archive(p / "h.keras", {**m, "model.weights.h5": b"\x89HDF junk" * 20}),
        ValueError, "h.keras: `model.weights.h5` is not a valid HDF5 file", False,
    ),
    "path traversal": (
        lambda m, p: _write_archive(p / "e.keras", {**m, "assets/../../escape.txt": b"x"}),
        ValueError, "member name 'assets/../../escape.txt' points outside the archive", False,
    ),
    "unknown class": (
        lambda m, p: _write_archive(p / "u.keras", _edit_config(m, lambda c: c.update(class_name="NoSuchModel"))),
        TypeError, "Could not locate class 'NoSuchModel'", True,
    ),
    "class outside kbridge": (
        lambda m, p: _write_archive(
            p / "o.keras",
            _edit_config(m, lambda c: c["config"]["layers"][1].update(module="os", class_name="system")),
        ),
        TypeError, "Could not locate class 'system'.*kbridge never imports the module named in a config.*'os'", True,
    ),
    "lambda under safe mode": (
        lambda m, p: _write_archive(p / "l.keras", _edit_config(m, _lambda_model)),
        ValueError, "Python lambda.*disallowed by default", True,
    ),
    "weights disagree with config": (
        lambda m, p: _write_archive(p / "w.keras", _edit_config(m, lambda c: _set_units(c, 3))),
        ValueError,
        r"(?s)w.keras: the weights in `model.weights.h5` disagree.*variable 'layers.2.kernel' has shape "
        r"\(5, 3\) in the model but shape \(5, 2\) in the file \('layers/dense_1/vars/0'\)",
        True,
    ),
    "weights file only": (
        lambda m, p: p / "only.weights.h5", ValueError, "No model config found in the file at .*only.weights.h5", False,
    ),
    "legacy h5": (lambda m, p: p / "old.h5", ValueError, "legacy H5 model format is not supported", False),
    "other extension": (lambda m, p: p / "m.pb", ValueError, "File format not supported: filepath=.*m.pb", False),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_bad_files_raise_clear_errors_and_build_nothing(tmp_path, monkeypatch, case):
    members = _saved_members(tmp_path)
    make, error, pattern, constructs = BAD_FILES[case]
    path = make(members, tmp_path)
    if case == "weights file only":
        _build("sequential", "numpy").save_weights(path)
    deserialized = _spy(monkeypatch, serialization_lib, "deserialize_keras_object")
    assigned = _spy(monkeypatch, Variable, "assign")
    before = {p: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}
    with pytest.raises(error, match=pattern):
        kbridge.models.load_model(path)
    assert bool(deserialized) == constructs
    assert assigned == []  # no variable of any model received a value from the bad file
    assert {p: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()} == before


def test_lambda_loads_with_safe_mode_off(tmp_path):
    model = kbridge.Sequential([kbridge.Input((6,)), layers.Lambda(lambda t: t * 2.0), layers.Dense(2)])
    model.save(tmp_path / "l.keras")
    with pytest.raises(ValueError, match="Python lambda.*disallowed by default"):
        kbridge.models.load_model(tmp_path / "l.keras")
    loaded = kbridge.models.load_model(tmp_path / "l.keras", safe_mode=False)
    np.testing.assert_allclose(_out(loaded, X), _out(model, X), atol=1e-6)


def test_unregistered_subclass_needs_custom_objects(tmp_path):
    class Local(kbridge.Model):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.dense = layers.Dense(2)

        def call(self, x):
            return self.dense(x)

    model = Local()
    model(X)
    model.save(tmp_path / "s.keras")
    with pytest.raises(TypeError, match="Could not locate class 'Local'"):
        kbridge.models.load_model(tmp_path / "s.keras")
    loaded = kbridge.models.load_model(tmp_path / "s.keras", custom_objects={"Local": Local})
    np.testing.assert_allclose(_out(loaded, X), _out(model, X), atol=1e-6)


# -- assets: adapted lookup vocabularies -----------------------------------------------------

LOOKUP_INPUTS = [np.array([["a", "c", "zz"], ["b", "", "a"]]), np.array(["the dog sat", "a cat"]),
                 np.array([[4, 0, 5], [9, 7, 7]])]  # fmt: skip


def _lookup_model(lib):
    L = lib.layers
    strings = L.StringLookup()
    strings.adapt(np.array([["a", "b", "a"], ["c", "a", "b"]]))
    text = L.TextVectorization(max_tokens=10, output_sequence_length=4)
    text.adapt(np.array(["the cat sat", "the dog"]))
    ints = L.IntegerLookup(mask_token=0)
    ints.adapt(np.array([[4, 4, 9], [7, 0, 9]]))
    fixed = L.StringLookup(vocabulary=["x", "a"], output_mode="multi_hot")  # vocabulary in the config: no asset
    inputs = [lib.Input((3,), dtype="string"), lib.Input((), dtype="string"), lib.Input((3,), dtype="int64")]
    return lib.Model(inputs, [strings(inputs[0]), text(inputs[1]), ints(inputs[2]), fixed(inputs[0])])


def _vocabularies(model):
    return [layer.get_vocabulary() for layer in model.layers if hasattr(layer, "get_vocabulary")]


def test_adapted_lookup_vocabularies_round_trip_as_assets(tmp_path):
    # String tensors at the model boundary need the tensorflow backend.
    with kbridge.backend.use("tensorflow"):
        model = _lookup_model(kbridge)
        model.save(tmp_path / "lookup.keras")
        loaded = kbridge.models.load_model(tmp_path / "lookup.keras")
        expected, received = model(LOOKUP_INPUTS), loaded(LOOKUP_INPUTS)
    with zipfile.ZipFile(tmp_path / "lookup.keras") as archive:
        assets = sorted(n for n in archive.namelist() if n.startswith("assets/"))
        assert archive.read("assets/layers/integer_lookup/vocabulary.txt") == b"0\n-1\n9\n4\n7"
    assert assets == [
        "assets/layers/integer_lookup/vocabulary.txt",
        "assets/layers/string_lookup/vocabulary.txt",
        "assets/layers/text_vectorization/_lookup_layer/vocabulary.txt",
        "assets/layers/text_vectorization/vocabulary.txt",
    ]
    assert _vocabularies(loaded) == _vocabularies(model)
    assert len(expected) == len(received) == 4
    for a, b in zip(received, expected):
        np.testing.assert_array_equal(np.asarray(ops.convert_to_numpy(a)), np.asarray(ops.convert_to_numpy(b)))


def test_missing_vocabulary_asset_is_a_clear_error(tmp_path):
    with kbridge.backend.use("tensorflow"):
        _lookup_model(kbridge).save(tmp_path / "lookup.keras")
    with zipfile.ZipFile(tmp_path / "lookup.keras") as archive:
        members = {n: archive.read(n) for n in archive.namelist()}
    members["assets/layers/string_lookup/other.txt"] = members.pop("assets/layers/string_lookup/vocabulary.txt")
    _write_archive(tmp_path / "broken.keras", members)
    with pytest.raises(ValueError, match="string_lookup.*found no `vocabulary.txt`"):
        kbridge.models.load_model(tmp_path / "broken.keras")


# -- fuzzing the loader ----------------------------------------------------------------------

FUZZ_CASES = 450


def _mutate(data, rng, count):
    data = bytearray(data)
    for _ in range(count):
        data[rng.randint(len(data))] = rng.randint(256)
    return bytes(data)


def _zip_bytes(members):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_fuzzed_archives_load_or_raise_value_or_type_errors(tmp_path, recwarn):
    """Mutated bytes anywhere (whole archive, config.json, model.weights.h5 re-zipped with valid CRCs):
    every load either succeeds or raises ValueError/TypeError; nothing else escapes."""
    model = _compiled("numpy")
    model.optimizer.build(model.trainable_variables)
    model.save(tmp_path / "good.keras")
    good = (tmp_path / "good.keras").read_bytes()
    members = _saved_members_of(tmp_path / "good.keras")
    rng = np.random.RandomState(0)
    outcomes = {}
    for case in range(FUZZ_CASES):
        kind = ("archive", "config.json", "model.weights.h5")[case % 3]
        if kind == "archive":
            data = _mutate(good, rng, rng.randint(1, 5))
        else:
            data = _zip_bytes({**members, kind: _mutate(members[kind], rng, rng.randint(1, 6))})
        try:
            kbridge.models.load_model(io.BytesIO(data))
            result = "loaded"
        except (ValueError, TypeError) as error:
            result = type(error).__name__
        outcomes[(kind, result)] = outcomes.get((kind, result), 0) + 1
    print(f"{FUZZ_CASES} fuzzed archives: {sorted(outcomes.items())}")
    for kind in ("archive", "config.json", "model.weights.h5"):
        assert outcomes.get((kind, "ValueError"), 0) > 0


def _saved_members_of(path):
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}
