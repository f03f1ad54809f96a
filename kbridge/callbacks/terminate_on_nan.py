"""`TerminateOnNaN`: stops training when the loss becomes NaN or infinite."""

import math

from kbridge.callbacks.callback import Callback


class TerminateOnNaN(Callback):
    """Stops `fit` after the first batch whose loss is NaN or inf, saying which batch it was.

    Args:
        raise_error: raise a `RuntimeError` instead of stopping gracefully.
    """

    def __init__(self, raise_error=False):
        super().__init__()
        self.raise_error = raise_error

    def on_batch_end(self, batch, logs=None):
        """Checks `logs["loss"]` (reached through `on_train_batch_end`)."""
        loss = (logs or {}).get("loss")
        if loss is None:
            return
        loss = float(loss)
        if math.isnan(loss) or math.isinf(loss):
            if self.raise_error:
                raise RuntimeError(
                    f"NaN or Inf loss encountered at batch {batch}. Loss value: {loss}. Terminating training immediately."
                )
            print(f"Batch {batch}: Invalid loss, terminating training")
            self.model.stop_training = True
