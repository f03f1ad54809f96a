"""`AlphaDropout`: dropout that keeps SELU's self-normalizing mean and variance."""

from kbridge import ops
from kbridge import random as kb_random
from kbridge.layers._base import layer_config
from kbridge.layers.regularization._random_layer import RandomLayer, check_rate
from kbridge.layers.regularization.dropout import _validate_noise_shape

_ALPHA = 1.6732632423543772848170429916717
_SCALE = 1.0507009873554804934193349852946


class AlphaDropout(RandomLayer):
    """Sets dropped inputs to SELU's negative saturation, then applies the affine fix of mean/variance.

    Active only with `training=True`.

    Args:
        rate: float in [0, 1], the drop probability.
        noise_shape: optional shape of the keep mask (None entries take the input's size).
        seed: int seed of the generator.
        **kwargs: base `Layer` arguments.
    """

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        check_rate("AlphaDropout", rate)
        super().__init__(seed=seed, active=rate > 0, **kwargs)
        self.rate = rate
        self.noise_shape = _validate_noise_shape(noise_shape)

    def call(self, inputs, training=False):
        if not (training and self.rate > 0):
            return inputs
        shape = ops.shape(inputs)
        noise_shape = shape if self.noise_shape is None else tuple(
            shape[i] if d is None else d for i, d in enumerate(self.noise_shape)
        )
        alpha_p = -_ALPHA * _SCALE
        kept = ops.greater_equal(kb_random.uniform(noise_shape, seed=self.seed_generator), self.rate)
        kept = ops.cast(kept, ops.dtype(inputs))
        a = ((1 - self.rate) * (1 + self.rate * alpha_p**2)) ** -0.5
        b = -a * alpha_p * self.rate
        x = ops.add(ops.multiply(inputs, kept), ops.multiply(ops.subtract(1.0, kept), alpha_p))
        return ops.add(ops.multiply(x, a), b)

    def get_config(self):
        return layer_config(self, rate=self.rate, seed=self.seed, noise_shape=self.noise_shape)
