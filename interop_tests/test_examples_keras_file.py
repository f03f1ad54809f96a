"""Keras 3 parity of the committed `examples/data/digits_keras3.keras` (used by keras_file_to_torch.py).

The maker script still runs with Keras 3 and reproduces the committed accuracy, and both
the committed and the regenerated files give the same predictions in Keras 3 as in kbridge
on every backend.
"""

import json
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import kbridge

pytestmark = pytest.mark.keras_parity
keras = pytest.importorskip("keras", reason="Keras 3 is installed only in the keras_parity session")

DATA = pathlib.Path(__file__).resolve().parents[1] / "examples" / "data"
BACKENDS = ["numpy", "jax", "torch", "tensorflow"]


def _test_split():
    """The held-out digits make_digits_keras3.py and keras_file_to_torch.py score."""
    images, labels = load_digits(return_X_y=True)
    _, x_test, _, y_test = train_test_split(images.astype("float32"), labels.astype("int32"), test_size=0.2,
                                            random_state=0)  # fmt: skip
    return x_test, y_test


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory):
    """The maker script rerun into a temporary folder (the committed files are left alone)."""
    folder = tmp_path_factory.mktemp("digits_keras3")
    environment = {**os.environ, "KERAS_BACKEND": "tensorflow"}
    result = subprocess.run(
        [sys.executable, str(DATA / "make_digits_keras3.py"), "--out", str(folder)],
        capture_output=True, text=True, timeout=300, env=environment,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return folder


def _check_file(folder):
    x_test, y_test = _test_split()
    recorded = json.loads((folder / "digits_keras3.json").read_text())
    path = str(folder / "digits_keras3.keras")
    expected = np.asarray(keras.saving.load_model(path).predict(x_test, verbose=0))
    assert float(np.mean(np.argmax(expected, axis=1) == y_test)) == recorded["test_accuracy"]
    for backend in BACKENDS:
        with kbridge.backend.use(backend):
            model = kbridge.saving.load_model(path)
        received = kbridge.ops.convert_to_numpy(model.predict(x_test, verbose=0))
        np.testing.assert_allclose(received, expected, atol=1e-5, err_msg=backend)
        assert [w.shape for w in model.get_weights()] == [(64, 32), (32,), (32, 10), (10,)]
    return recorded


def test_committed_file_matches_keras3():
    recorded = _check_file(DATA)
    assert (DATA / "digits_keras3.keras").stat().st_size < 100_000
    assert recorded["test_size"] == 360


def test_maker_script_reproduces_the_committed_file(regenerated):
    recorded = _check_file(regenerated)
    committed = json.loads((DATA / "digits_keras3.json").read_text())
    assert recorded["test_accuracy"] == committed["test_accuracy"], (
        "make_digits_keras3.py no longer reproduces the committed file; rerun it and commit the result"
    )
