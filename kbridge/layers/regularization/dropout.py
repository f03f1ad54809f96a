"""`Dropout`: zeroes a random fraction of the inputs while training."""

from kbridge import ops
from kbridge import random as kb_random
from kbridge.layers._base import layer_config, spec_like_input
from kbridge.layers.layer import Layer
from kbridge.random.seed_generator import make_default_seed


class Dropout(Layer):
    """Sets inputs to 0 with probability `rate` and scales the rest by `1 / (1 - rate)`.

    Active only when called with `training=True`. The randomness comes from the
    `seed_generator` attribute (a `SeedGenerator`, created at build), which is model
    state: a given state yields the same mask on every backend, and `stateless_call`
    returns the advanced state.

    Args:
        rate: float in [0, 1], the fraction to drop.
        noise_shape: optional shape of the binary mask, broadcast over the
            inputs (None entries take the input's size).
        seed: int seed of the generator (None: drawn from the global generator).
        **kwargs: base `Layer` arguments.
    """

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate <= 1:
            raise ValueError(
                f"Invalid value received for argument `rate`. Expected a float value between 0 and 1. Received: rate={rate}"
            )
        self.rate = rate
        self.seed = seed
        self.noise_shape = _validate_noise_shape(noise_shape)
        # The generator's state is a variable, created at build time like other layers'
        # weights, so it lands on the backend of the first inputs. An unseeded layer
        # still draws its seed now, in construction order (as Keras 3).
        self._generator_seed = seed if seed is not None else make_default_seed()
        self.seed_generator = None
        self.supports_masking = True

    def build(self, input_shape=None):
        if self.rate > 0 and self.seed_generator is None:
            self.seed_generator = kb_random.SeedGenerator(self._generator_seed)

    def get_build_config(self):
        """None: as in Keras 3, where Dropout is built at construction."""
        return None

    def call(self, inputs, training=False):
        if training and self.rate > 0:
            noise_shape = self.noise_shape
            if noise_shape is not None and None in noise_shape:
                shape = ops.shape(inputs)
                noise_shape = tuple(shape[i] if d is None else d for i, d in enumerate(noise_shape))
            return kb_random.dropout(inputs, self.rate, noise_shape=noise_shape, seed=self.seed_generator)
        return inputs

    def compute_output_shape(self, input_shape):
        return input_shape

    def compute_output_spec(self, inputs, training=False, **kwargs):
        return spec_like_input(self, inputs)

    def get_config(self):
        return layer_config(self, rate=self.rate, seed=self.seed, noise_shape=self.noise_shape)


def _validate_noise_shape(noise_shape):
    if noise_shape is None:
        return None
    message = "Invalid value received for argument `noise_shape`. "
    if isinstance(noise_shape, str):
        raise ValueError(f"{message}Expected a tuple or list of integers. Received: noise_shape={noise_shape}")
    try:
        noise_shape = tuple(noise_shape)
    except TypeError:
        raise ValueError(f"{message}Expected an iterable of integers. Received: noise_shape={noise_shape}") from None
    for index, dim in enumerate(noise_shape):
        if dim is not None and (isinstance(dim, bool) or not isinstance(dim, int) or dim <= 0):
            raise ValueError(
                f"{message}Expected all dimensions to be positive integers or None. "
                f"Received {dim!r} at index {index}."
            )
    return noise_shape
