"""`BackupAndRestore` resuming a run killed mid-epoch ends with the weights of an uninterrupted run.

The real case runs in child processes killed with SIGKILL: a model with Dropout, Adam,
`shuffle=True` and a compiled metric, backed up every few batches, killed a few batches
after a backup (or in the middle of writing one), then run again with the same script.
"""

import json
import os
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import kbridge
from kbridge import callbacks, layers
from kbridge.saving import weights_file

BACKENDS = ["jax", "torch", "tf"]

_SCRIPT = textwrap.dedent(
    """
    import os, signal, sys
    import numpy as np
    import kbridge
    from kbridge import callbacks, layers
    from kbridge.saving import weights_file

    backend, backup_dir, out, seed = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    kill = os.environ.get("KBRIDGE_TEST_KILL", "")  # "batch:<epoch>:<batch>" or "write:<n-th backup>"
    rng = np.random.RandomState(0)
    x = rng.randn(60, 4).astype("float32")
    y = (np.tanh(x @ rng.randn(4, 2))).astype("float32")
    kbridge.utils.set_random_seed(seed)  # also seeds NumPy's global generator, which shuffles
    with kbridge.backend.use(backend):
        model = kbridge.Sequential(
            [kbridge.Input((4,)), layers.Dense(16, activation="tanh"), layers.Dropout(0.3), layers.Dense(2)]
        )
    model.compile(kbridge.optimizers.Adam(0.01), "mse", metrics=["mae"])

    class Kill(callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch

        def on_train_batch_end(self, batch, logs=None):
            if kill == f"batch:{self.epoch}:{batch}":
                os.kill(os.getpid(), signal.SIGKILL)

    if kill.startswith("write:"):
        # SIGKILL in the middle of the n-th backup's weights file, after some datasets are written.
        target, saves = int(kill.split(":")[1]), [0]
        save, write = weights_file.save_weights, weights_file._write_dataset

        def counting_save(*args, **kwargs):
            saves[0] += 1
            return save(*args, **kwargs)

        def dying_write(group, key, array):
            write(group, key, array)
            if saves[0] == target and key == "1":
                os.kill(os.getpid(), signal.SIGKILL)

        weights_file.save_weights, weights_file._write_dataset = counting_save, dying_write

    seen = []
    record = callbacks.LambdaCallback(on_train_batch_begin=lambda batch, logs: seen.append(batch))
    hooks = [callbacks.BackupAndRestore(backup_dir, save_freq=3), Kill(), record]
    history = model.fit(x, y, batch_size=8, epochs=3, shuffle=True, verbose=0, callbacks=hooks)
    np.savez(
        out, *model.get_weights(), iterations=int(model.optimizer.iterations), epochs=np.array(history.epoch),
        loss=np.array(history.history["loss"]), mae=np.array(history.history["mae"]), seen=np.array(seen),
    )
    """
)


def _start(tmp_path, backend, backup, out, seed, kill=None):
    script = tmp_path / "run.py"
    if not script.exists():
        script.write_text(_SCRIPT)
    env = dict(os.environ)
    env.pop("KBRIDGE_TEST_KILL", None)
    if kill:
        env["KBRIDGE_TEST_KILL"] = kill
    args = [sys.executable, str(script), backend, str(tmp_path / backup), str(tmp_path / out), str(seed)]
    return subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def _wait(process):
    """Returns (exit status, stderr)."""
    try:
        _, stderr = process.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        process.kill()
        raise
    return process.returncode, stderr


def _killed_and_uninterrupted(tmp_path, backend, kill):
    """Runs the killed run and the uninterrupted one side by side (each imports its framework)."""
    killed = _start(tmp_path, backend, "backup", "unused.npz", seed=1, kill=kill)
    straight = _start(tmp_path, backend, "fresh", "straight.npz", seed=1)
    killed_status, killed_err = _wait(killed)
    straight_status, straight_err = _wait(straight)
    assert straight_status == 0, straight_err
    assert killed_status == -signal.SIGKILL, killed_err


def _resume(tmp_path, backend):
    # Another seed: initial weights, dropout seeds and NumPy's state must all come from the backup.
    status, stderr = _wait(_start(tmp_path, backend, "backup", "resumed.npz", seed=99))
    assert status == 0, stderr
    assert not (tmp_path / "backup").exists()  # deleted once training completed
    return np.load(tmp_path / "resumed.npz"), np.load(tmp_path / "straight.npz")


def _stored_state(path):
    return json.loads(weights_file.read_attrs(path)["kbridge_training_metadata"])


def _assert_same_end(resumed, straight, resumed_epochs):
    assert list(resumed["epochs"]) == resumed_epochs and list(straight["epochs"]) == [0, 1, 2]
    assert int(resumed["iterations"]) == int(straight["iterations"]) == 24  # 8 batches a epoch
    for index in range(4):
        np.testing.assert_allclose(resumed[f"arr_{index}"], straight[f"arr_{index}"], rtol=1e-6, atol=1e-6)
    # The resumed epochs log what the uninterrupted run logged (metric state restored).
    first = 3 - len(resumed_epochs)
    np.testing.assert_allclose(resumed["loss"], straight["loss"][first:], rtol=1e-5)
    np.testing.assert_allclose(resumed["mae"], straight["mae"][first:], rtol=1e-5)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_run_killed_mid_epoch_resumes_to_the_uninterrupted_weights(tmp_path, backend):
    # 8 batches an epoch, a backup every 3 batches: epoch 1's batches 0 and 3 are backed up,
    # then batches 4 and 5 are trained and lost with the kill.
    _killed_and_uninterrupted(tmp_path, backend, kill="batch:1:5")
    metadata = json.loads((tmp_path / "backup" / "training_metadata.json").read_text())
    assert metadata == {"epoch": 1, "batch": 4}  # the next batch to run
    resumed, straight = _resume(tmp_path, backend)
    assert list(resumed["seen"]) == [4, 5, 6, 7] + list(range(8))  # callbacks see the batches they would have
    _assert_same_end(resumed, straight, [1, 2])


def test_a_kill_during_a_backup_write_keeps_the_previous_backup(tmp_path):
    # The 4th backup (epoch 1, after batch 3) dies half-written; the 3rd (after batch 0) is used.
    _killed_and_uninterrupted(tmp_path, "jax", kill="write:4")
    left = sorted(os.listdir(tmp_path / "backup"))
    assert any(name.startswith(".latest.weights.h5.") and name.endswith(".tmp") for name in left), left
    assert "latest.weights.h5" in left and "training_metadata.json" in left
    stored = _stored_state(tmp_path / "backup" / "latest.weights.h5")
    assert (stored["epoch"], stored["batch"]) == (1, 1)
    assert json.loads((tmp_path / "backup" / "training_metadata.json").read_text()) == {"epoch": 1, "batch": 1}

    resumed, straight = _resume(tmp_path, "jax")
    assert list(resumed["seen"]) == list(range(1, 8)) + list(range(8))
    _assert_same_end(resumed, straight, [1, 2])


# -- in-process: the skip logic ------------------------------------------------------------------------


class _Interrupt(Exception):
    pass


class _Recorder(callbacks.Callback):
    """Records the hooks fit calls; raises (an interruption without cleanup) at one batch."""

    def __init__(self, stop_at=None):
        super().__init__()
        self.stop_at, self.calls = stop_at, []

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch
        self.calls.append(("epoch", epoch))

    def on_train_batch_begin(self, batch, logs=None):
        self.calls.append(("begin", batch))

    def on_train_batch_end(self, batch, logs=None):
        self.calls.append(("end", batch))
        if (self.epoch, batch) == self.stop_at:
            raise _Interrupt()


def _data():
    rng = np.random.RandomState(3)
    x = rng.randn(40, 3).astype("float32")
    return x, (x @ rng.randn(3, 1)).astype("float32")


