"""`GaussianNoise` and `GaussianDropout`: additive / multiplicative Gaussian noise while training."""

import math

from kbridge import ops
from kbridge import random as kb_random
from kbridge.layers._base import layer_config
from kbridge.layers.regularization._random_layer import RandomLayer, check_rate


class GaussianNoise(RandomLayer):
    """Adds zero-mean Gaussian noise of `stddev` when called with `training=True`.

    Args:
        stddev: float in [0, 1], the noise's standard deviation.
        seed: int seed of the generator.
        **kwargs: base `Layer` arguments.
    """

    def __init__(self, stddev, seed=None, **kwargs):
        check_rate("GaussianNoise", stddev, "stddev")
        super().__init__(seed=seed, active=stddev > 0, **kwargs)
        self.stddev = stddev

    def call(self, inputs, training=False):
        if training and self.stddev > 0:
            noise = kb_random.normal(
                ops.shape(inputs), mean=0.0, stddev=self.stddev, dtype=ops.dtype(inputs), seed=self.seed_generator
            )
            return ops.add(inputs, noise)
        return inputs

    def get_config(self):
        return layer_config(self, stddev=self.stddev, seed=self.seed)


class GaussianDropout(RandomLayer):
    """Multiplies by Gaussian noise of mean 1 and stddev `sqrt(rate / (1 - rate))` while training.

    Args:
        rate: float in [0, 1), the equivalent drop probability.
        seed: int seed of the generator.
        **kwargs: base `Layer` arguments.
    """

    def __init__(self, rate, seed=None, **kwargs):
        check_rate("GaussianDropout", rate)
        if rate >= 1:
            raise ValueError(
                f"GaussianDropout: `rate` must be below 1 (the noise's stddev is infinite). Received: rate={rate}"
            )
        super().__init__(seed=seed, active=rate > 0, **kwargs)
        self.rate = rate

    def call(self, inputs, training=False):
        if training and self.rate > 0:
            stddev = math.sqrt(self.rate / (1.0 - self.rate))
            noise = kb_random.normal(
                ops.shape(inputs), mean=1.0, stddev=stddev, dtype=ops.dtype(inputs), seed=self.seed_generator
            )
            return ops.multiply(inputs, noise)
        return inputs

    def get_config(self):
        return layer_config(self, rate=self.rate, seed=self.seed)
