"""`Add`: element-wise sum of a list of inputs."""

from kbridge import ops
from kbridge.layers.merging.base_merge import Merge


class Add(Merge):
    """Adds a list of inputs of the same (or broadcastable) shape.

    Args:
        **kwargs: base `Layer` arguments.
    """

    def _merge_function(self, inputs):
        output = inputs[0]
        for x in inputs[1:]:
            output = ops.add(output, x)
        return output


def add(inputs, **kwargs):
    """Functional form of `Add`: `add([x1, x2])`."""
    return Add(**kwargs)(inputs)
