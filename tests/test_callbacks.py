"""Callback logic without a framework: fake models drive the hooks the way `fit` does, so each
rule (patience, baselines, cooldowns, file names, CSV rows, batch counting, event framing) is
checked on its own."""

import csv
import json
import os
import struct

import pytest

from kbridge import callbacks
from kbridge.callbacks import _event_writer


class FakeOptimizer:
    def __init__(self, learning_rate=0.1):
        self.learning_rate = learning_rate
        self.iterations = 0


class FakeMetric:
    def __init__(self, name, direction=None):
        self.name = name
        if direction:
            self._direction = direction


class FakeModel:
    """What callbacks use of a model: weights, `stop_training`, optimizer, metrics, saving."""

    def __init__(self, metrics=()):
        self.name = "fake"
        self.built = True
        self.stop_training = False
        self.optimizer = FakeOptimizer()
        self.metrics = list(metrics)
        self.weights = [0.0]
        self.saved = []

    def get_weights(self):
        return list(self.weights)

    def set_weights(self, weights):
        self.weights = list(weights)

    def save_weights(self, filepath, overwrite=True):
        self.saved.append(filepath)


def _drive(callback, values, key="val_loss", model=None):
    """Runs epochs whose logs hold `values[epoch]`; the weights are [epoch]. Returns the model."""
    model = model or FakeModel()
    callback.set_model(model)
    callback.on_train_begin({})
    for epoch, value in enumerate(values):
        callback.on_epoch_begin(epoch, {})
        model.weights = [float(epoch)]
        callback.on_epoch_end(epoch, {key: value})
        if model.stop_training:
            break
    callback.on_train_end({})
    return model


# -- Callback / CallbackList ---------------------------------------------------------------------


class Recorder(callbacks.Callback):
    def __init__(self, name, calls):
        super().__init__()
        self.name, self.calls = name, calls

    def on_batch_begin(self, batch, logs=None):
        self.calls.append((self.name, "on_batch_begin", batch))

    def on_epoch_end(self, epoch, logs=None):
        self.calls.append((self.name, "on_epoch_end", dict(logs)))
        logs[f"seen_by_{self.name}"] = True


class OverridesTrainBatch(Recorder):
    def on_train_batch_begin(self, batch, logs=None):
        self.calls.append((self.name, "on_train_batch_begin", batch))


def test_default_train_batch_hooks_reach_the_keras2_names_only_when_not_overridden():
    calls = []
    hooks = callbacks.CallbackList([Recorder("a", calls), OverridesTrainBatch("b", calls)])
    hooks.on_train_batch_begin(3)
    assert calls == [("a", "on_batch_begin", 3), ("b", "on_train_batch_begin", 3)]


def test_callback_list_shares_one_logs_copy_and_adds_history_then_progbar():
    calls = []
    loop_logs = {"loss": 1.0}
    hooks = callbacks.CallbackList([[Recorder("a", calls)], Recorder("b", calls)], add_history=True, add_progbar=True)
    assert [type(c).__name__ for c in hooks.callbacks] == ["Recorder", "Recorder", "History", "ProgbarLogger"]
    hooks.callbacks = hooks.callbacks[:2]
    hooks.on_epoch_end(0, loop_logs)
    assert calls[1] == ("b", "on_epoch_end", {"loss": 1.0, "seen_by_a": True})
    assert loop_logs == {"loss": 1.0}  # the loop's own dict is not changed
    with pytest.raises(TypeError, match="Callback instances"):
        callbacks.CallbackList([object()])


def test_history_becomes_model_history():
    model = FakeModel()
    hooks = callbacks.CallbackList(add_history=True, model=model)
    hooks.on_train_begin()
    hooks.on_epoch_end(0, {"loss": 2.0})
    hooks.on_epoch_end(1, {"loss": 1.0})
    assert model.history.history == {"loss": [2.0, 1.0]} and model.history.epoch == [0, 1]


# -- EarlyStopping --------------------------------------------------------------------------------


def test_early_stopping_patience_and_restore_best_weights(capsys):
    stopper = callbacks.EarlyStopping(patience=2, restore_best_weights=True, verbose=1)
    model = _drive(stopper, [5.0, 3.0, 4.0, 3.5, 1.0, 0.5])
    # best at epoch 1; epochs 2 and 3 do not improve -> stop at epoch 3.
    assert stopper.stopped_epoch == 3 and stopper.best == 3.0 and stopper.best_epoch == 1
    assert model.weights == [1.0]
    out = capsys.readouterr().out
    assert "Epoch 4: early stopping" in out and "best epoch: 2." in out


