"""`RandomRotation`: rotates images by a random angle while training."""

import math

from kbridge import ops
from kbridge import random as kb_random
from kbridge.layers._base import layer_config
from kbridge.layers.preprocessing._image_layer import (
    FILL_MODES,
    INTERPOLATIONS,
    RandomImageLayer,
    affine_rows,
    check_choice,
    factor_range,
    warp,
)


class RandomRotation(RandomImageLayer):
    """Rotates each image about its centre by `factor * 360` degrees, drawn uniformly.

    Args:
        factor: a float `f` (range `[-f, f]`) or a pair `(lower, upper)`, fractions of a full turn in [-1, 1].
        fill_mode: "reflect", "wrap", "constant" or "nearest" (points outside the input).
        interpolation: "bilinear" or "nearest".
        seed: int seed of the generator.
        fill_value: the value of outside points with "constant".
        data_format: "channels_last" or "channels_first" (None: `image_data_format()`).
        **kwargs: base `Layer` arguments.
    """

    def __init__(
        self, factor, fill_mode="reflect", interpolation="bilinear", seed=None, fill_value=0.0, data_format=None,
        **kwargs,
    ):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = factor_range(self, factor, "factor", -1, 1)
        self.fill_mode = check_choice(self, fill_mode, FILL_MODES, "fill_mode")
        self.interpolation = check_choice(self, interpolation, INTERPOLATIONS, "interpolation")
        self.fill_value = fill_value

    def _augment(self, images, height_axis, width_axis, batch):
        degrees = kb_random.uniform(
            (batch,), self.factor[0] * 360.0, self.factor[1] * 360.0, dtype="float32", seed=self.seed_generator
        )
        shape = ops.shape(images)
        return warp(self, images, rotation_transform(degrees, shape[height_axis], shape[width_axis]))

    def get_config(self):
        return layer_config(
            self,
            data_format=self.data_format,
            factor=self.factor,
            fill_mode=self.fill_mode,
            fill_value=self.fill_value,
            interpolation=self.interpolation,
            seed=self.seed,
        )


def rotation_transform(degrees, height, width):
    """`(batch, 8)` transforms rotating by `degrees` about the image centre (Keras's convention)."""
    angle = ops.multiply(degrees, math.pi / 180.0)
    cos, sin = ops.cos(angle), ops.sin(angle)
    cx, cy = 0.5 * (width - 1), 0.5 * (height - 1)
    a0, a1 = cos, ops.negative(sin)
    b0, b1 = sin, cos
    a2 = ops.subtract(ops.subtract(cx, ops.multiply(cx, a0)), ops.multiply(cy, a1))
    b2 = ops.subtract(ops.subtract(cy, ops.multiply(cx, b0)), ops.multiply(cy, b1))
    return affine_rows([a0, a1, a2, b0, b1, b2])
