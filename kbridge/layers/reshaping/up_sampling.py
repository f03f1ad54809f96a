"""`UpSampling1D`, `UpSampling2D`, `UpSampling3D`: repeat each step/pixel/voxel along the spatial axes."""

from kbridge import ops
from kbridge.layers import _spatial
from kbridge.layers._base import check_build_shape, standardize_data_format
from kbridge.layers.input_spec import InputSpec
from kbridge.layers.layer import Layer


_INTERPOLATIONS = ("nearest", "bilinear", "bicubic", "lanczos3", "lanczos5")


class _UpSampling(Layer):
    """Nearest-neighbour upsampling: spatial axis `i` is repeated `size[i]` times."""

    rank = 1

    def _setup(self, size, data_format):
        self.size = _spatial.normalize_tuple(size, self.rank, "size", type(self).__name__)
        self.data_format = standardize_data_format(data_format)
        self.input_spec = InputSpec(ndim=self.rank + 2)

    def build(self, input_shape):
        check_build_shape(self, input_shape)

    def call(self, inputs):
        for axis, repeats in zip(_spatial.spatial_axes(self.rank, self.data_format), self.size):
            if repeats != 1:
                inputs = ops.repeat(inputs, repeats, axis=axis)
        return inputs

    def compute_output_shape(self, input_shape):
        if len(input_shape) != self.rank + 2:
            raise ValueError(
                f'Layer "{self.name}" ({type(self).__name__}) expects inputs of rank {self.rank + 2}. '
                f"Received input shape {tuple(input_shape)}."
            )
        batch, spatial, channels = _spatial.split_shape(input_shape, self.data_format)
        lengths = [None if n is None else n * k for n, k in zip(spatial, self.size)]
        return _spatial.join_shape(batch, lengths, channels, self.data_format)


class UpSampling1D(_UpSampling):
    """Repeats each step `size` times: `(batch, steps, features)` -> `(batch, steps * size, features)`.

    Args:
        size: positive int, the upsampling factor.
        **kwargs: base `Layer` arguments.
    """

    rank = 1

    def __init__(self, size=2, **kwargs):
        super().__init__(**kwargs)
        self._setup(size, "channels_last")

    def get_config(self):
        config = Layer.get_config(self)
        config.update(size=self.size[0])
        return config


class UpSampling2D(_UpSampling):
    """Repeats rows and columns: `(batch, h, w, c)` -> `(batch, h * size[0], w * size[1], c)`.

    Args:
        size: int or 2 ints, the factors for rows and columns.
        data_format: "channels_last" or "channels_first" (None: `image_data_format()`).
        interpolation: "nearest" (repeats), or "bilinear", "bicubic", "lanczos3", "lanczos5" (`ops.image.resize`).
        **kwargs: base `Layer` arguments.
    """

    rank = 2

    def __init__(self, size=(2, 2), data_format=None, interpolation="nearest", **kwargs):
        super().__init__(**kwargs)
        self._setup(size, data_format)
        if interpolation not in _INTERPOLATIONS:
            raise ValueError(
                f'Layer "{self.name}" (UpSampling2D): `interpolation` must be one of {_INTERPOLATIONS}. '
                f"Received: interpolation={interpolation!r}"
            )
        self.interpolation = interpolation

    def call(self, inputs):
        if self.interpolation == "nearest":
            return super().call(inputs)
        height_axis, width_axis = _spatial.spatial_axes(2, self.data_format)
        shape = ops.shape(inputs)
        size = (shape[height_axis] * self.size[0], shape[width_axis] * self.size[1])
        return ops.image.resize(inputs, size, interpolation=self.interpolation, data_format=self.data_format)

    def get_config(self):
        config = Layer.get_config(self)
        config.update(size=self.size, data_format=self.data_format, interpolation=self.interpolation)
        return config


class UpSampling3D(_UpSampling):
    """Repeats voxels along the three spatial axes by `size`.

    Args:
        size: int or 3 ints.
        data_format: "channels_last" or "channels_first" (None: `image_data_format()`).
        **kwargs: base `Layer` arguments.
    """

    rank = 3

    def __init__(self, size=(2, 2, 2), data_format=None, **kwargs):
        super().__init__(**kwargs)
        self._setup(size, data_format)

    def get_config(self):
        config = Layer.get_config(self)
        config.update(size=self.size, data_format=self.data_format)
        return config
