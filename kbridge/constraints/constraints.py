"""Weight constraints: callables `weight -> projected weight`."""

from kbridge import config, ops


class Constraint:
    """Base class: subclasses implement `__call__(w)` and `get_config()`."""

    def __call__(self, w):
        """Returns the projection of `w`."""
        return w

    def get_config(self):
        """Returns the constructor arguments as a dict."""
        return {}

    @classmethod
    def from_config(cls, config):
        """Creates a constraint from `get_config()` output."""
        return cls(**config)


def _norms(w, axis):
    axis = tuple(axis) if isinstance(axis, list) else axis
    return ops.sqrt(ops.sum(ops.square(w), axis=axis, keepdims=True))


class MaxNorm(Constraint):
    """Rescales weight vectors along `axis` to norm at most `max_value`.

    Args:
        max_value: the largest norm allowed.
        axis: axis (or axes) the norms are taken over; 0 for a Dense kernel's columns.
    """

    def __init__(self, max_value=2, axis=0):
        self.max_value = max_value
        self.axis = axis

    def __call__(self, w):
        norms = _norms(w, self.axis)
        desired = ops.clip(norms, 0.0, float(self.max_value))
        return ops.multiply(w, ops.divide(desired, ops.add(norms, config.epsilon())))

    def get_config(self):
        return {"max_value": self.max_value, "axis": self.axis}


class NonNeg(Constraint):
    """Clips weights at 0 from below."""

    def __call__(self, w):
        return ops.maximum(w, 0.0)


class UnitNorm(Constraint):
    """Rescales weight vectors along `axis` to unit norm.

    Args:
        axis: axis (or axes) the norms are taken over.
    """

    def __init__(self, axis=0):
        self.axis = axis

    def __call__(self, w):
        return ops.divide(w, ops.add(_norms(w, self.axis), config.epsilon()))

    def get_config(self):
        return {"axis": self.axis}


class MinMaxNorm(Constraint):
    """Moves weight-vector norms into `[min_value, max_value]` at `rate`.

    Args:
        min_value: the smallest norm.
        max_value: the largest norm.
        rate: 1.0 projects fully; smaller values move part of the way each step.
        axis: axis (or axes) the norms are taken over.
    """

    def __init__(self, min_value=0.0, max_value=1.0, rate=1.0, axis=0):
        self.min_value = min_value
        self.max_value = max_value
        self.rate = rate
        self.axis = axis

    def __call__(self, w):
        norms = _norms(w, self.axis)
        clipped = ops.clip(norms, float(self.min_value), float(self.max_value))
        desired = ops.add(ops.multiply(clipped, self.rate), ops.multiply(norms, 1.0 - self.rate))
        return ops.multiply(w, ops.divide(desired, ops.add(norms, config.epsilon())))

    def get_config(self):
        return {"min_value": self.min_value, "max_value": self.max_value, "rate": self.rate, "axis": self.axis}
