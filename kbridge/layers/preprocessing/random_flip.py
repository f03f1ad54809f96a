"""`RandomFlip`: flips images left-right and/or up-down at random while training."""

from kbridge import ops
from kbridge import random as kb_random
from kbridge.layers._base import layer_config
from kbridge.layers.preprocessing._image_layer import RandomImageLayer, check_choice

HORIZONTAL = "horizontal"
VERTICAL = "vertical"
HORIZONTAL_AND_VERTICAL = "horizontal_and_vertical"


class RandomFlip(RandomImageLayer):
    """Flips each image with probability 1/2 (both axes on one draw for "horizontal_and_vertical").

    Args:
        mode: "horizontal", "vertical" or "horizontal_and_vertical".
        seed: int seed of the generator.
        data_format: "channels_last" or "channels_first" (None: `image_data_format()`).
        **kwargs: base `Layer` arguments.
    """

    def __init__(self, mode=HORIZONTAL_AND_VERTICAL, seed=None, data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.mode = check_choice(self, mode, (HORIZONTAL, VERTICAL, HORIZONTAL_AND_VERTICAL), "mode")

    def _augment(self, images, height_axis, width_axis, batch):
        flips = ops.less_equal(kb_random.uniform((batch, 1, 1, 1), seed=self.seed_generator), 0.5)
        if self.mode in (HORIZONTAL, HORIZONTAL_AND_VERTICAL):
            images = ops.where(flips, ops.flip(images, axis=width_axis), images)
        if self.mode in (VERTICAL, HORIZONTAL_AND_VERTICAL):
            images = ops.where(flips, ops.flip(images, axis=height_axis), images)
        return images

    def get_config(self):
        return layer_config(self, data_format=self.data_format, seed=self.seed, mode=self.mode)
