"""`KerasTensor`: a symbolic tensor (shape and dtype, no values) used to build Functional models."""

from kbridge.backend.dtypes import standardize_dtype
from kbridge.backend.operators import TensorOperators


class KerasTensor(TensorOperators):
    """A symbolic tensor: shape (None for unknown sizes), dtype, and the layer call that made it.

    Args:
        shape: tuple of ints or None.
        dtype: dtype name (default float32).
        sparse: accepted for Keras compatibility.
        name: optional name.
    """

    def __init__(self, shape, dtype="float32", sparse=False, ragged=False, name=None):
        self.shape = tuple(None if d is None else int(d) for d in shape)
        self.dtype = standardize_dtype(dtype)
        self.sparse = bool(sparse)
        self.ragged = bool(ragged)
        self.name = name
        # (layer, node_index, tensor_index) of the call that produced this tensor.
        self._keras_history = None

    @property
    def ndim(self):
        """The rank."""
        return len(self.shape)

    def _as_operand(self):
        return self

    def reshape(self, newshape):
        """Symbolic `ops.reshape`."""
        from kbridge import ops

        return ops.reshape(self, newshape)

    def __repr__(self):
        name = f", name={self.name}" if self.name else ""
        return f"<KerasTensor shape={self.shape}, dtype={self.dtype}{name}>"

    __hash__ = object.__hash__

    def __eq__(self, other):
        return self is other

    def __bool__(self):
        raise TypeError("A symbolic KerasTensor has no truth value; use ops.cond or ops.where on concrete tensors.")

    def __iter__(self):
        raise TypeError("A symbolic KerasTensor cannot be iterated over; use ops.unstack or slicing.")

    def __array__(self, dtype=None, copy=None):
        raise TypeError(
            "A symbolic KerasTensor has no values: it is an input to a Functional model, not an array. "
            "Call the model on real data instead."
        )


def is_keras_tensor(value):
    """Whether `value` is a symbolic KerasTensor."""
    return isinstance(value, KerasTensor)
