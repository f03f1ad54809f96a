"""`RandomContrast`: scales each image's deviation from its mean by a random factor while training."""

from kbridge import ops
from kbridge import random as kb_random
from kbridge.layers._base import layer_config
from kbridge.layers.preprocessing._image_layer import RandomImageLayer, describe, factor_range


class RandomContrast(RandomImageLayer):
    """`(x - mean) * c + mean` per image and channel, `c` uniform in `[1 - lower, 1 + upper]`, clipped to `value_range`.

    As in Keras, a number `f` gives the factor range `(0, f)` (contrast is only raised).

    Args:
        factor: a float in [0, 1] or a pair `(lower, upper)` in [0, 1].
        value_range: (low, high), the range outputs are clipped to.
        seed: int seed of the generator.
        **kwargs: base `Layer` arguments (`data_format` follows `image_data_format()`).
    """

    def __init__(self, factor, value_range=(0, 255), seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.factor = factor_range(self, factor, "factor", 0, 1, symmetric=False)
        if not isinstance(value_range, (tuple, list)) or len(value_range) != 2:
            raise ValueError(f"{describe(self)}: `value_range` must be a pair (low, high). Received: {value_range!r}")
        self.value_range = value_range

    def _augment(self, images, height_axis, width_axis, batch):
        contrast = kb_random.uniform(
            (batch, 1, 1, 1), 1.0 - self.factor[0], 1.0 + self.factor[1], dtype=self.compute_dtype,
            seed=self.seed_generator,
        )
        mean = ops.mean(ops.mean(images, axis=height_axis, keepdims=True), axis=width_axis, keepdims=True)
        out = ops.add(ops.multiply(ops.subtract(images, mean), contrast), mean)
        return ops.clip(out, self.value_range[0], self.value_range[1])

    def get_config(self):
        return layer_config(
            self, data_format=self.data_format, factor=self.factor, value_range=self.value_range, seed=self.seed
        )
