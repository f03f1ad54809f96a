"""`History`: records the epoch logs; `fit` returns it (also as `model.history`)."""

from kbridge.callbacks.callback import Callback


class History(Callback):
    """Collects `history[metric_name] -> list of per-epoch values` and `epoch`."""

    def __init__(self):
        super().__init__()
        self.history = {}
        self.epoch = []

    def on_train_begin(self, logs=None):
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for name, value in (logs or {}).items():
            self.history.setdefault(name, []).append(value)

    def set_model(self, model):
        super().set_model(model)
        model.history = self
