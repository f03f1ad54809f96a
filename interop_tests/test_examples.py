"""Every example script runs to completion (they assert their own results)."""

import os
import pathlib
import subprocess
import sys

import pytest

EXAMPLES_DIR = pathlib.Path(__file__).resolve().parents[1] / "examples"
EXAMPLES = sorted(EXAMPLES_DIR.glob("*.py"))


@pytest.mark.parametrize("script", EXAMPLES, ids=lambda path: path.name)
def test_example_runs(script):
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert EXAMPLES, "no examples found"


def test_torch_loop_example_under_torchrun():
    """examples/torch_loop.py as its docstring says: two gloo processes, DistributedDataParallel."""
    command = [
        sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
        str(EXAMPLES_DIR / "torch_loop.py"),
    ]  # fmt: skip
    # One thread per process: two processes on a 2-core machine.
    environment = {**os.environ, "OMP_NUM_THREADS": "1"}
    result = subprocess.run(command, capture_output=True, text=True, timeout=600, env=environment)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "world_size=2 test accuracy" in result.stdout, result.stdout[-3000:]
