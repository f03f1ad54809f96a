"""`Progbar`: a text progress bar with ETA and running metric values."""

import sys
import time


class Progbar:
    """Displays `step/target [=====>....] - ETA: 3s - loss: 0.1234`.

    Args:
        target: total steps, or None if unknown.
        width: bar width in characters.
        verbose: 1 redraws one line in place; 2 prints one line when finalized; 0 prints nothing.
        interval: minimum seconds between redraws.
    """

    def __init__(self, target, width=30, verbose=1, interval=0.05):
        self.target = target
        self.width = width
        self.verbose = verbose
        self.interval = interval
        self.seen = 0
        self._values = {}
        self._start = time.time()
        self._last_draw = 0.0

    def update(self, current, values=None, finalize=None):
        """Moves to step `current`; `values` are (name, value) pairs shown as given (running means)."""
        for name, value in values or []:
            self._values[name] = value
        self.seen = current
        if finalize is None:
            finalize = self.target is not None and current >= self.target
        now = time.time()
        if self.verbose == 0 or (self.verbose == 2 and not finalize):
            return
        if not finalize and now - self._last_draw < self.interval:
            return
        self._last_draw = now
        elapsed = now - self._start
        metrics = " - ".join(f"{name}: {_format(value)}" for name, value in self._values.items())
        if self.target:
            done = int(self.width * min(current, self.target) / self.target)
            bar = "=" * max(done - 1, 0) + (">" if done < self.width else "=") + "." * (self.width - done)
            head = f"{current}/{self.target} [{bar}]"
        else:
            head = f"{current}/Unknown"
        if finalize:
            per_step = elapsed / max(current, 1)
            timing = f"{elapsed:.0f}s {per_step * 1000:.0f}ms/step"
        else:
            eta = elapsed / max(current, 1) * ((self.target or current) - current)
            timing = f"ETA: {eta:.0f}s"
        line = f"{head} - {timing}" + (f" - {metrics}" if metrics else "")
        if self.verbose == 1:
            sys.stdout.write("\r" + line + ("\n" if finalize else ""))
        else:
            sys.stdout.write(line + "\n")
        sys.stdout.flush()


def _format(value):
    return f"{value:.4f}" if abs(value) >= 1e-3 or value == 0 else f"{value:.4e}"
