"""`Masking`: masks timesteps whose features all equal `mask_value`."""

from kbridge import ops
from kbridge.layers._base import layer_config
from kbridge.layers.layer import Layer


class Masking(Layer):
    """Marks timesteps where every feature equals `mask_value` as skipped, and zeroes them.

    The mask (`(batch, timesteps)`, True where a step is kept) reaches the following
    layers that support masking (e.g. `LSTM`) through `compute_mask`.

    Args:
        mask_value: the padding value (default 0.0).
        **kwargs: base `Layer` arguments.
    """

    def __init__(self, mask_value=0.0, **kwargs):
        super().__init__(**kwargs)
        if isinstance(mask_value, dict) and mask_value.get("config", None):
            from kbridge.saving import serialization_lib

            mask_value = serialization_lib.deserialize_keras_object(mask_value)
        self.mask_value = mask_value
        self.supports_masking = True

    def compute_mask(self, inputs, mask=None):
        """True where some feature of the timestep differs from `mask_value`."""
        return ops.any(ops.not_equal(inputs, self.mask_value), axis=-1)

    def call(self, inputs):
        keep = ops.any(ops.not_equal(inputs, self.mask_value), axis=-1, keepdims=True)
        return ops.where(keep, inputs, ops.zeros_like(inputs))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return layer_config(self, mask_value=self.mask_value)
