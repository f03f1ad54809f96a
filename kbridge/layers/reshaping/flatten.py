"""`Flatten`: collapses all non-batch axes into one."""

import math

from kbridge import ops
from kbridge.layers._base import check_build_shape, layer_config, spec_like_input, standardize_data_format
from kbridge.layers.input_spec import InputSpec
from kbridge.layers.layer import Layer


class Flatten(Layer):
    """Reshapes `(batch, d1, d2, ...)` to `(batch, d1 * d2 * ...)`; `(batch,)` becomes `(batch, 1)`.

    Args:
        data_format: "channels_last" or "channels_first" (channels are moved last
            before flattening, so the order matches channels_last); None means
            `kbridge.config.image_data_format()`.
        **kwargs: base `Layer` arguments.
    """

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = standardize_data_format(data_format)
        self.input_spec = InputSpec(min_ndim=1)
        self._channels_first = self.data_format == "channels_first"

    def build(self, input_shape):
        # A build step (even an empty one) gives Keras's `build_config` in saved models.
        check_build_shape(self, input_shape)

    def call(self, inputs):
        shape = ops.shape(inputs)
        rank = len(shape)
        if self._channels_first and rank > 1:
            inputs = ops.transpose(inputs, (0, *range(2, rank), 1))
        rest = shape[1:]
        if not rest:
            size = 1
        elif all(isinstance(d, int) for d in rest):
            size = math.prod(rest)
        else:
            size = -1
        return ops.reshape(inputs, (shape[0], size))

    def compute_output_shape(self, input_shape):
        rest = tuple(input_shape[1:])
        if not rest:
            size = 1
        elif any(d is None for d in rest):
            size = None
        else:
            size = math.prod(rest)
        return (input_shape[0], size)

    def compute_output_spec(self, inputs, **kwargs):
        return spec_like_input(self, inputs)

    def get_config(self):
        return layer_config(self, data_format=self.data_format)
