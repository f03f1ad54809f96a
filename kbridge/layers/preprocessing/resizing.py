"""`Resizing`: resizes images to a fixed height and width."""

from kbridge import ops
from kbridge.backend.image_impl import RESIZE_INTERPOLATIONS
from kbridge.layers._base import layer_config, standardize_data_format
from kbridge.layers.layer import Layer
from kbridge.layers.preprocessing._image_layer import check_choice, describe, image_axes


class Resizing(Layer):
    """Resizes images (rank 3 or 4) to `(height, width)`; the output keeps the input dtype.

    Args:
        height: int, the output height.
        width: int, the output width.
        interpolation: "bilinear", "nearest", "bicubic", "lanczos3" or "lanczos5".
        crop_to_aspect_ratio: crop the centre to the target aspect ratio before resizing.
        pad_to_aspect_ratio: pad with `fill_value` to the target aspect ratio before resizing.
        fill_mode: "constant" (the only mode).
        fill_value: the padding value.
        antialias: only False is implemented.
        data_format: "channels_last" or "channels_first" (None: `image_data_format()`).
        **kwargs: base `Layer` arguments.
    """

    def __init__(
        self,
        height,
        width,
        interpolation="bilinear",
        crop_to_aspect_ratio=False,
        pad_to_aspect_ratio=False,
        fill_mode="constant",
        fill_value=0.0,
        antialias=False,
        data_format=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        for name, value in (("height", height), ("width", width)):
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ValueError(f"{describe(self)}: `{name}` must be a positive int. Received: {name}={value!r}")
        self.height = height
        self.width = width
        self.interpolation = check_choice(self, interpolation, RESIZE_INTERPOLATIONS, "interpolation")
        self.data_format = standardize_data_format(data_format)
        if crop_to_aspect_ratio and pad_to_aspect_ratio:
            raise ValueError(
                f"{describe(self)}: only one of `crop_to_aspect_ratio` and `pad_to_aspect_ratio` can be True."
            )
        self.crop_to_aspect_ratio = crop_to_aspect_ratio
        self.pad_to_aspect_ratio = pad_to_aspect_ratio
        self.fill_mode = check_choice(self, fill_mode, ("constant",), "fill_mode")
        self.fill_value = fill_value
        self.antialias = bool(antialias)
        if self.antialias:
            raise NotImplementedError(f"{describe(self)}: antialias=True is not implemented in kbridge.")

    def build(self, input_shape):
        image_axes(self, input_shape)

    def call(self, inputs):
        image_axes(self, ops.shape(inputs))
        resized = ops.image.resize(
            inputs,
            (self.height, self.width),
            interpolation=self.interpolation,
            antialias=self.antialias,
            crop_to_aspect_ratio=self.crop_to_aspect_ratio,
            pad_to_aspect_ratio=self.pad_to_aspect_ratio,
            fill_mode=self.fill_mode,
            fill_value=self.fill_value,
            data_format=self.data_format,
        )
        dtype = ops.dtype(inputs)
        if ops.dtype(resized) == dtype:
            return resized
        if "int" in dtype:
            resized = ops.round(resized)
        return ops.saturate_cast(resized, dtype)

    def compute_output_shape(self, input_shape):
        height_axis, width_axis = image_axes(self, input_shape)
        shape = list(input_shape)
        shape[height_axis], shape[width_axis] = self.height, self.width
        return tuple(shape)

    def get_config(self):
        return layer_config(
            self,
            data_format=self.data_format,
            height=self.height,
            width=self.width,
            interpolation=self.interpolation,
            crop_to_aspect_ratio=self.crop_to_aspect_ratio,
            pad_to_aspect_ratio=self.pad_to_aspect_ratio,
            fill_mode=self.fill_mode,
            fill_value=self.fill_value,
            antialias=self.antialias,
        )
