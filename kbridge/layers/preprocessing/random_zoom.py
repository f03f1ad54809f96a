"""`RandomZoom`: zooms images in or out by a random factor while training."""

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


class RandomZoom(RandomImageLayer):
    """Scales each image about its centre; a factor `f` samples `1 + f` of the image (f < 0 zooms in).

    Args:
        height_factor: a float `f` (range `[-f, f]`) or a pair, each in (-1, 1].
        width_factor: like `height_factor`, or None to keep the aspect ratio (the height draw).
        fill_mode: "reflect", "wrap", "constant" or "nearest".
        interpolation: "bilinear" or "nearest".
        seed: int seed of the generator.
        fill_value: the value of outside points with "constant".
        data_format: "channels_last" or "channels_first" (None: `image_data_format()`).
        **kwargs: base `Layer` arguments.
    """

    def __init__(
        self, height_factor, width_factor=None, fill_mode="reflect", interpolation="bilinear", seed=None,
        fill_value=0.0, data_format=None, **kwargs,
    ):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.height_factor = height_factor
        self.height_lower, self.height_upper = factor_range(self, height_factor, "height_factor", -1, 1, open_low=True)
        self.width_factor = width_factor
        if width_factor is not None:
            self.width_lower, self.width_upper = factor_range(self, width_factor, "width_factor", -1, 1, open_low=True)
        self.fill_mode = check_choice(self, fill_mode, FILL_MODES, "fill_mode")
        self.interpolation = check_choice(self, interpolation, INTERPOLATIONS, "interpolation")
        self.fill_value = fill_value

    def _augment(self, images, height_axis, width_axis, batch):
        height_zoom = kb_random.uniform(
            (batch,), 1.0 + self.height_lower, 1.0 + self.height_upper, dtype="float32", seed=self.seed_generator
        )
        width_zoom = height_zoom
        if self.width_factor is not None:
            width_zoom = kb_random.uniform(
                (batch,), 1.0 + self.width_lower, 1.0 + self.width_upper, dtype="float32", seed=self.seed_generator
            )
        shape = ops.shape(images)
        return warp(self, images, zoom_transform(height_zoom, width_zoom, shape[height_axis], shape[width_axis]))

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


def zoom_transform(height_zoom, width_zoom, height, width):
    """`(batch, 8)` transforms scaling by `(height_zoom, width_zoom)` about the image centre."""
    zeros = ops.zeros_like(height_zoom)
    x_offset = ops.multiply((width - 1) / 2.0, ops.subtract(1.0, width_zoom))
    y_offset = ops.multiply((height - 1) / 2.0, ops.subtract(1.0, height_zoom))
    return affine_rows([width_zoom, zeros, x_offset, zeros, height_zoom, y_offset])