def _model(backend="jax", seed=5, steps_per_execution=1):
    kbridge.utils.set_random_seed(seed)
    with kbridge.backend.use(backend):
        model = kbridge.Sequential([kbridge.Input((3,)), layers.Dense(4), layers.Dropout(0.25), layers.Dense(1)])
    model.compile(kbridge.optimizers.SGD(0.05), "mse", metrics=["mae"], steps_per_execution=steps_per_execution)
    return model


def _fit(model, backup_dir, recorder, save_freq=2, **kwargs):
    backup = callbacks.BackupAndRestore(backup_dir, save_freq=save_freq)
    return model.fit(*_data(), batch_size=8, epochs=3, verbose=0, callbacks=[backup, recorder], **kwargs)


def _interrupt_and_resume(tmp_path, stop_at, save_freq=2, resume_kwargs=None, **kwargs):
    with pytest.raises(_Interrupt):
        _fit(_model(), tmp_path / "backup", _Recorder(stop_at), save_freq=save_freq, **kwargs)
    recorder = _Recorder()
    model = _model(seed=77, **(resume_kwargs or {}))
    history = _fit(model, tmp_path / "backup", recorder, save_freq=save_freq, **kwargs)
    return model, history, recorder


@pytest.mark.parametrize("shuffle", [True, "batch", False])
def test_resuming_skips_the_trained_batches_and_ends_equal(tmp_path, shuffle):
    # 5 batches an epoch, a backup every 2: the last before the stop (epoch 1, batch 3) is after batch 2.
    straight_model = _model()
    straight = _fit(straight_model, tmp_path / "straight", _Recorder(), shuffle=shuffle)
    model, history, recorder = _interrupt_and_resume(tmp_path, stop_at=(1, 3), shuffle=shuffle)
    assert recorder.calls[:7] == [("epoch", 1), ("begin", 3), ("end", 3), ("begin", 4), ("end", 4), ("epoch", 2)] + [
        ("begin", 0)
    ]
    assert history.epoch == [1, 2] and int(model.optimizer.iterations) == 15
    for got, want in zip(model.get_weights(), straight_model.get_weights()):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)
    for key in ("loss", "mae"):
        np.testing.assert_allclose(history.history[key], straight.history[key][1:], rtol=1e-6)


def test_a_backup_after_the_last_batch_of_an_epoch_resumes_with_its_logs(tmp_path):
    # save_freq=5 with 5 batches an epoch: the backup is after batch 4, then the run stops
    # in epoch 1 before its end; the resumed epoch trains nothing and logs the saved metrics.
    straight_model = _model()
    straight = _fit(straight_model, tmp_path / "straight", _Recorder(), save_freq=5, shuffle=True)
    model, history, recorder = _interrupt_and_resume(tmp_path, stop_at=(1, 4), save_freq=5, shuffle=True)
    assert recorder.calls[:3] == [("epoch", 1), ("epoch", 2), ("begin", 0)]
    assert history.epoch == [1, 2]
    for got, want in zip(model.get_weights(), straight_model.get_weights()):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)
    for key in ("loss", "mae"):
        np.testing.assert_allclose(history.history[key], straight.history[key][1:], rtol=1e-6)


def test_another_steps_per_execution_resumes_at_the_same_batch(tmp_path):
    straight_model = _model()
    _fit(straight_model, tmp_path / "straight", _Recorder(), shuffle=True)
    # Interrupted with 1 step per execution after batch 3 (backup after batch 2), resumed
    # with 2: the group (2, 3) trains batch 3 only, and callbacks see it as batch 3.
    model, history, recorder = _interrupt_and_resume(
        tmp_path, stop_at=(1, 3), shuffle=True, resume_kwargs={"steps_per_execution": 2}
    )
    assert recorder.calls[:5] == [("epoch", 1), ("begin", 3), ("end", 3), ("begin", 4), ("end", 4)]
    assert int(model.optimizer.iterations) == 15
    for got, want in zip(model.get_weights(), straight_model.get_weights()):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)


