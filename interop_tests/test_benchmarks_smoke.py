"""`benchmarks/run.py` runs end to end: one torch and one jax variant on the MLP, 1 rep, 2 steps.

Checks the plumbing only (fresh child processes, JSON, Markdown table, --compare); no timing thresholds.
"""

import json
import math
import pathlib
import subprocess
import sys

import pytest

pytest.importorskip("torch")
pytest.importorskip("jax")
pytest.importorskip("optax")

RUN = pathlib.Path(__file__).resolve().parents[1] / "benchmarks" / "run.py"
ARGS = ["--workloads", "mlp", "--variants", "native-torch,kb-function-jax", "--modes", "train,latency",
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
                         for v in ["native-torch", "kb-function-jax"]}  # fmt: skip
    for key, row in rows.items():
        assert row["status"] == "ok", (key, row.get("reason"))
        assert len(row["runs"]) == 1
        for metric in ("step_s", "first_step_s", "peak_rss_mb"):
            value = row["median"][metric]
            assert math.isfinite(value) and value > 0, (key, metric, value)
    assert data["meta"]["args"]["threads"] == 1

    assert "| workload | mode | variant | steps/s |" in stdout
    for variant in ("native-torch", "kb-function-jax"):
        assert f"| mlp | train | {variant} |" in stdout

    compared = _run("--compare", str(out), str(out))
    assert "| mlp | train | native-torch | 1.00 | 1.00 | 1.00 |" in compared
