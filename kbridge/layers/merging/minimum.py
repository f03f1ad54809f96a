"""`Minimum`: element-wise minimum of a list of inputs."""

from kbridge import ops
from kbridge.layers.merging.base_merge import Merge


class Minimum(Merge):
    """Element-wise minimum of a list of inputs.

    Args:
        **kwargs: base `Layer` arguments.
    """

    def _merge_function(self, inputs):
        output = inputs[0]
        for x in inputs[1:]:
            output = ops.minimum(output, x)
        return output


def minimum(inputs, **kwargs):
    """Functional form of `Minimum`: `minimum([x1, x2])`."""
    return Minimum(**kwargs)(inputs)
