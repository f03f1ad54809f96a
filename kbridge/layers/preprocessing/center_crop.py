"""`CenterCrop`: crops the central `height x width` window of images."""

from kbridge import ops
from kbridge.layers._base import layer_config, standardize_data_format
from kbridge.layers.layer import Layer
from kbridge.layers.preprocessing._image_layer import describe, image_axes


class CenterCrop(Layer):
    """Crops the centre of images to `(height, width)`, in the compute dtype.

    An image smaller than the target on either side is instead cropped to the target
    aspect ratio and resized (bilinear), as Keras does.

    Args:
        height: int, the output height.
        width: int, the output width.
        data_format: "channels_last" or "channels_first" (None: `image_data_format()`).
        **kwargs: base `Layer` arguments.
    """

    def __init__(self, height, width, data_format=None, **kwargs):
        super().__init__(**kwargs)
        for name, value in (("height", height), ("width", width)):
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ValueError(f"{describe(self)}: `{name}` must be a positive int. Received: {name}={value!r}")
        self.height = height
        self.width = width
        self.data_format = standardize_data_format(data_format)

    def build(self, input_shape):
        image_axes(self, input_shape)

    def call(self, inputs):
        images = ops.cast(inputs, self.compute_dtype)
        shape = ops.shape(images)
        height_axis, width_axis = image_axes(self, shape)
        h_diff, w_diff = shape[height_axis] - self.height, shape[width_axis] - self.width
        if h_diff < 0 or w_diff < 0:
            return ops.image.resize(
                images, (self.height, self.width), crop_to_aspect_ratio=True, data_format=self.data_format
            )
        index = [slice(None)] * len(shape)
        index[height_axis] = slice(h_diff // 2, h_diff // 2 + self.height)
        index[width_axis] = slice(w_diff // 2, w_diff // 2 + self.width)
        return images[tuple(index)]

    def compute_output_shape(self, input_shape):
        height_axis, width_axis = image_axes(self, input_shape)
        shape = list(input_shape)
        shape[height_axis], shape[width_axis] = self.height, self.width
        return tuple(shape)

    def get_config(self):
        return layer_config(self, data_format=self.data_format, height=self.height, width=self.width)
