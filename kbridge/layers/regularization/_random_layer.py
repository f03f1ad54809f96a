"""Shared pieces of the random regularization layers."""

from kbridge import random as kb_random
from kbridge.layers.layer import Layer
from kbridge.random.seed_generator import make_default_seed


def check_rate(layer_name, value, name="rate"):
    """Raises ValueError naming the layer unless `value` is a number in [0, 1]."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise ValueError(
            f"{layer_name}: invalid value received for argument `{name}`. Expected a float value between 0 and 1. "
            f"Received: {name}={value}"
        )
    return value


class RandomLayer(Layer):
    """A layer whose randomness comes from a `SeedGenerator` created at build (model state).

    Args:
        seed: int seed (None: drawn now from the global generator, in construction order).
        active: whether the layer draws at all (e.g. `rate > 0`).
        **kwargs: base `Layer` arguments.
    """

    def __init__(self, seed=None, active=True, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed
        self._active = active
        self._generator_seed = seed if seed is not None else make_default_seed()
        self.seed_generator = None
        self.supports_masking = True

    def build(self, input_shape=None):
        if self._active and self.seed_generator is None:
            self.seed_generator = kb_random.SeedGenerator(self._generator_seed)

    def get_build_config(self):
        """None: as in Keras 3, where these layers are built at construction."""
        return None

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)
