"""`LearningRateScheduler`: sets the optimizer's learning rate at the start of each epoch."""

import numpy as np

from kbridge.callbacks.callback import Callback


def current_learning_rate(optimizer):
    """The optimizer's learning rate as a Python float."""
    if not hasattr(optimizer, "learning_rate"):
        raise ValueError('Optimizer must have a "learning_rate" attribute.')
    return float(np.asarray(optimizer.learning_rate))


class LearningRateScheduler(Callback):
    """Calls `schedule(epoch, lr)` (or `schedule(epoch)`) before each epoch and sets the result.

    Args:
        schedule: a function of the 0-based epoch index and the current rate (float),
            returning the new rate as a float.
        verbose: 1 prints the rate set.

    Example:
        >>> def schedule(epoch, lr):
        ...     return lr if epoch < 10 else lr * 0.9
        >>> model.fit(x, y, epochs=15, callbacks=[kbridge.callbacks.LearningRateScheduler(schedule)])
    """

    def __init__(self, schedule, verbose=0):
        super().__init__()
        self.schedule = schedule
        self.verbose = verbose

    def _update_optimizer_lr(self, optimizer, epoch):
        learning_rate = current_learning_rate(optimizer)
        try:
            learning_rate = self.schedule(epoch, learning_rate)
        except TypeError:  # the one-argument form `schedule(epoch)`
            learning_rate = self.schedule(epoch)
        if not isinstance(learning_rate, (float, np.float32, np.float64)):
            raise ValueError(f"The output of the `schedule` function should be a float. Got: {learning_rate}")
        optimizer.learning_rate = learning_rate
        return learning_rate

    def on_epoch_begin(self, epoch, logs=None):
        learning_rate = self._update_optimizer_lr(self.model.optimizer, epoch)
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to {learning_rate}.")

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = current_learning_rate(self.model.optimizer)
