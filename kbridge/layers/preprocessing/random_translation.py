"""`RandomTranslation`: shifts images by a random offset while training."""

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


class RandomTranslation(RandomImageLayer):
    """Shifts each image by `height_factor * height` rows and `width_factor * width` columns, drawn uniformly.

    Args:
        height_factor: a float `f` (range `[-f, f]`) or a pair, each in [-1, 1]; positive moves down.
        width_factor: likewise for columns; positive moves right.
        fill_mode: "reflect", "wrap", "constant" or "nearest".
        interpolation: "bilinear" or "nearest".
        seed: int seed of the generator.
        fill_value: the value of outside points with "constant".
        data_format: "channels_last" or "channels_first" (None: `image_data_format()`).
        **kwargs: base `Layer` arguments.
    """

    def __init__(
        self, height_factor, width_factor, fill_mode="reflect", interpolation="bilinear", seed=None,
        fill_value=0.0, data_format=None, **kwargs,
    ):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.height_factor = height_factor
        self.height_lower, self.height_upper = factor_range(self, height_factor, "height_factor", -1, 1)
        self.width_factor = width_factor
        self.width_lower, self.width_upper = factor_range(self, width_factor, "width_factor", -1, 1)
        self.fill_mode = check_choice(self, fill_mode, FILL_MODES, "fill_mode")
        self.interpolation = check_choice(self, interpolation, INTERPOLATIONS, "interpolation")
        self.fill_value = fill_value

    def _augment(self, images, height_axis, width_axis, batch):
        shape = ops.shape(images)
        seed = self.seed_generator
        rows = kb_random.uniform((batch,), self.height_lower, self.height_upper, dtype="float32", seed=seed)
        cols = kb_random.uniform((batch,), self.width_lower, self.width_upper, dtype="float32", seed=seed)
        rows = ops.multiply(rows, float(shape[height_axis]))
        cols = ops.multiply(cols, float(shape[width_axis]))
        return warp(self, images, translation_transform(rows, cols))

    def get_config(self):
        return layer_config(
            self,
            data_format=self.data_format,
            height_factor=self.height_factor,
            width_factor=self.width_factor,
            fill_mode=self.fill_mode,
            interpolation=self.interpolation,
            seed=self.seed,
            fill_value=self.fill_value,
        )


def translation_transform(rows, cols):
    """`(batch, 8)` transforms moving the image content by `rows` down and `cols` right."""
    ones, zeros = ops.ones_like(rows), ops.zeros_like(rows)
    return affine_rows([ones, zeros, ops.negative(cols), zeros, ones, ops.negative(rows)])
