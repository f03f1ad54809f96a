"""Regularizers: callables `weight -> scalar penalty` added to the training loss."""

import math

import numpy as np

from kbridge import ops


def _validate_float(value, name):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isinf(value) or math.isnan(value) or value < 0:
        raise ValueError(f"Invalid value for argument {name}: expected a non-negative float.Received: {name}={value}")
    return float(value)


def _float32(value):
    return float(np.float32(value))


class Regularizer:
    """Base class: subclasses implement `__call__(x)` and `get_config()`."""

    def __call__(self, x):
        """Returns the penalty for tensor `x`."""
        return 0.0

    def get_config(self):
        """Returns the constructor arguments as a dict."""
        raise NotImplementedError(f"{self} does not implement get_config()")

    @classmethod
    def from_config(cls, config):
        """Creates a regularizer from `get_config()` output."""
        return cls(**config)


class L1L2(Regularizer):
    """`l1 * sum(abs(x)) + l2 * sum(square(x))`.

    Args:
        l1: L1 factor.
        l2: L2 factor.
    """

    def __init__(self, l1=0.0, l2=0.0):
        self.l1 = _validate_float(0.0 if l1 is None else l1, "l1")
        self.l2 = _validate_float(0.0 if l2 is None else l2, "l2")

    def __call__(self, x):
        penalty = ops.zeros((), dtype=ops.dtype(x))
        if self.l1:
            penalty = ops.add(penalty, ops.multiply(ops.sum(ops.abs(x)), self.l1))
        if self.l2:
            penalty = ops.add(penalty, ops.multiply(ops.sum(ops.square(x)), self.l2))
        return penalty

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}


class L1(Regularizer):
    """`l1 * sum(abs(x))`.

    Args:
        l1: the factor.
    """

    def __init__(self, l1=0.01):
        # Keras 3 keeps this factor as a float32 tensor: its config holds the rounded value.
        self.l1 = _float32(_validate_float(0.01 if l1 is None else l1, "l1"))

    def __call__(self, x):
        return ops.multiply(ops.sum(ops.abs(x)), self.l1)

    def get_config(self):
        return {"l1": self.l1}


class L2(Regularizer):
    """`l2 * sum(square(x))`.

    Args:
        l2: the factor.
    """

    def __init__(self, l2=0.01):
        self.l2 = _validate_float(0.01 if l2 is None else l2, "l2")

    def __call__(self, x):
        return ops.multiply(ops.sum(ops.square(x)), self.l2)

    def get_config(self):
        return {"l2": self.l2}


class OrthogonalRegularizer(Regularizer):
    """Penalizes non-orthogonality of the rows (or columns) of a rank-2 weight.

    The penalty is `factor * 0.5 * mean over pairs of abs(dot(u_i, u_j))` for the
    L2-normalized rows (`mode="rows"`) or columns (`mode="columns"`).

    Args:
        factor: the factor.
        mode: "rows" or "columns".
    """

    def __init__(self, factor=0.01, mode="rows"):
        self.factor = _float32(_validate_float(factor, "factor"))  # float32 in Keras 3 too
        if mode not in ("rows", "columns"):
            raise ValueError(f'Invalid value for argument `mode`. Expected one of {{"rows", "columns"}}. Received: mode={mode}')
        self.mode = mode

    def __call__(self, inputs):
        shape = ops.shape(inputs)
        if len(shape) != 2:
            raise ValueError(f"Inputs to OrthogonalRegularizer must have rank 2. Received: inputs.shape={tuple(shape)}")
        axis = 1 if self.mode == "rows" else 0
        size = shape[0] if self.mode == "rows" else shape[1]
        unit = ops.normalize(inputs, axis=axis, order=2)
        product = ops.matmul(unit, ops.transpose(unit)) if self.mode == "rows" else ops.matmul(ops.transpose(unit), unit)
        off_diagonal = ops.multiply(product, ops.subtract(1.0, ops.eye(size, dtype=ops.dtype(inputs))))
        num_pairs = size * (size - 1.0) / 2.0
        return ops.multiply(ops.sum(ops.abs(off_diagonal)), self.factor * 0.5 / num_pairs)

    def get_config(self):
        return {"factor": self.factor, "mode": self.mode}