def test_early_stopping_min_delta_mode_max_baseline_and_start_epoch():
    stopper = callbacks.EarlyStopping(monitor="val_loss", min_delta=0.5, patience=1)
    _drive(stopper, [5.0, 4.8, 4.7])  # improvements below min_delta do not count
    assert stopper.stopped_epoch == 1

    stopper = callbacks.EarlyStopping(monitor="acc", mode="max", patience=1)
    _drive(stopper, [0.1, 0.2, 0.3, 0.25, 0.2], key="acc")
    assert stopper.stopped_epoch == 3 and stopper.best == 0.3

    # Improvements that do not beat the baseline do not reset the patience counter.
    stopper = callbacks.EarlyStopping(monitor="acc", mode="max", patience=2, baseline=0.9)
    _drive(stopper, [0.1, 0.2, 0.15], key="acc")
    assert stopper.stopped_epoch == 2
    stopper = callbacks.EarlyStopping(monitor="acc", mode="max", patience=2)
    _drive(stopper, [0.1, 0.2, 0.15], key="acc")
    assert stopper.stopped_epoch == 0  # the same values without a baseline: patience not exhausted

    stopper = callbacks.EarlyStopping(patience=0, start_from_epoch=3)
    _drive(stopper, [1.0, 2.0, 3.0, 4.0, 5.0])
    assert stopper.stopped_epoch == 4  # epochs 0-2 are ignored; 3 is the first best


def test_early_stopping_auto_mode_follows_metric_direction():
    model = FakeModel(metrics=[FakeMetric("loss"), FakeMetric("accuracy", "up"), FakeMetric("mystery")])
    stopper = callbacks.EarlyStopping(monitor="val_accuracy", patience=0)
    _drive(stopper, [0.5, 0.6, 0.55], key="val_accuracy", model=model)
    assert stopper.stopped_epoch == 2 and stopper.best == 0.6
    with pytest.raises(ValueError, match="maximized or minimized"):
        _drive(callbacks.EarlyStopping(monitor="mystery"), [1.0], key="mystery", model=model)
    with pytest.warns(UserWarning, match="fallback to auto"):
        callbacks.EarlyStopping(mode="sideways")


def test_early_stopping_warns_when_the_monitored_key_is_missing():
    with pytest.warns(UserWarning, match="Available metrics are: loss"):
        _drive(callbacks.EarlyStopping(), [1.0], key="loss")


# -- ModelCheckpoint ------------------------------------------------------------------------------


def test_checkpoint_formats_names_and_saves_only_improvements(tmp_path):
    pattern = str(tmp_path / "ckpt-{epoch:02d}-{val_loss:.2f}.weights.h5")
    checkpoint = callbacks.ModelCheckpoint(pattern, save_best_only=True, save_weights_only=True)
    model = _drive(checkpoint, [0.9, 0.5, 0.7, 0.25])
    assert [os.path.basename(p) for p in model.saved] == [
        "ckpt-01-0.90.weights.h5", "ckpt-02-0.50.weights.h5", "ckpt-04-0.25.weights.h5",
    ]  # fmt: skip

    checkpoint = callbacks.ModelCheckpoint(
        pattern, save_best_only=True, save_weights_only=True, initial_value_threshold=0.6
    )
    assert len(_drive(checkpoint, [0.9, 0.5, 0.7]).saved) == 1


def test_checkpoint_batch_frequency_counts_across_epochs(tmp_path):
    checkpoint = callbacks.ModelCheckpoint(
        str(tmp_path / "b{epoch}-{batch}.weights.h5"), save_weights_only=True, save_freq=3
    )
    model = FakeModel()
    checkpoint.set_model(model)
    for epoch in range(2):
        checkpoint.on_epoch_begin(epoch)
        for batch in range(4):
            checkpoint.on_train_batch_end(batch, {"loss": 1.0})
        checkpoint.on_epoch_end(epoch, {"loss": 1.0})
    # 8 batches: saves after the 3rd and 6th (epoch 2's second batch); epoch ends never save.
    assert [os.path.basename(p) for p in model.saved] == ["b1-3.weights.h5", "b2-2.weights.h5"]


def test_checkpoint_argument_errors(tmp_path):
    with pytest.raises(ValueError, match="must end in `.weights.h5`"):
        callbacks.ModelCheckpoint(str(tmp_path / "w.h5"), save_weights_only=True)
    with pytest.raises(ValueError, match="must end in `.keras`"):
        callbacks.ModelCheckpoint(str(tmp_path / "w.txt"))
    with pytest.raises(ValueError, match="Unrecognized save_freq"):
        callbacks.ModelCheckpoint(str(tmp_path / "w.keras"), save_freq="often")
    checkpoint = callbacks.ModelCheckpoint(str(tmp_path / "{nope}.weights.h5"), save_weights_only=True)
    with pytest.raises(KeyError, match="Failed to format"):
        _drive(checkpoint, [1.0])


# -- learning rate callbacks ---------------------------------------------------------------------


def test_learning_rate_scheduler_both_signatures_and_logs():
    model = FakeModel()
    scheduler = callbacks.LearningRateScheduler(lambda epoch, lr: lr * 0.5)
    scheduler.set_model(model)
    logs = {}
    for epoch in range(3):
        scheduler.on_epoch_begin(epoch)
        scheduler.on_epoch_end(epoch, logs)
    assert model.optimizer.learning_rate == pytest.approx(0.0125) and logs["learning_rate"] == pytest.approx(0.0125)

    scheduler = callbacks.LearningRateScheduler(lambda epoch: 0.01 * (epoch + 1))
    scheduler.set_model(model)
    scheduler.on_epoch_begin(4)
    assert model.optimizer.learning_rate == pytest.approx(0.05)
    scheduler = callbacks.LearningRateScheduler(lambda epoch, lr: "fast")
    scheduler.set_model(model)
    with pytest.raises(ValueError, match="should be a float"):
        scheduler.on_epoch_begin(0)


def test_reduce_lr_on_plateau_patience_cooldown_and_floor():
    reducer = callbacks.ReduceLROnPlateau(monitor="loss", factor=0.5, patience=1, cooldown=2, min_lr=0.03)
    model = FakeModel()
    reducer.set_model(model)
    reducer.on_train_begin()
    rates = []
    for epoch, loss in enumerate([1.0, 1.0, 1.0, 1.0, 1.0, 1.0]):
        logs = {"loss": loss}
        reducer.on_epoch_end(epoch, logs)
        rates.append(logs["learning_rate"])
    # logs carry the rate before the epoch's reduction; reductions at epochs 1 and 3 (the cooldown
    # skips 2 and 4), the second one stopped at min_lr.
    assert rates == pytest.approx([0.1, 0.1, 0.05, 0.05, 0.03, 0.03])
    assert model.optimizer.learning_rate == pytest.approx(0.03)
    with pytest.raises(ValueError, match="factor >= 1.0"):
        callbacks.ReduceLROnPlateau(factor=1.0)


# -- CSVLogger, LambdaCallback, TerminateOnNaN --------------------------------------------------


def test_csv_logger_columns_separator_and_append(tmp_path):
    path = tmp_path / "log.csv"
    logger = callbacks.CSVLogger(path, separator=";")
    _drive(logger, [2.0, 1.0], key="loss")
    with open(path, newline="") as f:
        rows = list(csv.reader(f, delimiter=";"))
    assert rows == [["epoch", "loss", "val_loss"], ["0", "2.0", "NA"], ["1", "1.0", "NA"]]

    _drive(callbacks.CSVLogger(path, separator=";", append=True), [0.5], key="loss")
    with open(path, newline="") as f:
        rows = list(csv.reader(f, delimiter=";"))
    assert rows[-1] == ["0", "0.5", "NA"] and len(rows) == 4  # no second header


def test_lambda_callback_sets_the_given_hooks():
    seen = []
    callback = callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: seen.append(("end", epoch)),
        on_train_batch_end=lambda batch, logs: seen.append(("batch", batch)),
        on_test_end=lambda logs: seen.append("test"),
    )
    callback.on_train_batch_end(4, {})
    callback.on_epoch_end(1, {})
    callback.on_test_end({})
    callback.on_epoch_begin(0, {})  # not given: the no-op default
    assert seen == [("batch", 4), ("end", 1), "test"]


def test_terminate_on_nan_stops_and_names_the_batch(capsys):
    model = FakeModel()
    terminate = callbacks.TerminateOnNaN()
    terminate.set_model(model)
    terminate.on_train_batch_end(0, {"loss": 1.0})
    assert not model.stop_training
    terminate.on_train_batch_end(7, {"loss": float("inf")})
    assert model.stop_training and "Batch 7: Invalid loss, terminating training" in capsys.readouterr().out
    strict = callbacks.TerminateOnNaN(raise_error=True)
    strict.set_model(model)
    with pytest.raises(RuntimeError, match="at batch 2"):
        strict.on_train_batch_end(2, {"loss": float("nan")})


