"""`BackupAndRestore`: resumes a `fit` that was interrupted, from its last backup."""

import json
import os
import shutil
import tempfile

from kbridge import distribution
from kbridge.callbacks.callback import Callback

_COUNTERS_ATTR = "kbridge_training_metadata"


class BackupAndRestore(Callback):
    """Backs up the training state and restores it when `fit` starts again (Keras 3 semantics).

    The backup folder holds `latest.weights.h5` (the model weights and the optimizer
    variables, `iterations` included, in the `.weights.h5` layout) and
    `training_metadata.json` (`{"epoch": ..., "batch": ...}`: the epoch to resume at).
    Both are written atomically, and the counters are also stored inside the weights file,
    so a run killed at any moment resumes from a consistent backup. On restart, `fit`
    begins at the saved epoch. A backup made every `save_freq` batches restores the
    weights of that batch and runs its epoch again from the start, as Keras does. Random
    state (data shuffling, dropout seeds) is not part of the backup: a resumed run matches
    an uninterrupted one when the data order and the model's randomness do not depend on it.

    Args:
        backup_dir: a folder used only by this callback.
        save_freq: "epoch", or an int: back up every that many batches.
        double_checkpoint: keep the previous backup too, used when the latest cannot be read.
        delete_checkpoint: delete the folder when training completes.

    Example:
        >>> backup = kbridge.callbacks.BackupAndRestore(backup_dir="/tmp/backup")
        >>> model.fit(x, y, epochs=10, callbacks=[backup])  # rerun the same line after a crash
    """

    def __init__(self, backup_dir, save_freq="epoch", double_checkpoint=False, delete_checkpoint=True):
        super().__init__()
        if not backup_dir:
            raise ValueError("Empty `backup_dir` argument passed")
        if save_freq != "epoch" and (not isinstance(save_freq, int) or isinstance(save_freq, bool)):
            raise ValueError(
                f"Invalid value for argument `save_freq`. Received: save_freq={save_freq}. "
                "Expected either 'epoch' or an integer value."
            )
        self.backup_dir = os.fspath(backup_dir)
        self.save_freq = save_freq
        self.double_checkpoint = double_checkpoint
        self.delete_checkpoint = delete_checkpoint
        self._batches_seen_since_last_saving = 0
        self._last_batch_seen = 0
        self._current_epoch = 0
        self._weights_path = os.path.join(self.backup_dir, "latest.weights.h5")
        self._training_metadata_path = os.path.join(self.backup_dir, "training_metadata.json")
        self._prev_weights_path = f"{self._weights_path}.bkp"
        self._prev_training_metadata_path = f"{self._training_metadata_path}.bkp"

    def on_train_begin(self, logs=None):
        try:
            self._load_model()
        except OSError:
            if not os.path.exists(self._prev_weights_path):
                raise
            shutil.copyfile(self._prev_weights_path, self._weights_path)
            if os.path.exists(self._prev_training_metadata_path):
                shutil.copyfile(self._prev_training_metadata_path, self._training_metadata_path)
            elif os.path.exists(self._training_metadata_path):
                os.remove(self._training_metadata_path)
            self._load_model()

    def _load_model(self):
        from kbridge.saving import weights_file

        if not self.model.built:
            raise ValueError(
                "To use the BackupAndRestore callback, your model must be built before you call `fit()`. "
                f"Model {self.model.name!r} is unbuilt. You can build it beforehand by calling it on a batch of data."
            )
        metadata = None
        if os.path.exists(self._weights_path):
            optimizer = getattr(self.model, "optimizer", None)
            if optimizer is not None and not optimizer.built:
                optimizer.build(self.model.trainable_variables)
            self.model.load_weights(self._weights_path)
            stored = weights_file.read_attrs(self._weights_path).get(_COUNTERS_ATTR)
            if stored is not None:
                metadata = json.loads(stored)
        if metadata is None and os.path.exists(self._training_metadata_path):
            with open(self._training_metadata_path) as f:
                metadata = json.loads(f.read())
        if metadata is not None:
            self._current_epoch = metadata["epoch"]
            self.model._initial_epoch = metadata["epoch"]

    def on_epoch_begin(self, epoch, logs=None):
        self._current_epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        self._current_epoch = epoch + 1
        self._last_batch_seen = 0
        if self.save_freq == "epoch":
            self._save_model()

    def on_train_batch_end(self, batch, logs=None):
        if self._should_save_on_batch(batch):
            self._save_model()

    def _save_model(self):
        from kbridge.saving import weights_file

        if distribution.process_index() != 0:
            return  # every process restores from the backup; process 0 alone writes it

        os.makedirs(self.backup_dir, exist_ok=True)
        if self.double_checkpoint and os.path.exists(self._weights_path):
            shutil.copyfile(self._weights_path, self._prev_weights_path)
        if self.double_checkpoint and os.path.exists(self._training_metadata_path):
            shutil.copyfile(self._training_metadata_path, self._prev_training_metadata_path)
        metadata = json.dumps({"epoch": self._current_epoch, "batch": self._last_batch_seen})
        weights_file.save_weights(self.model, self._weights_path, overwrite=True, attrs={_COUNTERS_ATTR: metadata})
        _write_atomically(self._training_metadata_path, metadata)

    def _should_save_on_batch(self, batch):
        if self.save_freq == "epoch":
            return False
        if batch <= self._last_batch_seen:
            added = batch + 1  # a new epoch: batches are zero-indexed
        else:
            added = batch - self._last_batch_seen
        self._batches_seen_since_last_saving += added
        self._last_batch_seen = batch
        if self._batches_seen_since_last_saving >= self.save_freq:
            self._batches_seen_since_last_saving = 0
            return True
        return False

    def on_train_end(self, logs=None):
        if distribution.process_index() != 0:
            return
        if self.delete_checkpoint and os.path.exists(self.backup_dir):
            shutil.rmtree(self.backup_dir)


def _write_atomically(path, text):
    handle, temporary = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(path)), prefix=".metadata.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w") as f:
            f.write(text)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise
