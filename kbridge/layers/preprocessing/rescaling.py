"""`Rescaling`: `inputs * scale + offset`."""

import numpy as np

from kbridge import config as kb_config
from kbridge import ops
from kbridge.layers._base import layer_config
from kbridge.layers.layer import Layer


class Rescaling(Layer):
    """Computes `inputs * scale + offset` in the compute dtype (e.g. `scale=1/255` for images).

    Args:
        scale: float, or a per-channel list/array.
        offset: float, or a per-channel list/array.
        **kwargs: base `Layer` arguments.
    """

    def __init__(self, scale, offset=0.0, **kwargs):
        super().__init__(**kwargs)
        self.scale = scale
        self.offset = offset
        self.supports_masking = True

    def build(self, input_shape):
        # Nothing to create; the step records the input shape (Keras's `build_config`).
        pass

    def call(self, inputs):
        dtype = self.compute_dtype
        scale = ops.convert_to_tensor(self.scale, dtype=dtype)
        offset = ops.convert_to_tensor(self.offset, dtype=dtype)
        scale_rank = np.ndim(self.scale)
        if scale_rank > 0 and kb_config.image_data_format() == "channels_first":
            scale = ops.reshape(scale, tuple(np.shape(self.scale)) + (1,) * (3 - scale_rank))
        return ops.add(ops.multiply(ops.cast(inputs, dtype), scale), offset)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return layer_config(self, scale=_plain(self.scale), offset=_plain(self.offset))


def _plain(value):
    return value.tolist() if isinstance(value, np.ndarray) else value
