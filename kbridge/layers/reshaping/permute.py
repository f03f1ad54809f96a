"""`Permute`: reorders the non-batch axes."""

from kbridge import ops
from kbridge.layers._base import check_build_shape, layer_config, spec_like_input
from kbridge.layers.input_spec import InputSpec
from kbridge.layers.layer import Layer


class Permute(Layer):
    """Permutes the non-batch axes: `dims=(2, 1)` swaps axes 1 and 2.

    Args:
        dims: a permutation of `1..rank-1` (axis 0, the batch, stays first).
        **kwargs: base `Layer` arguments.
    """

    def __init__(self, dims, **kwargs):
        super().__init__(**kwargs)
        self.dims = tuple(dims)
        if sorted(self.dims) != list(range(1, len(self.dims) + 1)):
            raise ValueError(
                "Invalid permutation argument `dims` for Permute Layer. The set of indices in `dims` must be "
                f"consecutive and start from 1. Received dims={dims}"
            )
        self.input_spec = InputSpec(ndim=len(self.dims) + 1)

    def build(self, input_shape):
        # A build step (even an empty one) gives Keras's `build_config` in saved models.
        check_build_shape(self, input_shape)

    def call(self, inputs):
        return ops.transpose(inputs, (0,) + self.dims)

    def compute_output_shape(self, input_shape):
        return (input_shape[0],) + tuple(input_shape[d] for d in self.dims)

    def compute_output_spec(self, inputs, **kwargs):
        return spec_like_input(self, inputs)

    def get_config(self):
        return layer_config(self, dims=self.dims)
