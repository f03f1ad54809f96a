"""`UnitNormalization`: scales each sample to unit L2 norm over `axis`."""

from kbridge import ops
from kbridge.layers._base import layer_config
from kbridge.layers.layer import Layer


class UnitNormalization(Layer):
    """Divides the inputs by their L2 norm over `axis` (norms below 1e-12 count as 1e-12).

    Args:
        axis: int or list of ints, the axes the norm is taken over.
        **kwargs: base `Layer` arguments.
    """

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        if isinstance(axis, (list, tuple)):
            self.axis = list(axis)
        elif isinstance(axis, int) and not isinstance(axis, bool):
            self.axis = axis
        else:
            raise TypeError(
                "UnitNormalization: invalid value for `axis` argument: expected an int or a list/tuple of ints. "
                f"Received: axis={axis}"
            )
        self.supports_masking = True
        self.built = True

    def call(self, inputs):
        axis = tuple(self.axis) if isinstance(self.axis, list) else self.axis
        return ops.normalize(inputs, axis=axis, order=2, epsilon=1e-12)

    def compute_output_shape(self, input_shape):
        for axis in self.axis if isinstance(self.axis, list) else [self.axis]:
            if not -len(input_shape) <= axis < len(input_shape):
                raise ValueError(f"Axis {self.axis} is out of bounds for input shape {tuple(input_shape)}.")
        return tuple(input_shape)

    def get_config(self):
        return layer_config(self, axis=self.axis)
