"""`CallbackList`: fans each hook out to the callbacks, adding History and the progress bar."""

from kbridge import distribution
from kbridge.callbacks.callback import Callback

_HOOKS = (
    "on_train_begin", "on_train_end", "on_epoch_begin", "on_epoch_end",
    "on_train_batch_begin", "on_train_batch_end", "on_test_begin", "on_test_end",
    "on_test_batch_begin", "on_test_batch_end", "on_predict_begin", "on_predict_end",
    "on_predict_batch_begin", "on_predict_batch_end", "on_batch_begin", "on_batch_end",
)  # fmt: skip


class CallbackList(Callback):
    """A list of callbacks called in order.

    As in Keras 3, a `History` and then a `ProgbarLogger` are appended when asked for and
    not given, so user callbacks run first and may add entries (e.g. `learning_rate`) to
    the epoch logs that History records and the progress bar shows.

    Args:
        callbacks: the user's callbacks (or None; nested lists are flattened).
        add_history: append a `History` (which becomes `model.history`) unless given.
        add_progbar: append a `ProgbarLogger` unless given.
        model: the model; **params: loop parameters (`epochs`, `steps`, `verbose`).
    """

    def __init__(self, callbacks=None, add_history=False, add_progbar=False, model=None, **params):
        from kbridge.callbacks.history import History
        from kbridge.callbacks.progbar_logger import ProgbarLogger

        super().__init__()
        self.callbacks = _flatten(callbacks)
        for callback in self.callbacks:
            if not isinstance(callback, Callback):
                raise TypeError(
                    f"callbacks must be kbridge.callbacks.Callback instances, received {type(callback).__name__}"
                )
        if add_history and not any(isinstance(c, History) for c in self.callbacks):
            self.callbacks.append(History())
        if add_progbar and not any(isinstance(c, ProgbarLogger) for c in self.callbacks):
            self.callbacks.append(ProgbarLogger())
        if distribution.process_index() != 0:
            self.callbacks = [c for c in self.callbacks if not c._chief_only]
        self.set_params(params)
        if model is not None:
            self.set_model(model)

    def set_model(self, model):
        super().set_model(model)
        for callback in self.callbacks:
            callback.set_model(model)

    def wants_batch_logs(self, kind):
        """Whether any callback reads the logs after each `kind` ("train"/"test") batch.

        When none does, the loop keeps the step's logs on the device and converts them once
        at the end, so the host never waits for a step to finish (asynchronous dispatch).
        """
        names = ("on_train_batch_end", "on_batch_end") if kind == "train" else (f"on_{kind}_batch_end",)
        # Looked up on the instance: LambdaCallback (or a user) may set a hook as an attribute.
        return any(
            getattr(getattr(c, n), "__func__", None) is not getattr(Callback, n) for c in self.callbacks for n in names
        )

    def set_params(self, params):
        super().set_params(params)
        for callback in self.callbacks:
            callback.set_params(params)


def _flatten(callbacks):
    if callbacks is None:
        return []
    if isinstance(callbacks, (list, tuple)):
        return [c for item in callbacks for c in _flatten(item)]
    return [callbacks]


def _fan_out(name, indexed):
    # Each hook hands every callback one fresh copy of the logs (as Keras's `pythonify_logs`):
    # entries a callback adds are seen by the later callbacks, not by the loop.
    if indexed:

        def hook(self, index, logs=None):
            logs = dict(logs or {})
            for callback in self.callbacks:
                getattr(callback, name)(index, logs)

    else:

        def hook(self, logs=None):
            logs = dict(logs or {})
            for callback in self.callbacks:
                getattr(callback, name)(logs)

    hook.__name__ = name
    hook.__doc__ = f"Calls `{name}` on every callback."
    return hook


for _name in _HOOKS:
    setattr(CallbackList, _name, _fan_out(_name, indexed="batch" in _name or "epoch" in _name))
