"""`kbridge.adapters.tf.export_saved_model`: SavedModels from jax-, torch- and tf-trained models,
reloaded with plain TensorFlow in a fresh interpreter where kbridge cannot be imported."""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")

import kbridge  # noqa: E402
from kbridge import layers  # noqa: E402
from kbridge.adapters.tf import export_saved_model  # noqa: E402

TRAINERS = ("jax", "torch", "tensorflow")

# The child blocks kbridge (an editable install would otherwise find it) and proves it.
_CHILD = textwrap.dedent(
    """
    import json, sys

    class _NoKbridge:
        def find_spec(self, name, path=None, target=None):
            if name == "kbridge" or name.startswith("kbridge."):
                raise ImportError("kbridge is blocked in this interpreter")
            return None

    sys.meta_path.insert(0, _NoKbridge())
    sys.path[:] = [p for p in sys.path if p not in ("", ".", REPO)]
    try:
        import kbridge  # noqa: F401
    except ImportError:
        pass
    else:
        raise SystemExit("kbridge is importable in the child")
    import numpy as np
    import tensorflow as tf

    jobs = json.load(open(sys.argv[1]))
    for job in jobs:
        loaded = tf.saved_model.load(job["path"])
        serve = loaded.signatures["serving_default"]
        spec = serve.structured_input_signature[1]
        for i, npz in enumerate(job["inputs"]):
            arrays = np.load(npz)
            out = serve(**{k: tf.constant(arrays[k]) for k in arrays.files})
            np.savez(npz.replace(".npz", ".out.npz"), **{k: v.numpy() for k, v in out.items()})
        with open(job["path"] + ".sig.json", "w") as f:
            json.dump({k: [s.shape.as_list(), s.dtype.name] for k, s in spec.items()}, f)
    """
)


def _reload_in_plain_tf(tmp_path, jobs):
    """Runs every job's signature in one child process; returns outputs and signatures per job."""
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    script = tmp_path / "child.py"
    script.write_text(f"REPO = {repo!r}\n" + _CHILD)
    listing = []
    for name, (path, batches) in jobs.items():
        files = []
        for i, batch in enumerate(batches):
            npz = str(tmp_path / f"{name}_{i}.npz")
            np.savez(npz, **batch)
            files.append(npz)
        listing.append({"path": str(path), "inputs": files})
    jobs_file = tmp_path / "jobs.json"
    jobs_file.write_text(json.dumps(listing))
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    command = [sys.executable, str(script), str(jobs_file)]
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=600, cwd=str(tmp_path), env=env, check=False
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    found = {}
    for entry, name in zip(listing, jobs):
        outs = [dict(np.load(f.replace(".npz", ".out.npz"))) for f in entry["inputs"]]
        with open(entry["path"] + ".sig.json") as f:
            signature = json.load(f)
        found[name] = (outs, signature)
    return found


def _multi_input(backend):
    with kbridge.backend.use(backend):
        tokens = layers.Input((5,), dtype="int32", name="tokens")
        feats = layers.Input((6,), name="feats")
        e = layers.Flatten()(layers.Embedding(20, 3)(tokens))
        f = layers.Dense(6, activation="relu")(feats)
        x = layers.Concatenate()([e, f])
        score = layers.Dense(1, name="score")(x)
        probs = layers.Dense(3, activation="softmax", name="probs")(x)
        return kbridge.Model([tokens, feats], [score, probs])


def _bn_dropout(backend):
    with kbridge.backend.use(backend):
        inputs = layers.Input((4,), name="x")
        x = layers.Dense(8)(inputs)
        x = layers.BatchNormalization()(x)
        x = layers.Dropout(0.5, seed=1)(x)
        outputs = layers.Dense(2, name="y")(x)
        return kbridge.Model(inputs, outputs)


def _sequence(backend):
    with kbridge.backend.use(backend):
        inputs = layers.Input((None, 3), name="steps")
        x = layers.Dense(5, activation="tanh")(inputs)
        x = layers.Conv1D(4, 2, padding="same")(x)
        outputs = layers.GlobalAveragePooling1D(name="pooled")(x)
        return kbridge.Model(inputs, outputs)


def _fit(model, x, y, loss):
    kbridge.utils.set_random_seed(0)
    model.compile(optimizer="adam", loss=loss)
    model.fit(x, y, batch_size=8, epochs=2, verbose=0)


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """Trains each model on each backend, exports it, and serves it in one plain-TF child."""
    tmp_path = tmp_path_factory.mktemp("saved")
    rng = np.random.RandomState(0)
    jobs, expected, models = {}, {}, {}
    for backend in TRAINERS:
        tokens = rng.randint(0, 20, size=(16, 5)).astype("int32")
        feats = rng.randn(16, 6).astype("float32")
        model = _multi_input(backend)
        _fit(model, [tokens, feats], [rng.randn(16, 1).astype("float32"), rng.randint(0, 3, (16,))],
             ["mse", "sparse_categorical_crossentropy"])  # fmt: skip
        path = export_saved_model(model, tmp_path / f"multi_{backend}")
        jobs[f"multi_{backend}"] = (path, [{"tokens": tokens[:7], "feats": feats[:7]}])
        score, probs = model.predict([tokens[:7], feats[:7]], verbose=0)
        expected[f"multi_{backend}"] = [{"score": score, "probs": probs}]
        models[f"multi_{backend}"] = model

        x = (rng.randn(32, 4) * 3 + 1).astype("float32")
        model = _bn_dropout(backend)
        _fit(model, x, rng.randn(32, 2).astype("float32"), "mse")
        path = export_saved_model(model, tmp_path / f"bn_{backend}")
        jobs[f"bn_{backend}"] = (path, [{"x": x[:5]}])
        expected[f"bn_{backend}"] = [{"y": model.predict(x[:5], verbose=0)}]
        models[f"bn_{backend}"] = model

        model = _sequence(backend)
        _fit(model, rng.randn(8, 6, 3).astype("float32"), rng.randn(8, 4).astype("float32"), "mse")
        batches = [{"steps": rng.randn(2, n, 3).astype("float32")} for n in (3, 9)]
        path = export_saved_model(model, tmp_path / f"seq_{backend}")
        jobs[f"seq_{backend}"] = (path, batches)
        expected[f"seq_{backend}"] = [{"pooled": model.predict(b["steps"], verbose=0)} for b in batches]
        models[f"seq_{backend}"] = model
    served = _reload_in_plain_tf(tmp_path, jobs)
    return served, expected, models


def _compare(exported, name):
    served, expected, _ = exported
    outputs, _ = served[name]
    assert len(outputs) == len(expected[name])
    for got, want in zip(outputs, expected[name]):
        assert sorted(got) == sorted(want)
        for key in want:
            assert got[key].shape == want[key].shape
            np.testing.assert_allclose(got[key], want[key], atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("backend", TRAINERS)
def test_functional_multi_input_named_signature(exported, backend):
    _compare(exported, f"multi_{backend}")
    signature = exported[0][f"multi_{backend}"][1]
    assert signature == {"tokens": [[None, 5], "int32"], "feats": [[None, 6], "float32"]}


@pytest.mark.parametrize("backend", TRAINERS)
def test_batchnorm_dropout_serve_in_inference_mode(exported, backend):
    _compare(exported, f"bn_{backend}")
    model = exported[2][f"bn_{backend}"]
    # Trained statistics are what the signature uses: the moving mean moved away from 0.
    bn = model.layers[2]
    assert type(bn).__name__ == "BatchNormalization"
    assert np.abs(bn.moving_mean.numpy()).max() > 0.05


@pytest.mark.parametrize("backend", TRAINERS)
def test_dynamic_sequence_length(exported, backend):
    _compare(exported, f"seq_{backend}")
    assert exported[0][f"seq_{backend}"][1] == {"steps": [[None, None, 3], "float32"]}


@pytest.mark.parametrize("backend", TRAINERS)
def test_export_keeps_the_model_on_its_backend(exported, backend):
    for kind in ("multi", "bn", "seq"):
        model = exported[2][f"{kind}_{backend}"]
        assert {v.backend for v in model.variables} == {backend}


def test_signature_mismatch_names_the_input(tmp_path):
    model = _multi_input("numpy")
    target = tmp_path / "bad"
    with pytest.raises(ValueError, match='input "feats" expects shape \\(None, 6\\)'):
        bad = [tf.TensorSpec((None, 5), tf.int32), tf.TensorSpec((None, 7))]
        export_saved_model(model, target, input_signature=bad)
    with pytest.raises(ValueError, match="2 input\\(s\\)"):
        export_saved_model(model, target, input_signature=[tf.TensorSpec((None, 5), tf.int32)])
    with pytest.raises(ValueError, match='input "tokens" has dtype int32'):
        bad = [tf.TensorSpec((None, 5), tf.string), tf.TensorSpec((None, 6))]
        export_saved_model(model, target, input_signature=bad)
    assert os.listdir(tmp_path) == []


def test_explicit_signature_and_replacing_an_export(tmp_path):
    model = _sequence("numpy")
    target = tmp_path / "seq"
    export_saved_model(model, target)
    export_saved_model(model, target, input_signature=[tf.TensorSpec((None, 4, 3), tf.float32)])
    assert sorted(os.listdir(tmp_path)) == ["seq"]
    loaded = tf.saved_model.load(str(target))
    spec = loaded.signatures["serving_default"].structured_input_signature[1]["steps"]
    assert spec.shape.as_list() == [None, 4, 3]


def test_layer_that_cannot_run_on_tf_is_named_and_nothing_is_left(tmp_path):
    torch = pytest.importorskip("torch")
    from kbridge.adapters.torch import TorchModuleLayer

    with kbridge.backend.use("torch"):
        inputs = layers.Input((4,), name="x")
        x = layers.Dense(3)(inputs)
        x = TorchModuleLayer(torch.nn.Linear(3, 2), name="native_linear")(x)
        model = kbridge.Model(inputs, x)
    with pytest.raises(ValueError, match='layer "native_linear" \\(TorchModuleLayer\\) cannot run on TensorFlow'):
        export_saved_model(model, tmp_path / "out")
    assert os.listdir(tmp_path) == []
    assert {v.backend for v in model.variables} == {"torch"}
    np.testing.assert_equal(model(np.ones((1, 4), "float32")).shape, (1, 2))  # the model still works


def test_bad_arguments():
    with pytest.raises(TypeError):
        export_saved_model(object(), "/tmp/never")
    with pytest.raises(ValueError, match="not built"):
        export_saved_model(layers.Dense(2), "/tmp/never")
