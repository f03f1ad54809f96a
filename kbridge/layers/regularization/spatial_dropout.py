"""`SpatialDropout1D/2D/3D`: drop whole feature maps instead of single entries."""

from kbridge import ops
from kbridge import random as kb_random
from kbridge.layers._base import check_build_shape, standardize_data_format
from kbridge.layers.input_spec import InputSpec
from kbridge.layers.regularization.dropout import Dropout


class _SpatialDropout(Dropout):
    """Dropout whose mask is shared over the spatial axes (one draw per sample and channel)."""

    _RANK = None

    def __init__(self, rate, seed=None, name=None, dtype=None):
        try:
            super().__init__(rate, seed=seed, name=name, dtype=dtype)
        except ValueError as error:
            raise ValueError(f"{type(self).__name__}: {error}") from None
        self.input_spec = InputSpec(ndim=self._RANK + 2)

    def build(self, input_shape=None):
        check_build_shape(self, input_shape)
        super().build(input_shape)

    def _noise_shape(self, shape):
        ones = (1,) * self._RANK
        if getattr(self, "data_format", "channels_last") == "channels_first":
            return (shape[0], shape[1]) + ones
        return (shape[0],) + ones + (shape[-1],)

    def call(self, inputs, training=False):
        if training and self.rate > 0:
            noise_shape = self._noise_shape(ops.shape(inputs))
            return kb_random.dropout(inputs, self.rate, noise_shape=noise_shape, seed=self.seed_generator)
        return inputs

    def get_config(self):
        return {"rate": self.rate, "seed": self.seed, "name": self.name, "dtype": self.dtype}


class SpatialDropout1D(_SpatialDropout):
    """Drops whole channels of `(batch, steps, channels)` inputs while training.

    Args:
        rate: float in [0, 1], the fraction of channels to drop.
        seed: int seed of the generator.
        name, dtype: base `Layer` arguments.
    """

    _RANK = 1


class _SpatialDropoutND(_SpatialDropout):
    def __init__(self, rate, data_format=None, seed=None, name=None, dtype=None):
        super().__init__(rate, seed=seed, name=name, dtype=dtype)
        self.data_format = standardize_data_format(data_format)

    def get_config(self):
        config = super().get_config()
        config["data_format"] = self.data_format
        return config


class SpatialDropout2D(_SpatialDropoutND):
    """Drops whole 2D feature maps of 4D inputs while training.

    Args:
        rate: float in [0, 1], the fraction of channels to drop.
        data_format: "channels_last" or "channels_first" (None: the global default).
        seed: int seed of the generator.
        name, dtype: base `Layer` arguments.
    """

    _RANK = 2


class SpatialDropout3D(_SpatialDropoutND):
    """Drops whole 3D feature maps of 5D inputs while training.

    Args:
        rate: float in [0, 1], the fraction of channels to drop.
        data_format: "channels_last" or "channels_first" (None: the global default).
        seed: int seed of the generator.
        name, dtype: base `Layer` arguments.
    """

    _RANK = 3
