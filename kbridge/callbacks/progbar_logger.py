"""`ProgbarLogger`: the progress bar of fit/evaluate/predict (`verbose=1` bar, `verbose=2` a line per epoch)."""

from kbridge.callbacks.callback import Callback
from kbridge.utils.progbar import Progbar


class ProgbarLogger(Callback):
    """Prints progress with ETA and running metrics."""

    _chief_only = True

    def __init__(self):
        super().__init__()
        self.progbar = None
        self.epochs = 1
        self._called_in_fit = False

    def set_params(self, params):
        super().set_params(params)
        self.verbose = params.get("verbose", 1)
        self.epochs = params.get("epochs", 1)
        self.target = params.get("steps")

    def _start(self):
        self.progbar = Progbar(target=self.target, verbose=self.verbose)

    def on_train_begin(self, logs=None):
        # Inside `fit`, validation runs silently under the epoch's bar (as Keras).
        self._called_in_fit = True

    def on_epoch_begin(self, epoch, logs=None):
        if self.verbose and self.epochs > 1:
            print(f"Epoch {epoch + 1}/{self.epochs}")
        self._start()

    def on_train_batch_end(self, batch, logs=None):
        # Never finalized here: the epoch's line ends in on_epoch_end, with the validation logs.
        self.progbar.update(batch + 1, values=list((logs or {}).items()), finalize=False)

    def on_epoch_end(self, epoch, logs=None):
        self.progbar.update(self.progbar.seen, values=list((logs or {}).items()), finalize=True)

    def on_test_begin(self, logs=None):
        if not self._called_in_fit:
            self._start()

    def on_test_batch_end(self, batch, logs=None):
        if not self._called_in_fit and self.progbar is not None:
            self.progbar.update(batch + 1, values=list((logs or {}).items()), finalize=False)

    def on_test_end(self, logs=None):
        if not self._called_in_fit and self.progbar is not None:
            self.progbar.update(self.progbar.seen, values=list((logs or {}).items()), finalize=True)

    def on_predict_begin(self, logs=None):
        self._start()

    def on_predict_batch_end(self, batch, logs=None):
        self.progbar.update(batch + 1)

    def on_predict_end(self, logs=None):
        self.progbar.update(self.progbar.seen, finalize=True)
