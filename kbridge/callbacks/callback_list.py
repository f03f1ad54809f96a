"""`CallbackList`: fans each hook out to the callbacks, adding History and the progress bar."""

from kbridge.callbacks.callback import Callback

_HOOKS = (
    "on_train_begin", "on_train_end", "on_epoch_begin", "on_epoch_end",
    "on_train_batch_begin", "on_train_batch_end", "on_test_begin", "on_test_end",
    "on_test_batch_begin", "on_test_batch_end", "on_predict_begin", "on_predict_end",
    "on_predict_batch_begin", "on_predict_batch_end",
)  # fmt: skip


class CallbackList(Callback):
    """A list of callbacks called in order.

    Args:
        callbacks: the user's callbacks (or None).
        add_history: append a `History` (which becomes `model.history`) unless given.
        add_progbar: append a `ProgbarLogger` unless given.
        model: the model; **params: loop parameters (`epochs`, `steps`, `verbose`).
    """

    def __init__(self, callbacks=None, add_history=False, add_progbar=False, model=None, **params):
        from kbridge.callbacks.history import History
        from kbridge.callbacks.progbar_logger import ProgbarLogger

        super().__init__()
        self.callbacks = list(callbacks or [])
        for callback in self.callbacks:
            if not isinstance(callback, Callback):
                raise TypeError(
                    f"callbacks must be kbridge.callbacks.Callback instances, received {type(callback).__name__}"
                )
        if add_progbar and not any(isinstance(c, ProgbarLogger) for c in self.callbacks):
            self.callbacks.append(ProgbarLogger())
        if add_history and not any(isinstance(c, History) for c in self.callbacks):
            self.callbacks.append(History())
        self.set_params(params)
        if model is not None:
            self.set_model(model)

    def set_model(self, model):
        super().set_model(model)
        for callback in self.callbacks:
            callback.set_model(model)

    def set_params(self, params):
        super().set_params(params)
        for callback in self.callbacks:
            callback.set_params(params)

    def on_train_batch_begin(self, batch, logs=None):
        for callback in self.callbacks:
            callback.on_train_batch_begin(batch, logs)
            callback.on_batch_begin(batch, logs)

    def on_train_batch_end(self, batch, logs=None):
        for callback in self.callbacks:
            callback.on_train_batch_end(batch, logs)
            callback.on_batch_end(batch, logs)


def _fan_out(name):
    def hook(self, *args, **kwargs):
        for callback in self.callbacks:
            getattr(callback, name)(*args, **kwargs)

    hook.__name__ = name
    return hook


for _name in _HOOKS:
    if _name not in CallbackList.__dict__:
        setattr(CallbackList, _name, _fan_out(_name))
