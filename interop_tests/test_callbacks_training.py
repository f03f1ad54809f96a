"""Callbacks in real `fit` runs on jax, torch and tensorflow: Keras's hook order, early stopping
with restored weights, checkpoints, learning-rate changes seen by the compiled step, CSV logs,
NaN termination, a killed-and-resumed run, and TensorBoard files read back by TensorFlow."""

import csv
import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import kbridge
from kbridge import callbacks, layers

BACKENDS = ["jax", "torch", "tensorflow"]


def _data(n=24, seed=0):
    rng = np.random.RandomState(seed)
    x = rng.randn(n, 4).astype("float32")
    return x, (x @ rng.randn(4, 2)).astype("float32")


def _model(backend, seed=0, learning_rate=0.05):
    kbridge.utils.set_random_seed(seed)
    with kbridge.backend.use(backend):
        model = kbridge.Sequential([kbridge.Input((4,)), layers.Dense(6, activation="tanh"), layers.Dense(2)])
    model.compile(kbridge.optimizers.SGD(learning_rate), "mse")
    return model


def _scripted(key, values):
    """A callback (placed first) that overwrites `logs[key]` with `values[epoch]`: a known curve."""
    return callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: logs.update({key: values[epoch]}))


class HookRecorder(callbacks.Callback):
    """Records every fit/validation hook it receives, with its epoch or batch index."""

    def __init__(self):
        super().__init__()
        self.calls = []


def _recording_hook(name):
    if "batch" in name or "epoch" in name:

        def hook(self, index, logs=None):
            assert isinstance(logs, dict)
            self.calls.append((name, index))

    else:

        def hook(self, logs=None):
            assert isinstance(logs, dict)
            self.calls.append((name,))

    return hook


for _name in ("on_train_begin", "on_train_end", "on_epoch_begin", "on_epoch_end", "on_train_batch_begin",
              "on_train_batch_end", "on_test_begin", "on_test_end", "on_test_batch_begin", "on_test_batch_end"):  # fmt: skip
    setattr(HookRecorder, _name, _recording_hook(_name))


@pytest.mark.parametrize("backend", BACKENDS)
def test_hooks_run_in_keras_order(backend):
    x, y = _data(n=16)
    model = _model(backend)
    recorder = HookRecorder()
    model.fit(x, y, batch_size=8, epochs=2, validation_data=(x[:8], y[:8]), callbacks=[recorder], verbose=0)
    epoch = lambda e: [
        ("on_epoch_begin", e),
        ("on_train_batch_begin", 0), ("on_train_batch_end", 0),
        ("on_train_batch_begin", 1), ("on_train_batch_end", 1),
        ("on_test_begin",), ("on_test_batch_begin", 0), ("on_test_batch_end", 0), ("on_test_end",),
        ("on_epoch_end", e),
    ]  # fmt: skip
    assert recorder.calls == [("on_train_begin",)] + epoch(0) + epoch(1) + [("on_train_end",)]


@pytest.mark.parametrize("backend", BACKENDS)
def test_early_stopping_restores_the_best_epochs_weights(backend, capsys):
    x, y = _data()
    model = _model(backend)
    seen = []
    recorder = callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: seen.append(model.get_weights()))
    stopper = callbacks.EarlyStopping(monitor="val_loss", patience=2, restore_best_weights=True, verbose=1)
    history = model.fit(
        x, y, batch_size=8, epochs=10, validation_data=(x, y), verbose=0,
        callbacks=[_scripted("val_loss", [3.0, 1.0, 2.0, 2.5, 0.5, 0.1]), recorder, stopper],
    )  # fmt: skip
    assert history.epoch == [0, 1, 2, 3] and stopper.stopped_epoch == 3 and stopper.best_epoch == 1
    for current, best, last in zip(model.get_weights(), seen[1], seen[3]):
        np.testing.assert_array_equal(current, best)
        assert not np.array_equal(best, last)
    assert "Restoring model weights from the end of the best epoch: 2." in capsys.readouterr().out


@pytest.mark.parametrize("backend", BACKENDS)
def test_checkpoint_saves_best_only_under_formatted_names(backend, tmp_path):
    x, y = _data()
    model = _model(backend)
    seen = []
    recorder = callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: seen.append(model.get_weights()))
    pattern = str(tmp_path / "ckpt" / "w-{epoch:02d}-{score:.2f}.weights.h5")
    checkpoint = callbacks.ModelCheckpoint(
        pattern, monitor="score", mode="min", save_best_only=True, save_weights_only=True
    )
    model.fit(x, y, batch_size=8, epochs=4, verbose=0,
              callbacks=[_scripted("score", [0.9, 0.4, 0.6, 0.3]), recorder, checkpoint])  # fmt: skip
    names = sorted(os.listdir(tmp_path / "ckpt"))
    assert names == ["w-01-0.90.weights.h5", "w-02-0.40.weights.h5", "w-04-0.30.weights.h5"]
    other = _model("numpy" if backend != "jax" else "torch", seed=7)
    other.load_weights(tmp_path / "ckpt" / "w-02-0.40.weights.h5")
    for a, b in zip(other.get_weights(), seen[1]):
        np.testing.assert_array_equal(a, b)


