"""`Multiply`: element-wise product of a list of inputs."""

from kbridge import ops
from kbridge.layers.merging.base_merge import Merge


class Multiply(Merge):
    """Multiplies a list of inputs of the same (or broadcastable) shape.

    Args:
        **kwargs: base `Layer` arguments.
    """

    def _merge_function(self, inputs):
        output = inputs[0]
        for x in inputs[1:]:
            output = ops.multiply(output, x)
        return output


def multiply(inputs, **kwargs):
    """Functional form of `Multiply`: `multiply([x1, x2])`."""
    return Multiply(**kwargs)(inputs)
