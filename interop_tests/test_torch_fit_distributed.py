"""`model.fit` under `torchrun` (2 real gloo processes) trains data parallel.

The same script runs once under `python -m torch.distributed.run --nproc_per_node=2` and
once as a plain single process. The processes start from different seeds on purpose:
`fit` must take process 0's weights and data order. Checked: final weights equal the
single-process run on the whole batch and are identical on both ranks; logged loss,
metrics and validation metrics equal the single-process ones (metric states are summed
over the processes); only rank 0 prints the progress bar and writes checkpoints; a
`DistributedSampler` loader is not split again; BatchNorm statistics stay identical.
"""

import json
import os
import socket
import subprocess
import sys
import textwrap

import numpy as np
import pytest

torch = pytest.importorskip("torch")
dist = pytest.importorskip("torch.distributed")

pytestmark = pytest.mark.skipif(not dist.is_available() or not dist.is_gloo_available(), reason="no gloo")

SCRIPT = textwrap.dedent(
    """
    import json, os, sys
    import numpy as np
    import torch
    import torch.distributed as dist
    from torch.utils.data import DataLoader, DistributedSampler, TensorDataset

    import kbridge
    from kbridge import layers

    out = sys.argv[1]
    distributed = "RANK" in os.environ
    if distributed:
        dist.init_process_group("gloo")
    rank = dist.get_rank() if distributed else 0
    tag = f"rank{rank}" if distributed else "single"

    data = np.random.RandomState(0)
    x, y = data.randn(30, 6).astype("float32"), data.randint(0, 3, 30).astype("int32")
    xv, yv = data.randn(13, 6).astype("float32"), data.randint(0, 3, 13).astype("int32")

    def dense_model(seed):
        kbridge.utils.set_random_seed(seed)
        with kbridge.backend.use("torch"):
            return kbridge.Sequential([kbridge.Input((6,)), layers.Dense(8, activation="tanh"), layers.Dense(3)])

    # Different seeds per rank on purpose: weights and shuffling must come from rank 0.
    model = dense_model(3 + rank)
    np.random.seed(11 + rank)
    model.compile(optimizer=kbridge.optimizers.SGD(0.1, momentum=0.9),
                  loss=kbridge.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    checkpoint = os.path.join(out, f"{tag}.weights.h5")
    history = model.fit(x, y, batch_size=8, epochs=2, shuffle=True, validation_data=(xv, yv), verbose=2,
                        callbacks=[kbridge.callbacks.ModelCheckpoint(checkpoint, save_weights_only=True)])
    evaluated = model.evaluate(xv, yv, batch_size=5, return_dict=True, verbose=0)

    # A loader that already shards per process is not split again.
    loader_model = dense_model(5)
    loader_model.compile(optimizer=kbridge.optimizers.SGD(0.1), loss="mse")
    targets = data.randn(32, 3).astype("float32")
    dataset = TensorDataset(torch.from_numpy(data.randn(32, 6).astype("float32")), torch.from_numpy(targets))
    if distributed:
        loader = DataLoader(dataset, batch_size=4, sampler=DistributedSampler(dataset, shuffle=False))
    else:
        loader = DataLoader(dataset, batch_size=8)
    loader_model.fit(loader, epochs=2, verbose=0)

    # BatchNorm + Dropout: replicas stay identical (statistics averaged at epoch end).
    kbridge.utils.set_random_seed(9)
    with kbridge.backend.use("torch"):
        bn_model = kbridge.Sequential([kbridge.Input((6,)), layers.Dense(8), layers.BatchNormalization(),
                                       layers.Dropout(0.3), layers.Dense(3)])
    bn_model.compile(optimizer="adam", loss=kbridge.losses.SparseCategoricalCrossentropy(from_logits=True))
    bn_model.fit(x, y, batch_size=10, epochs=2, verbose=0)

    result = {
        "weights": [w.tolist() for w in model.get_weights()],
        "history": history.history,
        "evaluated": evaluated,
        "loader_weights": [w.tolist() for w in loader_model.get_weights()],
        "bn_weights": [w.tolist() for w in bn_model.get_weights()],
        "process_index": kbridge.distribution.process_index(),
        "num_processes": kbridge.distribution.num_processes(),
    }
    with open(os.path.join(out, f"{tag}.json"), "w") as f:
        json.dump(result, f)
    if distributed:
        dist.destroy_process_group()
    """
)


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _max_diff(a, b):
    return max(float(np.max(np.abs(np.array(p) - np.array(q)))) for p, q in zip(a, b))


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("torchrun_fit")
    script = folder / "train.py"
    script.write_text(SCRIPT)
    env = dict(os.environ, OMP_NUM_THREADS="1")
    launch = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", "--master_addr=127.0.0.1",
              f"--master_port={_free_port()}", str(script), str(folder)]
    parallel = subprocess.run(launch, env=env, capture_output=True, text=True, timeout=240)
    assert parallel.returncode == 0, parallel.stdout[-3000:] + parallel.stderr[-5000:]
    single = subprocess.run([sys.executable, str(script), str(folder)], env=env, capture_output=True, text=True,
                            timeout=240)
    assert single.returncode == 0, single.stderr[-5000:]
    loaded = {tag: json.loads((folder / f"{tag}.json").read_text()) for tag in ("rank0", "rank1", "single")}
    return folder, loaded, parallel.stdout, single.stdout


def test_fit_under_torchrun_equals_single_process_fit(runs):
    _, loaded, _, _ = runs
    rank0, rank1, single = loaded["rank0"], loaded["rank1"], loaded["single"]
    assert _max_diff(rank0["weights"], single["weights"]) < 1e-5
    assert rank0["weights"] == rank1["weights"]
    assert (rank0["process_index"], rank1["process_index"], rank0["num_processes"]) == (0, 1, 2)
    assert (single["process_index"], single["num_processes"]) == (0, 1)


def test_logged_metrics_are_global(runs):
    _, loaded, _, _ = runs
    single = loaded["single"]
    for rank in ("rank0", "rank1"):
        history = loaded[rank]["history"]
        assert set(history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
        for key, values in single["history"].items():
            np.testing.assert_allclose(history[key], values, atol=1e-5, err_msg=f"{rank} {key}")
        for key, value in single["evaluated"].items():
            assert abs(loaded[rank]["evaluated"][key] - value) < 1e-5, (rank, key)


def test_progress_bar_and_checkpoints_on_rank_zero_only(runs):
    folder, _, parallel_out, single_out = runs
    assert (folder / "rank0.weights.h5").exists() and (folder / "single.weights.h5").exists()
    assert not (folder / "rank1.weights.h5").exists()
    # verbose=2 prints one line per epoch: twice for one process, not four times for two.
    assert single_out.count("val_loss") == 2
    assert parallel_out.count("val_loss") == 2


def test_distributed_sampler_batches_are_not_split_again(runs):
    _, loaded, _, _ = runs
    assert _max_diff(loaded["rank0"]["loader_weights"], loaded["single"]["loader_weights"]) < 1e-5
    assert loaded["rank0"]["loader_weights"] == loaded["rank1"]["loader_weights"]


def test_batchnorm_replicas_stay_identical(runs):
    _, loaded, _, _ = runs
    assert loaded["rank0"]["bn_weights"] == loaded["rank1"]["bn_weights"]
