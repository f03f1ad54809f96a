"""`BackupAndRestore`: resumes a `fit` that was interrupted, from its last backup."""

import base64
import json
import os
import shutil

import numpy as np

from kbridge import distribution
from kbridge.callbacks.callback import Callback
from kbridge.saving._atomic import atomic_write

_COUNTERS_ATTR = "kbridge_training_metadata"


class BackupAndRestore(Callback):
    """Backs up the training state and restores it when `fit` starts again.

    The backup folder holds `latest.weights.h5` (the model weights and the optimizer
    variables, `iterations` included, in the `.weights.h5` layout Keras 3 reads) and
    `training_metadata.json` (`{"epoch": ..., "batch": ...}`: where to resume). Both are
    written atomically (temporary file + rename), so a run killed at any moment, even
    during a backup, resumes from the last complete backup. In a multi-process run process
    0 writes the backup and every process restores it.

    Beyond Keras, the weights file also carries, as a root attribute that Keras's readers
    ignore, what makes a resumed run end with the weights of an uninterrupted one:

    - the position: a backup made every `save_freq` batches resumes at the next batch of its
      epoch (Keras reruns that epoch from its start, after restoring that batch's weights);
      the batches before it are drawn from the data but not trained on, and callbacks see
      the batch indices they would have seen;
    - NumPy's global random state at the start of the epoch, so a `shuffle=True` epoch
      (shuffled with `np.random`) visits the samples in the same order again;
    - the state of the model's seed generators (Dropout and other random layers);
    - for a mid-epoch backup, the state of the loss tracker and the compiled metrics, so
      the resumed epoch logs the same values.

    Exact resumption needs the same data and the same script: a data source that is not
    an in-memory array or a finite `PyDataset` must give the same batches again, and with
    `steps_per_epoch` smaller than one pass over the data the resumed epoch starts from
    the beginning of the data, so it is not exact. `training_metadata.json` stays Keras-shaped, but its
    `"batch"` is the next batch to run. A backup written by Keras (no kbridge attribute)
    resumes as Keras does, at the start of its epoch.

    Args:
        backup_dir: a folder used only by this callback.
        save_freq: "epoch", or an int: back up every that many batches.
        double_checkpoint: keep the previous backup too, used when the latest cannot be read.
        delete_checkpoint: delete the folder when training completes.

    Example:
        >>> backup = kbridge.callbacks.BackupAndRestore(backup_dir="/tmp/backup", save_freq=100)
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
        self._epoch_random_state = None
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
                self._restore_state(metadata)
        if metadata is None and os.path.exists(self._training_metadata_path):
            with open(self._training_metadata_path) as f:
                metadata = json.loads(f.read())
            metadata = {"epoch": metadata["epoch"]}  # Keras's backup: its "batch" is not a resume point
        if metadata is not None:
            self._current_epoch = metadata["epoch"]
            self.model._initial_epoch = metadata["epoch"]

    def _restore_state(self, metadata):
        """Restores what kbridge adds to a backup: position, random state, metric state."""
        if metadata.get("numpy_random") is not None:
            np.random.set_state(_decode_random_state(metadata["numpy_random"]))
        unsaved = {variable.path: variable for variable in _unsaved_variables(self.model)}
        for path, encoded in metadata.get("variables", []):
            if path in unsaved:
                unsaved[path].assign(_decode_array(encoded))
        next_batch = metadata.get("batch", 0)
        if next_batch:
            self.model._initial_step = next_batch
            self._last_batch_seen = next_batch - 1
            self._batches_seen_since_last_saving = 0
            if metadata.get("metrics") is not None:
                self.model._initial_metric_state = [_decode_array(encoded) for encoded in metadata["metrics"]]

    def on_epoch_begin(self, epoch, logs=None):
        self._current_epoch = epoch
        self._epoch_random_state = np.random.get_state()  # before the epoch's shuffle draws from it

    def on_epoch_end(self, epoch, logs=None):
        self._current_epoch = epoch + 1
        self._last_batch_seen = 0
        if self.save_freq == "epoch":
            self._save_model(next_batch=0)

    def on_train_batch_end(self, batch, logs=None):
        if self._should_save_on_batch(batch):
            self._save_model(next_batch=batch + 1)

    def _save_model(self, next_batch):
        from kbridge.saving import weights_file

        if distribution.process_index() != 0:
            return  # every process restores from the backup; process 0 alone writes it

        os.makedirs(self.backup_dir, exist_ok=True)
        if self.double_checkpoint and os.path.exists(self._weights_path):
            shutil.copyfile(self._weights_path, self._prev_weights_path)
        if self.double_checkpoint and os.path.exists(self._training_metadata_path):
            shutil.copyfile(self._training_metadata_path, self._prev_training_metadata_path)
        counters = {"epoch": self._current_epoch, "batch": next_batch}
        # At an epoch's end the random state now is the one the next epoch starts from.
        random_state = self._epoch_random_state if next_batch else np.random.get_state()
        state = dict(
            counters,
            numpy_random=_encode_random_state(random_state) if random_state is not None else None,
            variables=[[v.path, _encode_array(v.numpy())] for v in _unsaved_variables(self.model)],
        )
        if next_batch:
            state["metrics"] = [_encode_array(v.numpy()) for metric in self.model.metrics for v in metric.variables]
        weights_file.save_weights(
            self.model, self._weights_path, overwrite=True, attrs={_COUNTERS_ATTR: json.dumps(state)}
        )
        atomic_write(self._training_metadata_path, lambda f: f.write(json.dumps(counters).encode()))

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


def _unsaved_variables(model):
    """The model's variables the `.weights.h5` layout leaves out (seed-generator states)."""
    from kbridge.saving import weights_file

    saved = {id(v) for _, obj in weights_file.saveables(model) for v in weights_file._own_variables(obj)}
    return [v for v in model.non_trainable_variables if id(v) not in saved]


def _encode_array(array):
    array = np.ascontiguousarray(array)
    return {"dtype": array.dtype.name, "shape": list(array.shape), "data": base64.b64encode(array.tobytes()).decode()}


def _decode_array(encoded):
    dtype = encoded["dtype"]
    if dtype == "bfloat16":
        import ml_dtypes

        dtype = ml_dtypes.bfloat16
    return np.frombuffer(base64.b64decode(encoded["data"]), dtype=dtype).reshape(encoded["shape"]).copy()


def _encode_random_state(state):
    name, keys, position, has_gauss, cached_gaussian = state
    return [name, _encode_array(keys), int(position), int(has_gauss), float(cached_gaussian)]


def _decode_random_state(encoded):
    name, keys, position, has_gauss, cached_gaussian = encoded
    return name, _decode_array(keys), position, has_gauss, cached_gaussian
