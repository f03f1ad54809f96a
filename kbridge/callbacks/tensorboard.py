"""`TensorBoard`: writes training scalars as TensorBoard event files (no TensorFlow needed)."""

import os
import time
import warnings

import numpy as np

from kbridge.callbacks._event_writer import EventFileWriter
from kbridge.callbacks.callback import Callback


class TensorBoard(Callback):
    """Logs the metrics to `log_dir/train` and `log_dir/validation` for TensorBoard (Keras 3 tags).

    Per epoch: `epoch_<metric>` (training logs and the learning rate in `train/`, validation
    logs without their `val_` prefix in `validation/`) at step `epoch`. With `update_freq`
    "batch" or an int N: `batch_<metric>` every N training batches, at the global batch count.
    After each validation: `evaluation_<metric>_vs_iterations` at the optimizer's step count.

    Args:
        log_dir: the folder TensorBoard reads.
        histogram_freq, write_graph, write_images, embeddings_freq, embeddings_metadata,
            profile_batch: accepted for Keras compatibility; histograms, graphs, images,
            embeddings and profiles are not written (a warning says so when asked for).
        write_steps_per_second: also log `steps_per_second` each epoch.
        update_freq: "epoch", "batch", or an int number of batches.
    """

    _chief_only = True

    def __init__(
        self,
        log_dir="logs",
        histogram_freq=0,
        write_graph=True,
        write_images=False,
        write_steps_per_second=False,
        update_freq="epoch",
        profile_batch=0,
        embeddings_freq=0,
        embeddings_metadata=None,
    ):
        super().__init__()
        self.log_dir = str(log_dir)
        self.histogram_freq = histogram_freq
        self.write_graph = write_graph
        self.write_images = write_images
        self.write_steps_per_second = write_steps_per_second
        self.update_freq = 1 if update_freq == "batch" else update_freq
        if self.update_freq != "epoch" and (not isinstance(self.update_freq, int) or self.update_freq < 1):
            raise ValueError(f"`update_freq` must be 'epoch', 'batch' or a positive int. Received: {update_freq!r}")
        self.profile_batch = profile_batch
        self.embeddings_freq = embeddings_freq
        self.embeddings_metadata = embeddings_metadata
        unsupported = [n for n, v in [("histogram_freq", histogram_freq), ("write_images", write_images),
                                      ("profile_batch", profile_batch), ("embeddings_freq", embeddings_freq)] if v]  # fmt: skip
        if unsupported:
            warnings.warn(f"TensorBoard: {unsupported} are not supported by kbridge and are ignored.", stacklevel=2)
        self._global_train_batch = 0
        self._global_test_batch = 0
        self._writers = {}
        self._epoch_start_time = 0.0
        self._previous_epoch_iterations = 0

    def set_model(self, model):
        super().set_model(model)
        self._train_dir = os.path.join(self.log_dir, "train")
        self._val_dir = os.path.join(self.log_dir, "validation")
        self._close_writers()

    def _writer(self, kind):
        # Created lazily, so that no event file appears when nothing is written.
        if kind not in self._writers:
            self._writers[kind] = EventFileWriter(self._train_dir if kind == "train" else self._val_dir)
        return self._writers[kind]

    def _close_writers(self):
        for writer in self._writers.values():
            writer.close()
        self._writers = {}

    def on_train_begin(self, logs=None):
        self._global_train_batch = 0
        self._previous_epoch_iterations = 0

    def on_train_end(self, logs=None):
        self._close_writers()

    def on_train_batch_begin(self, batch, logs=None):
        self._global_train_batch += 1
        if self.write_steps_per_second:
            self._batch_start_time = time.time()

    def on_train_batch_end(self, batch, logs=None):
        if self.update_freq == "epoch" or self._global_train_batch % self.update_freq:
            return
        writer = self._writer("train")
        if self.write_steps_per_second:
            elapsed = max(time.time() - self._batch_start_time, 1e-9)
            writer.add_scalar("batch_steps_per_second", 1.0 / elapsed, self._global_train_batch)
        for name, value in (logs or {}).items():
            writer.add_scalar(f"batch_{name}", _to_float(value), self._global_train_batch)
        writer.flush()

    def on_test_batch_begin(self, batch, logs=None):
        self._global_test_batch += 1

    def on_test_end(self, logs=None):
        optimizer = getattr(self.model, "optimizer", None)
        if not logs or optimizer is None or not hasattr(optimizer, "iterations"):
            return
        writer = self._writer("val")
        step = int(_to_float(optimizer.iterations))
        for name, value in logs.items():
            writer.add_scalar(f"evaluation_{name}_vs_iterations", _to_float(value), step)
        writer.flush()

    def on_epoch_begin(self, epoch, logs=None):
        if self.write_steps_per_second:
            self._previous_epoch_iterations = _to_float(self.model.optimizer.iterations)
            self._epoch_start_time = time.time()

    def on_epoch_end(self, epoch, logs=None):
        if not logs:
            return
        train_logs = {k: v for k, v in logs.items() if not k.startswith("val_")}
        val_logs = {k[4:]: v for k, v in logs.items() if k.startswith("val_")}
        optimizer = getattr(self.model, "optimizer", None)
        if optimizer is not None and hasattr(optimizer, "learning_rate"):
            train_logs["learning_rate"] = _to_float(optimizer.learning_rate)
        if self.write_steps_per_second:
            steps = _to_float(optimizer.iterations) - self._previous_epoch_iterations
            train_logs["steps_per_second"] = steps / max(time.time() - self._epoch_start_time, 1e-9)
        for kind, entries in (("train", train_logs), ("val", val_logs)):
            if entries:
                writer = self._writer(kind)
                for name, value in entries.items():
                    writer.add_scalar(f"epoch_{name}", _to_float(value), epoch)
                writer.flush()


def _to_float(value):
    return float(np.asarray(value))
