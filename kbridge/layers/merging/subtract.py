"""`Subtract`: `inputs[0] - inputs[1]`."""

from kbridge import ops
from kbridge.layers.merging.base_merge import Merge


class Subtract(Merge):
    """Subtracts the second of exactly two inputs from the first.

    Args:
        **kwargs: base `Layer` arguments.
    """

    def build(self, input_shape):
        super().build(input_shape)
        if len(input_shape) != 2:
            raise ValueError(f"A `Subtract` layer should be called on exactly 2 inputs. Received: input_shape={input_shape}")

    def _merge_function(self, inputs):
        if len(inputs) != 2:
            raise ValueError(f"A `Subtract` layer should be called on exactly 2 inputs. Received: inputs={inputs}")
        return ops.subtract(inputs[0], inputs[1])


def subtract(inputs, **kwargs):
    """Functional form of `Subtract`: `subtract([x1, x2])`."""
    return Subtract(**kwargs)(inputs)