# -- BackupAndRestore -------------------------------------------------------------------------------


def test_backup_and_restore_arguments_and_batch_counting(tmp_path):
    with pytest.raises(ValueError, match="Empty `backup_dir`"):
        callbacks.BackupAndRestore("")
    with pytest.raises(ValueError, match="save_freq"):
        callbacks.BackupAndRestore(tmp_path, save_freq="sometimes")
    backup = callbacks.BackupAndRestore(tmp_path, save_freq=2)
    decisions = [backup._should_save_on_batch(b) for b in [0, 1, 2, 0, 1, 2]]
    assert decisions == [False, True, False, True, False, True]


# -- TensorBoard event files --------------------------------------------------------------------


def _read_records(path):
    """Parses TFRecord framing, checking both masked CRCs; returns the payloads."""
    with open(path, "rb") as f:
        data = f.read()
    payloads, offset = [], 0
    while offset < len(data):
        header = data[offset : offset + 8]
        (length,) = struct.unpack("<Q", header)
        assert struct.unpack("<I", data[offset + 8 : offset + 12])[0] == _event_writer.masked_crc32c(header)
        payload = data[offset + 12 : offset + 12 + length]
        assert struct.unpack("<I", data[offset + 12 + length : offset + 16 + length])[0] == (
            _event_writer.masked_crc32c(payload)
        )
        payloads.append(payload)
        offset += 16 + length
    return payloads


def test_crc32c_matches_the_standard_check_values():
    assert _event_writer.crc32c(b"123456789") == 0xE3069283  # the CRC-32C catalogue check value
    assert _event_writer.crc32c(b"") == 0
    assert _event_writer.crc32c(bytes(32)) == 0x8A9136AA  # RFC 3720 B.4, 32 zero bytes


def test_tensorboard_writes_train_and_validation_event_files(tmp_path):
    board = callbacks.TensorBoard(log_dir=tmp_path, update_freq=2)
    model = FakeModel()
    board.set_model(model)
    board.on_train_begin()
    for epoch in range(2):
        board.on_epoch_begin(epoch)
        for batch in range(3):
            board.on_train_batch_begin(batch)
            board.on_train_batch_end(batch, {"loss": 1.0})
        board.on_epoch_end(epoch, {"loss": 0.5, "val_loss": 0.75})
    board.on_train_end()
    train = os.listdir(tmp_path / "train")
    assert len(train) == 1 and train[0].startswith("events.out.tfevents.") and train[0].endswith(".v2")
    payloads = _read_records(tmp_path / "train" / train[0])
    assert b"brain.Event:2" in payloads[0]
    tags = [p for p in payloads if b"batch_loss" in p]
    assert len(tags) == 3  # global batches 2, 4, 6
    assert sum(b"epoch_loss" in p for p in payloads) == 2 and sum(b"epoch_learning_rate" in p for p in payloads) == 2
    (validation,) = os.listdir(tmp_path / "validation")
    assert sum(b"epoch_loss" in p for p in _read_records(tmp_path / "validation" / validation)) == 2
    with pytest.raises(ValueError, match="update_freq"):
        callbacks.TensorBoard(update_freq=0)


def test_batch_logs_are_wanted_only_when_a_callback_reads_them():
    # When nobody reads per-batch logs, fit keeps them on the device (no host sync per step).
    class EpochOnly(callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            pass

    class Keras2Batch(callbacks.Callback):
        def on_batch_end(self, batch, logs=None):
            pass

    class TestBatch(callbacks.Callback):
        def on_test_batch_end(self, batch, logs=None):
            pass

    quiet = callbacks.CallbackList([EpochOnly()], add_history=True)
    assert not quiet.wants_batch_logs("train") and not quiet.wants_batch_logs("test")
    assert callbacks.CallbackList([Keras2Batch()]).wants_batch_logs("train")
    assert not callbacks.CallbackList([Keras2Batch()]).wants_batch_logs("test")
    assert callbacks.CallbackList([TestBatch()]).wants_batch_logs("test")
    assert callbacks.CallbackList(add_progbar=True, verbose=1).wants_batch_logs("train")
    assert callbacks.CallbackList([callbacks.TerminateOnNaN()]).wants_batch_logs("train")
    assert callbacks.CallbackList([callbacks.LambdaCallback(on_train_batch_end=lambda b, logs: None)]).wants_batch_logs(
        "train"
    )
    assert not callbacks.CallbackList([callbacks.LambdaCallback(on_epoch_end=lambda e, logs: None)]).wants_batch_logs(
        "train"
    )