def test_checkpoint_every_n_batches(tmp_path):
    x, y = _data()  # 3 batches an epoch
    model = _model("torch")
    checkpoint = callbacks.ModelCheckpoint(
        str(tmp_path / "e{epoch}-b{batch}.weights.h5"), save_weights_only=True, save_freq=2
    )
    model.fit(x, y, batch_size=8, epochs=2, verbose=0, callbacks=[checkpoint])
    assert sorted(os.listdir(tmp_path)) == ["e1-b2.weights.h5", "e2-b1.weights.h5", "e2-b3.weights.h5"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_reduce_lr_on_plateau_changes_the_optimizer_rate(backend):
    x, y = _data()
    model = _model(backend, learning_rate=0.08)
    reducer = callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=1)
    history = model.fit(x, y, batch_size=8, epochs=4, validation_data=(x, y), verbose=0,
                        callbacks=[_scripted("val_loss", [1.0, 1.0, 0.5, 0.5]), reducer])  # fmt: skip
    assert history.history["learning_rate"] == pytest.approx([0.08, 0.08, 0.04, 0.04])
    assert float(np.asarray(model.optimizer.learning_rate)) == pytest.approx(0.02)


@pytest.mark.parametrize("backend", BACKENDS)
def test_learning_rate_scheduler_reaches_the_compiled_step(backend):
    x, y = _data()
    model = _model(backend)
    seen = []
    recorder = callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: seen.append(model.get_weights()))
    schedule = callbacks.LearningRateScheduler(lambda epoch, lr: 0.0 if epoch == 1 else 0.05)
    history = model.fit(x, y, batch_size=8, epochs=3, verbose=0, callbacks=[schedule, recorder])
    assert history.history["learning_rate"] == pytest.approx([0.05, 0.0, 0.05])
    for after_0, after_1, after_2 in zip(*seen):
        np.testing.assert_array_equal(after_1, after_0)  # a zero rate for all of epoch 1: no change
        assert not np.array_equal(after_2, after_1)


def test_csv_logger_writes_the_history(tmp_path):
    x, y = _data()
    model = _model("jax")
    path = tmp_path / "training.csv"
    history = model.fit(x, y, batch_size=8, epochs=3, validation_data=(x[:8], y[:8]), verbose=0,
                        callbacks=[callbacks.CSVLogger(path)])  # fmt: skip
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["epoch", "loss", "val_loss"] and [r["epoch"] for r in rows] == ["0", "1", "2"]
    assert [float(r["loss"]) for r in rows] == history.history["loss"]
    assert [float(r["val_loss"]) for r in rows] == history.history["val_loss"]
    model.fit(x, y, batch_size=8, epochs=1, verbose=0, callbacks=[callbacks.CSVLogger(path, append=True)])
    assert path.read_text().count("epoch") == 1 and len(path.read_text().splitlines()) == 5


@pytest.mark.parametrize("backend", BACKENDS)
def test_terminate_on_nan_stops_at_the_bad_batch(backend, capsys):
    x, y = _data()
    x[17, 0] = np.nan  # sample 17 is in batch 2 (batch_size 8)
    model = _model(backend)
    history = model.fit(x, y, batch_size=8, epochs=3, shuffle=False, verbose=0, callbacks=[callbacks.TerminateOnNaN()])
    assert "Batch 2: Invalid loss, terminating training" in capsys.readouterr().out
    assert history.epoch == [0] and int(model.optimizer.iterations) == 3 and np.isnan(history.history["loss"][0])


_RESUMABLE_RUN = textwrap.dedent(
    """
    import os, sys
    import numpy as np
    import kbridge
    from kbridge import callbacks, layers

    backend, backup_dir, out, kill_epoch, seed = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
    rng = np.random.RandomState(0)
    x = rng.randn(48, 4).astype("float32")
    y = (x @ rng.randn(4, 2)).astype("float32")
    kbridge.utils.set_random_seed(seed)
    with kbridge.backend.use(backend):
        model = kbridge.Sequential([kbridge.Input((4,)), layers.Dense(8, activation="tanh"), layers.Dense(2)])
    model.compile(kbridge.optimizers.Adam(0.01), "mse")

    class Kill(callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch

        def on_train_batch_end(self, batch, logs=None):
            if self.epoch == kill_epoch and batch == 2:
                os._exit(17)  # no cleanup, no on_train_end: as a killed job

    hooks = [callbacks.BackupAndRestore(backup_dir)] + ([Kill()] if kill_epoch >= 0 else [])
    history = model.fit(x, y, batch_size=8, epochs=6, shuffle=False, verbose=0, callbacks=hooks)
    np.savez(out, *model.get_weights(), iterations=int(model.optimizer.iterations), epochs=np.array(history.epoch))
    """
)


def test_backup_and_restore_resumes_a_killed_run(tmp_path):
    script = tmp_path / "run.py"
    script.write_text(_RESUMABLE_RUN)

    def run(backup, out, kill_epoch, seed):
        args = [
            sys.executable,
            str(script),
            "torch",
            str(tmp_path / backup),
            str(tmp_path / out),
            str(kill_epoch),
            str(seed),
        ]
        return subprocess.run(args, check=False, capture_output=True, text=True, timeout=120)

    killed = run("backup", "unused.npz", kill_epoch=3, seed=1)
    assert killed.returncode == 17, killed.stderr
    assert sorted(os.listdir(tmp_path / "backup")) == ["latest.weights.h5", "training_metadata.json"]
    assert json.loads((tmp_path / "backup" / "training_metadata.json").read_text()) == {"epoch": 3, "batch": 0}

    resumed = run("backup", "resumed.npz", kill_epoch=-1, seed=99)  # other initial weights: restored ones must win
    assert resumed.returncode == 0, resumed.stderr
    assert not (tmp_path / "backup").exists()  # deleted once training completed
    straight = run("fresh", "straight.npz", kill_epoch=-1, seed=1)
    assert straight.returncode == 0, straight.stderr

    resumed, straight = np.load(tmp_path / "resumed.npz"), np.load(tmp_path / "straight.npz")
    assert list(resumed["epochs"]) == [3, 4, 5] and list(straight["epochs"]) == [0, 1, 2, 3, 4, 5]
    assert int(resumed["iterations"]) == int(straight["iterations"]) == 36  # the optimizer's step count was restored
    for index in range(4):
        np.testing.assert_allclose(resumed[f"arr_{index}"], straight[f"arr_{index}"], rtol=1e-6, atol=1e-7)


def test_tensorboard_scalars_are_read_back_by_tensorflow(tmp_path):
    tf = pytest.importorskip("tensorflow")
    x, y = _data()
    model = _model("jax")
    board = callbacks.TensorBoard(log_dir=tmp_path / "logs", update_freq=2)
    history = model.fit(x, y, batch_size=8, epochs=3, validation_data=(x[:8], y[:8]), verbose=0, callbacks=[board])

    def scalars(folder):
        (name,) = os.listdir(folder)
        found = {}
        for event in tf.compat.v1.train.summary_iterator(os.path.join(folder, name)):
            for value in event.summary.value:
                found.setdefault(value.tag, []).append((event.step, float(tf.make_ndarray(value.tensor))))
        return os.path.join(folder, name), found

    train_file, train = scalars(tmp_path / "logs" / "train")
    _, validation = scalars(tmp_path / "logs" / "validation")
    assert [step for step, _ in train["epoch_loss"]] == [0, 1, 2]
    np.testing.assert_allclose([v for _, v in train["epoch_loss"]], history.history["loss"], rtol=1e-6)
    np.testing.assert_allclose([v for _, v in train["epoch_learning_rate"]], [0.05] * 3, rtol=1e-6)
    assert [step for step, _ in train["batch_loss"]] == [2, 4, 6, 8]  # 9 batches, every second one
    np.testing.assert_allclose([v for _, v in validation["epoch_loss"]], history.history["val_loss"], rtol=1e-6)
    assert [step for step, _ in validation["evaluation_loss_vs_iterations"]] == [3, 6, 9]

    with open(train_file, "rb") as f:
        data = bytearray(f.read())
    data[-6] ^= 0xFF  # corrupt the last record's payload: TensorFlow must notice through the CRC
    with open(train_file, "wb") as f:
        f.write(bytes(data))
    with pytest.raises(tf.errors.DataLossError):
        list(tf.compat.v1.train.summary_iterator(train_file))


@pytest.mark.parametrize("backend", BACKENDS)
def test_history_is_the_same_whether_or_not_a_callback_reads_batch_logs(backend):
    # Without a batch reader fit converts the logs once per epoch; the numbers must not change.
    x, y = _data()
    seen = []
    reader = callbacks.LambdaCallback(on_train_batch_end=lambda batch, logs: seen.append(dict(logs)))
    quiet = _model(backend).fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0, validation_data=(x, y))
    read = _model(backend).fit(
        x, y, batch_size=8, epochs=2, shuffle=False, verbose=0, validation_data=(x, y), callbacks=[reader]
    )
    assert set(quiet.history) == {"loss", "val_loss"} and quiet.history.keys() == read.history.keys()
    for key in quiet.history:
        np.testing.assert_allclose(quiet.history[key], read.history[key], rtol=1e-6)
    assert len(seen) == 6 and seen[-1]["loss"] == pytest.approx(read.history["loss"][-1], rel=1e-6)
    assert quiet.history["loss"][0] != quiet.history["loss"][1]
