"""`MonitorCallback`: the shared "is this value an improvement?" logic of the monitoring callbacks."""

import operator
import warnings

from kbridge.callbacks.callback import Callback


class MonitorCallback(Callback):
    """Base of callbacks that watch one logged quantity (Keras 3 `MonitorCallback`).

    Args:
        monitor: the logs key, e.g. "val_loss" or "accuracy".
        mode: "min", "max", or "auto" (losses are minimized; other metrics follow their
            `_direction`, and an unknown direction raises at the first epoch end).
        baseline: the initial best value (None: any first value improves).
        min_delta: the smallest change that counts as an improvement.
    """

    def __init__(self, monitor="val_loss", mode="auto", baseline=None, min_delta=0):
        super().__init__()
        if mode not in ("auto", "min", "max"):
            warnings.warn(f"{type(self).__name__} mode '{mode}' is unknown, fallback to auto mode.", stacklevel=2)
            mode = "auto"
        self.monitor = monitor
        self.mode = mode
        self.best = baseline
        self.min_delta = abs(min_delta)
        self.monitor_op = None

    def _set_monitor_op(self):
        if self.mode == "min":
            self.monitor_op = operator.lt
        elif self.mode == "max":
            self.monitor_op = operator.gt
        else:
            name = self.monitor.removeprefix("val_")
            if name == "loss":
                self.monitor_op = operator.lt
            for metric in _all_metrics(self.model):
                direction = getattr(metric, "_direction", None)
                if metric.name == name and direction in ("up", "down"):
                    self.monitor_op = operator.gt if direction == "up" else operator.lt
            if self.monitor_op is None:
                raise ValueError(
                    f"{type(self).__name__} callback received monitor={self.monitor}, but kbridge isn't able to "
                    "automatically determine whether that metric should be maximized or minimized. Pass "
                    "`mode='max'` in order to monitor based on the highest metric value, or pass `mode='min'` "
                    "in order to use the lowest value."
                )
        if self.monitor_op is operator.lt:
            self.min_delta *= -1

    def _is_improvement(self, monitor_value, reference_value):
        if reference_value is None:
            return True
        return self.monitor_op(monitor_value - self.min_delta, reference_value)


def _all_metrics(model):
    found = []
    for metric in getattr(model, "metrics", None) or []:
        found.append(metric)
        found.extend(getattr(metric, "metrics", None) or [])  # metric containers
    return found
