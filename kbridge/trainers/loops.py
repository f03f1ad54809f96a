"""The shared loops: `fit`, `evaluate`, `predict` and the `*_on_batch` methods (DESIGN.md invariant 6).

Written once for every backend: data adapters, callbacks, history and the progress bar live
here; each batch goes through the step `Trainer._make_function` built for the training backend.
"""

import numpy as np

from kbridge import ops
from kbridge.backend import registry
from kbridge.trainers import data_adapters
from kbridge.utils import tree


class TrainingLoops:
    """Mixin of `Trainer`: the loops over the data (the steps and compile state live in `Trainer`)."""

    def fit(
        self,
        x=None,
        y=None,
        batch_size=None,
        epochs=1,
        verbose="auto",
        callbacks=None,
        validation_split=0.0,
        validation_data=None,
        shuffle=True,
        class_weight=None,
        sample_weight=None,
        initial_epoch=0,
        steps_per_epoch=None,
        validation_steps=None,
        validation_batch_size=None,
        validation_freq=1,
    ):
        """Trains the model; returns a `History` (Keras 3 signature and semantics)."""
        from kbridge.callbacks import CallbackList

        self._assert_compiled("fit")
        # Loaded first: the adapter registers how to tell this process's index, which decides
        # whether this process shows the progress bar and writes checkpoints.
        hooks = registry.adapter_module(self._training_backend().NAME, "trainer")
        if validation_split and validation_data is None:
            (x, y, sample_weight), validation_data = data_adapters.train_validation_split(
                (x, y, sample_weight), validation_split=validation_split
            )
        iterator = data_adapters.EpochIterator(
            x=x, y=y, sample_weight=sample_weight, batch_size=batch_size, steps_per_epoch=steps_per_epoch,
            shuffle=shuffle, class_weight=class_weight, steps_per_execution=self.steps_per_execution,
        )  # fmt: skip
        val_iterator = None
        if validation_data is not None:
            val_x, val_y, val_sw = data_adapters.unpack_x_y_sample_weight(validation_data)
            val_iterator = data_adapters.EpochIterator(
                x=val_x, y=val_y, sample_weight=val_sw, batch_size=validation_batch_size or batch_size,
                steps_per_epoch=validation_steps, shuffle=False,
            )  # fmt: skip
        callback_list = CallbackList(
            callbacks, add_history=True, add_progbar=verbose != 0, verbose=_verbosity(verbose),
            epochs=epochs, steps=iterator.num_batches, model=self,
        )  # fmt: skip
        self._begin_loop(hooks, iterator)
        self.stop_training = False
        callback_list.on_train_begin()
        # A callback may move the start (BackupAndRestore resuming a run), as in Keras.
        initial_epoch = getattr(self, "_initial_epoch", None) or initial_epoch
        # kbridge extra: BackupAndRestore resuming mid-epoch also sets the first step to run in
        # that epoch, and the metric state reached before it.
        initial_step = getattr(self, "_initial_step", None) or 0
        metric_state = getattr(self, "_initial_metric_state", None)
        self._initial_epoch = self._initial_step = self._initial_metric_state = None
        logs = {}
        batch_logs_wanted = callback_list.wants_batch_logs("train")
        for epoch in range(initial_epoch, epochs):
            self.reset_metrics()
            callback_list.on_epoch_begin(epoch)
            skip = initial_step if epoch == initial_epoch else 0
            step_logs, trained = None, False
            for begin, end, batches in iterator.enumerate_epoch():
                if not self._functions.get("train"):
                    self._symbolic_build(batches[0])
                    self._make_function("train")  # once: skipped batches do not build again
                if skip:
                    # Batches trained before the interruption are drawn (the data order and the
                    # random draws of the source stay the same) but not trained on again.
                    if metric_state is not None:
                        self._assign_metric_state(metric_state)
                        metric_state = None
                    if end < skip:
                        continue
                    if begin < skip:  # another steps_per_execution than the interrupted run
                        batches, begin = batches[skip - begin :], skip
                callback_list.on_train_batch_begin(begin)
                train_function = self._make_function("train")
                for batch in batches:
                    step_logs = train_function(batch)
                trained = True
                if batch_logs_wanted:
                    logs = _to_python(step_logs)
                    step_logs = None
                callback_list.on_train_batch_end(end, logs)
                if self.stop_training:
                    break
            if step_logs is not None:
                logs = _to_python(step_logs)
            elif skip and not trained:
                logs = self._metric_logs()  # the interrupted run had trained every batch of this epoch
            if getattr(iterator, "ran_out_of_data", False):
                self.stop_training = True
            end_epoch = getattr(hooks, "end_epoch", None)  # e.g. average BatchNorm statistics over processes
            if end_epoch is not None:
                end_epoch(self)
            epoch_logs = dict(logs)
            if val_iterator is not None and _should_validate(epoch, validation_freq):
                # The fit's callbacks see validation as on_test_* hooks (Keras passes them to evaluate).
                val_logs = self._evaluate_iterator(val_iterator, callbacks=callback_list)
                epoch_logs.update({f"val_{name}": value for name, value in val_logs.items()})
            callback_list.on_epoch_end(epoch, epoch_logs)
            logs = epoch_logs
            if self.stop_training:
                break
        callback_list.on_train_end(logs)
        return self.history

    def evaluate(
        self,
        x=None,
        y=None,
        batch_size=None,
        verbose="auto",
        sample_weight=None,
        steps=None,
        callbacks=None,
        return_dict=False,
    ):
        """Returns the loss and metrics on the data (a list, or a dict with `return_dict=True`)."""
        self._assert_compiled("evaluate")
        registry.adapter_module(self._training_backend().NAME, "trainer")  # see fit
        iterator = data_adapters.EpochIterator(
            x=x, y=y, sample_weight=sample_weight, batch_size=batch_size, steps_per_epoch=steps, shuffle=False
        )
        logs = self._evaluate_iterator(iterator, callbacks, verbose=_verbosity(verbose))
        return logs if return_dict else (list(logs.values()) if len(logs) > 1 else next(iter(logs.values())))

    def _evaluate_iterator(self, iterator, callbacks, verbose=0):
        from kbridge.callbacks import CallbackList

        callback_list = callbacks
        if not isinstance(callbacks, CallbackList):
            callback_list = CallbackList(
                callbacks, add_progbar=verbose != 0, verbose=verbose, epochs=1, steps=iterator.num_batches, model=self
            )
        self._begin_loop(registry.adapter_module(self._training_backend().NAME, "trainer"), iterator)
        self.reset_metrics()
        callback_list.on_test_begin()
        logs, step_logs = {}, None
        batch_logs_wanted = callback_list.wants_batch_logs("test")
        for step, batch in iterator:
            if self._compile_metrics is None or not self.optimizer.built:
                self._symbolic_build(batch)
            callback_list.on_test_batch_begin(step)
            step_logs = self._make_function("test")(batch)
            if batch_logs_wanted:
                logs, step_logs = _to_python(step_logs), None
            callback_list.on_test_batch_end(step, logs)
        if step_logs is not None:
            logs = _to_python(step_logs)
        callback_list.on_test_end(logs)
        return logs

    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        """Returns the model's outputs on `x`, batch by batch, as NumPy arrays."""
        from kbridge.callbacks import CallbackList

        registry.adapter_module(self._training_backend().NAME, "trainer")  # see fit
        iterator = data_adapters.EpochIterator(x=x, batch_size=batch_size, steps_per_epoch=steps, shuffle=False)
        callback_list = CallbackList(
            callbacks, add_progbar=verbose != 0, verbose=_verbosity(verbose), epochs=1,
            steps=iterator.num_batches, model=self,
        )  # fmt: skip
        callback_list.on_predict_begin()
        if not getattr(self, "_functions", None):
            self._functions = {}
        outputs = []
        for step, batch in iterator:
            callback_list.on_predict_batch_begin(step)
            batch_outputs = tree.map_structure(ops.convert_to_numpy, self._make_function("predict")(batch))
            outputs.append(batch_outputs)
            callback_list.on_predict_batch_end(step, {"outputs": batch_outputs})
        callback_list.on_predict_end()
        if not outputs:
            raise ValueError(f"predict: model {self.name!r} received no data.")
        return _concatenate_batches(outputs)

    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None, return_dict=False):
        """Runs one training step on one batch; returns its logs."""
        self._assert_compiled("train_on_batch")
        if class_weight is not None:
            sample_weight = data_adapters.class_weight_to_sample_weights(y, class_weight)
        batch = data_adapters.pack_x_y_sample_weight(x, y, sample_weight)
        if not self._functions.get("train"):
            self._symbolic_build(batch)
        logs = _to_python(self._make_function("train")(batch))
        return logs if return_dict else list(logs.values())

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        """Evaluates one batch; returns its logs."""
        self._assert_compiled("test_on_batch")
        batch = data_adapters.pack_x_y_sample_weight(x, y, sample_weight)
        if self._compile_metrics is None:
            self._symbolic_build(batch)
        self.reset_metrics()
        logs = _to_python(self._make_function("test")(batch))
        return logs if return_dict else list(logs.values())

    def predict_on_batch(self, x):
        """Returns the model's outputs on one batch as NumPy arrays."""
        if not getattr(self, "_functions", None):
            self._functions = {}
        return tree.map_structure(ops.convert_to_numpy, self._make_function("predict")((x,)))


def _concatenate_batches(outputs):
    first = outputs[0]
    if isinstance(first, dict):
        return {key: _concatenate_batches([o[key] for o in outputs]) for key in first}
    if isinstance(first, (list, tuple)):
        return type(first)(_concatenate_batches([o[i] for o in outputs]) for i in range(len(first)))
    return np.concatenate(outputs)


def _to_python(logs):
    return {name: float(np.asarray(ops.convert_to_numpy(value))) for name, value in logs.items()}


def _should_validate(epoch, validation_freq):
    if isinstance(validation_freq, int):
        return (epoch + 1) % validation_freq == 0
    return (epoch + 1) in validation_freq


def _verbosity(verbose):
    return 1 if verbose == "auto" else int(verbose)
