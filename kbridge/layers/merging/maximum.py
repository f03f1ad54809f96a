"""`Maximum`: element-wise maximum of a list of inputs."""

from kbridge import ops
from kbridge.layers.merging.base_merge import Merge


class Maximum(Merge):
    """Element-wise maximum of a list of inputs.

    Args:
        **kwargs: base `Layer` arguments.
    """

    def _merge_function(self, inputs):
        output = inputs[0]
        for x in inputs[1:]:
            output = ops.maximum(output, x)
        return output


def maximum(inputs, **kwargs):
    """Functional form of `Maximum`: `maximum([x1, x2])`."""
    return Maximum(**kwargs)(inputs)