def test_steps_per_epoch_counts_the_resumed_epoch_from_its_first_batch(tmp_path):
    # steps_per_epoch equal to one pass over the data: the resumed epoch still ends at step 4.
    straight_model = _model()
    _fit(straight_model, tmp_path / "straight", _Recorder(), shuffle=True, steps_per_epoch=5)
    model, history, recorder = _interrupt_and_resume(tmp_path, stop_at=(0, 2), shuffle=True, steps_per_epoch=5)
    assert recorder.calls[:6] == [("epoch", 0), ("begin", 2), ("end", 2), ("begin", 3), ("end", 3), ("begin", 4)]
    assert recorder.calls[6:8] == [("end", 4), ("epoch", 1)]
    assert history.epoch == [0, 1, 2] and int(model.optimizer.iterations) == 15
    for got, want in zip(model.get_weights(), straight_model.get_weights()):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)


def test_epoch_backups_resume_at_the_epoch_start(tmp_path):
    straight_model = _model()
    _fit(straight_model, tmp_path / "straight", _Recorder(), save_freq="epoch", shuffle=True)
    model, history, recorder = _interrupt_and_resume(tmp_path, stop_at=(1, 3), save_freq="epoch", shuffle=True)
    assert recorder.calls[:3] == [("epoch", 1), ("begin", 0), ("end", 0)]  # epoch 1 runs again from its start
    assert history.epoch == [1, 2] and int(model.optimizer.iterations) == 15
    # NumPy's state and the dropout seeds are restored too, so even the rerun epoch is exact.
    for got, want in zip(model.get_weights(), straight_model.get_weights()):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)


def test_a_keras_shaped_backup_resumes_at_its_epoch_start(tmp_path):
    # A backup without kbridge's attribute (as Keras writes it) keeps Keras's meaning of "batch".
    model = _model()
    model.fit(*_data(), batch_size=8, epochs=1, verbose=0)
    os.makedirs(tmp_path / "backup")
    model.save_weights(str(tmp_path / "backup" / "latest.weights.h5"))
    (tmp_path / "backup" / "training_metadata.json").write_text(json.dumps({"epoch": 2, "batch": 3}))
    recorder = _Recorder()
    history = _fit(_model(seed=8), tmp_path / "backup", recorder)
    assert history.epoch == [2] and recorder.calls[:2] == [("epoch", 2), ("begin", 0)]


def test_the_backup_file_still_loads_as_a_plain_weights_file(tmp_path):
    # Stopped right after the backup of epoch 1's batch 2 (save_freq=2): the file holds these weights.
    model = _model()
    with pytest.raises(_Interrupt):
        _fit(model, tmp_path / "backup", _Recorder((1, 2)), shuffle=True)
    path = tmp_path / "backup" / "latest.weights.h5"
    stored = _stored_state(path)
    assert stored["batch"] == 3 and stored["epoch"] == 1
    assert [p for p, _ in stored["variables"]] == ["layers.1.seed_generator.state"]
    assert len(stored["metrics"]) == 4  # the loss tracker's and mae's total and count
    fresh = _model(seed=9)
    fresh.load_weights(str(path))
    for got, want in zip(fresh.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(got, want)


@pytest.mark.keras_parity
def test_keras_reads_the_backup_file(tmp_path):
    keras = pytest.importorskip("keras", reason="Keras 3 is installed only in the keras_parity session")
    model = _model()
    with pytest.raises(_Interrupt):
        _fit(model, tmp_path / "backup", _Recorder((0, 3)), shuffle=True)
    other = keras.Sequential(
        [keras.Input((3,)), keras.layers.Dense(4), keras.layers.Dropout(0.25), keras.layers.Dense(1)]
    )
    other.compile(keras.optimizers.SGD(0.05), "mse")
    other.optimizer.build(other.trainable_variables)
    other.load_weights(str(tmp_path / "backup" / "latest.weights.h5"))
    for got, want in zip(other.get_weights(), model.get_weights()):
        np.testing.assert_allclose(got, want, rtol=1e-6)
    assert int(other.optimizer.iterations) == 4  # the backup after batch 3 (save_freq=2: batches 1, 3)
