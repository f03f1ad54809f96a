"""`Average`: element-wise mean of a list of inputs."""

from kbridge import ops
from kbridge.layers.merging.base_merge import Merge


class Average(Merge):
    """Averages a list of inputs of the same (or broadcastable) shape.

    Args:
        **kwargs: base `Layer` arguments.
    """

    def _merge_function(self, inputs):
        output = inputs[0]
        for x in inputs[1:]:
            output = ops.add(output, x)
        return ops.divide(output, float(len(inputs)))


def average(inputs, **kwargs):
    """Functional form of `Average`: `average([x1, x2])`."""
    return Average(**kwargs)(inputs)
