"""Global pooling: `GlobalMaxPooling1D/2D/3D` and `GlobalAveragePooling1D/2D/3D` reduce every spatial axis."""

from kbridge import ops
from kbridge.layers import _spatial
from kbridge.layers._base import standardize_data_format
from kbridge.layers.input_spec import InputSpec
from kbridge.layers.layer import Layer


class BaseGlobalPooling(Layer):
    """Reduces all spatial axes with max or mean.

    Args:
        rank: number of spatial dimensions.
        data_format: "channels_last" or "channels_first" (None: `image_data_format()`).
        keepdims: whether the spatial axes stay, with size 1.
        **kwargs: base `Layer` arguments.
    """

    _mode = "max"

    def __init__(self, rank, data_format=None, keepdims=False, **kwargs):
        super().__init__(**kwargs)
        self.rank = rank
        self.data_format = standardize_data_format(data_format)
        self.keepdims = bool(keepdims)
        self.input_spec = InputSpec(ndim=rank + 2)
        self._axes = _spatial.spatial_axes(rank, self.data_format)

    def call(self, inputs):
        reduce = ops.max if self._mode == "max" else ops.mean
        return reduce(inputs, axis=self._axes, keepdims=self.keepdims)

    def compute_output_shape(self, input_shape):
        if len(input_shape) != self.rank + 2:
            raise ValueError(
                f'Layer "{self.name}" ({type(self).__name__}) expects inputs of rank {self.rank + 2}. '
                f"Received input shape {tuple(input_shape)}."
            )
        batch, spatial, channels = _spatial.split_shape(input_shape, self.data_format)
        if self.keepdims:
            return _spatial.join_shape(batch, (1,) * self.rank, channels, self.data_format)
        return (batch, channels)

    def get_config(self):
        config = Layer.get_config(self)
        config.update(data_format=self.data_format, keepdims=self.keepdims)
        return config


class GlobalMaxPooling1D(BaseGlobalPooling):
    """The maximum over steps: `(batch, steps, channels)` -> `(batch, channels)`.

    Args:
        data_format: "channels_last" or "channels_first" (None: `image_data_format()`).
        keepdims: whether the steps axis stays, with size 1.
        **kwargs: base `Layer` arguments.
    """

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(1, data_format=data_format, keepdims=keepdims, **kwargs)


class GlobalMaxPooling2D(BaseGlobalPooling):
    """The maximum over height and width: `(batch, h, w, channels)` -> `(batch, channels)`.

    Args:
        data_format: "channels_last" or "channels_first" (None: `image_data_format()`).
        keepdims: whether the spatial axes stay, with size 1.
        **kwargs: base `Layer` arguments.
    """

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(2, data_format=data_format, keepdims=keepdims, **kwargs)


class GlobalMaxPooling3D(BaseGlobalPooling):
    """The maximum over three spatial axes.

    Args:
        data_format: "channels_last" or "channels_first" (None: `image_data_format()`).
        keepdims: whether the spatial axes stay, with size 1.
        **kwargs: base `Layer` arguments.
    """

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(3, data_format=data_format, keepdims=keepdims, **kwargs)


class GlobalAveragePooling1D(BaseGlobalPooling):
    """The mean over steps; with a `(batch, steps)` mask, the mean over the unmasked steps.

    Args:
        data_format: "channels_last" or "channels_first" (None: `image_data_format()`).
        keepdims: whether the steps axis stays, with size 1.
        **kwargs: base `Layer` arguments.
    """

    _mode = "average"

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(1, data_format=data_format, keepdims=keepdims, **kwargs)
        self.supports_masking = True

    def call(self, inputs, mask=None):
        if mask is None:
            return ops.mean(inputs, axis=self._axes, keepdims=self.keepdims)
        weights = ops.expand_dims(ops.cast(mask, ops.dtype(inputs)), -1 if self.data_format == "channels_last" else 1)
        total = ops.sum(ops.multiply(inputs, weights), axis=self._axes, keepdims=self.keepdims)
        return ops.divide(total, ops.sum(weights, axis=self._axes, keepdims=self.keepdims))

    def compute_mask(self, inputs, previous_mask):
        return None


class GlobalAveragePooling2D(BaseGlobalPooling):
    """The mean over height and width: `(batch, h, w, channels)` -> `(batch, channels)`.

    Args:
        data_format: "channels_last" or "channels_first" (None: `image_data_format()`).
        keepdims: whether the spatial axes stay, with size 1.
        **kwargs: base `Layer` arguments.
    """

    _mode = "average"

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(2, data_format=data_format, keepdims=keepdims, **kwargs)


class GlobalAveragePooling3D(BaseGlobalPooling):
    """The mean over three spatial axes.

    Args:
        data_format: "channels_last" or "channels_first" (None: `image_data_format()`).
        keepdims: whether the spatial axes stay, with size 1.
        **kwargs: base `Layer` arguments.
    """

    _mode = "average"

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(3, data_format=data_format, keepdims=keepdims, **kwargs)


GlobalMaxPool1D, GlobalMaxPool2D, GlobalMaxPool3D = GlobalMaxPooling1D, GlobalMaxPooling2D, GlobalMaxPooling3D
GlobalAvgPool1D, GlobalAvgPool2D = GlobalAveragePooling1D, GlobalAveragePooling2D
GlobalAvgPool3D = GlobalAveragePooling3D
