"""`Callback`: hooks the training loops call (Keras 3 names and order)."""


class Callback:
    """Base class: override any `on_*` hook. `self.model` and `self.params` are set by the loop."""

    # Callbacks that only report or write files run on process 0 alone when several
    # processes train together (see `kbridge.distribution.process_index`).
    _chief_only = False

    def __init__(self):
        self.model = None
        self.params = {}

    def set_model(self, model):
        """Gives the callback the model being trained."""
        self.model = model

    def set_params(self, params):
        """Gives the callback the loop's parameters (epochs, steps, verbose)."""
        self.params = params

    def on_train_begin(self, logs=None):
        """Called once at the start of `fit`."""

    def on_train_end(self, logs=None):
        """Called once at the end of `fit`."""

    def on_epoch_begin(self, epoch, logs=None):
        """Called at the start of each epoch."""

    def on_epoch_end(self, epoch, logs=None):
        """Called at the end of each epoch with the epoch's (and validation) logs."""

    def on_train_batch_begin(self, batch, logs=None):
        """Called before each training batch (by default calls `on_batch_begin`, as Keras)."""
        self.on_batch_begin(batch, logs=logs)

    def on_train_batch_end(self, batch, logs=None):
        """Called after each training batch with the running logs (by default calls `on_batch_end`)."""
        self.on_batch_end(batch, logs=logs)

    def on_test_begin(self, logs=None):
        """Called at the start of `evaluate` (and of validation)."""

    def on_test_end(self, logs=None):
        """Called at the end of `evaluate`."""

    def on_test_batch_begin(self, batch, logs=None):
        """Called before each evaluation batch."""

    def on_test_batch_end(self, batch, logs=None):
        """Called after each evaluation batch."""

    def on_predict_begin(self, logs=None):
        """Called at the start of `predict`."""

    def on_predict_end(self, logs=None):
        """Called at the end of `predict`."""

    def on_predict_batch_begin(self, batch, logs=None):
        """Called before each prediction batch."""

    def on_predict_batch_end(self, batch, logs=None):
        """Called after each prediction batch."""

    # Keras 2 names, reached through the default `on_train_batch_*` (as in Keras 3).
    def on_batch_begin(self, batch, logs=None):
        """Alias of `on_train_batch_begin`."""

    def on_batch_end(self, batch, logs=None):
        """Alias of `on_train_batch_end`."""
