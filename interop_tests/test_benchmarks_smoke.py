"""`benchmarks/run.py` runs end to end (torch, jax and tf variants on the MLP, 1 rep, 2 steps); the natives match.

Checks the plumbing (fresh child processes, JSON, Markdown table, --compare; no timing thresholds) and
that the hand-written natives of the sequence workloads compute the Keras-style model's logits.
"""

import json
import math
import pathlib
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("jax")
pytest.importorskip("optax")
pytest.importorskip("tensorflow")

RUN = pathlib.Path(__file__).resolve().parents[1] / "benchmarks" / "run.py"
VARIANTS = ["native-torch", "kb-function-jax", "native-tf", "kb-module-tf"]
ARGS = ["--workloads", "mlp", "--variants", ",".join(VARIANTS), "--modes", "train,latency",
        "--reps", "1", "--steps", "2", "--warmup", "1", "--latency-steps", "3"]  # fmt: skip


def _run(*args):
    result = subprocess.run([sys.executable, str(RUN), *args], capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout


def test_driver_writes_json_and_prints_the_table(tmp_path):
    out = tmp_path / "bench.json"
    stdout = _run(*ARGS, "--json", str(out))

    data = json.loads(out.read_text())
    rows = {(r["workload"], r["mode"], r["variant"]): r for r in data["rows"]}
    assert set(rows) == {(w, m, v) for w in ["mlp"] for m in ["train", "latency"]
                         for v in VARIANTS}  # fmt: skip
    for key, row in rows.items():
        assert row["status"] == "ok", (key, row.get("reason"))
        assert len(row["runs"]) == 1
        for metric in ("step_s", "first_step_s", "peak_rss_mb"):
            value = row["median"][metric]
            assert math.isfinite(value) and value > 0, (key, metric, value)
    assert data["meta"]["args"]["threads"] == 1
    for mode in ("train", "latency"):  # the TF adapter row is compared with the TF native, time and memory
        row = rows[("mlp", mode, "kb-module-tf")]
        assert math.isfinite(row["vs_native"]) and row["vs_native"] > 0
        assert math.isfinite(row["rss_vs_native"]) and row["rss_vs_native"] > 0
        assert "vs_native" not in rows[("mlp", mode, "native-tf")]

    assert "| workload | mode | variant | steps/s |" in stdout
    assert "× Keras 3 | RSS × native |" in stdout
    for variant in VARIANTS:
        assert f"| mlp | train | {variant} |" in stdout

    compared = _run("--compare", str(out), str(out))
    assert "| mlp | train | native-torch | 1.00 | 1.00 | 1.00 |" in compared


# -- the hand-written natives compute the same function as the Keras-style model --------------

sys.path.insert(0, str(RUN.parent))


def _perturbed_arrays(workload):
    """The shared weights plus noise on every array, so that bias/gamma/beta mappings matter too."""
    rng = np.random.default_rng(7)
    return [(a + 0.05 * rng.standard_normal(a.shape)).astype("float32") for a in workload.arrays()]


@pytest.mark.parametrize("name, n", [("text", 3), ("transformer", 2)])
def test_natives_give_the_keras_style_logits(name, n):
    import jax
    import tensorflow as tf
    import torch

    import kbridge
    from workloads import WORKLOADS

    workload = WORKLOADS[name]
    arrays = _perturbed_arrays(workload)
    x, _ = workload.make_data(n)
    with kbridge.backend.use("numpy"):
        model = workload.build_keras_style(kbridge)
        model.set_weights(arrays)
        expected = np.asarray(model(x, training=False))
    assert expected.shape == (n, workload.num_classes)

    module = workload.build_torch()
    workload.load_torch(module, arrays)
    with torch.no_grad():
        got = {"torch": module(torch.from_numpy(x)).numpy()}
    got["jax"] = np.asarray(jax.jit(workload.apply_jax)(workload.init_jax(None, arrays), x))
    got["tf"] = tf.function(workload.apply_tf)(workload.init_tf(arrays), tf.constant(x)).numpy()
    for framework, logits in got.items():
        np.testing.assert_allclose(logits, expected, rtol=1e-4, atol=1e-4, err_msg=f"{name} native {framework}")
    # The check can fail: the logits depend on the input.
    assert np.abs(expected[0] - expected[1]).max() > 1e-3
