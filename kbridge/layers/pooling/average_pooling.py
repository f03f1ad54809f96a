"""`AveragePooling1D`, `AveragePooling2D`, `AveragePooling3D`: the mean of each window."""

from kbridge.layers.pooling.base_pooling import BasePooling


class AveragePooling1D(BasePooling):
    """Average pooling over steps, inputs `(batch, steps, channels)` (channels_last).

    Args:
        pool_size: int or 1 int.
        strides: int or 1 int; None means `pool_size`.
        padding: "valid" or "same".
        data_format: "channels_last" or "channels_first" (None: `image_data_format()`).
        name: the layer's name.
        **kwargs: base `Layer` arguments.
    """

    _mode = "average"

    def __init__(self, pool_size, strides=None, padding="valid", data_format=None, name=None, **kwargs):
        super().__init__(1, pool_size, strides=strides, padding=padding, data_format=data_format, name=name, **kwargs)


class AveragePooling2D(BasePooling):
    """Average pooling over height and width ("same" padding leaves padded pixels out of the mean).

    Args:
        pool_size: int or 2 ints.
        strides: int or 2 ints; None means `pool_size`.
        padding: "valid" or "same".
        data_format: "channels_last" or "channels_first" (None: `image_data_format()`).
        name: the layer's name.
        **kwargs: base `Layer` arguments.
    """

    _mode = "average"

    def __init__(self, pool_size, strides=None, padding="valid", data_format=None, name=None, **kwargs):
        super().__init__(2, pool_size, strides=strides, padding=padding, data_format=data_format, name=name, **kwargs)


class AveragePooling3D(BasePooling):
    """Average pooling over three spatial dimensions.

    Args:
        pool_size: int or 3 ints.
        strides: int or 3 ints; None means `pool_size`.
        padding: "valid" or "same".
        data_format: "channels_last" or "channels_first" (None: `image_data_format()`).
        name: the layer's name.
        **kwargs: base `Layer` arguments.
    """

    _mode = "average"

    def __init__(self, pool_size, strides=None, padding="valid", data_format=None, name=None, **kwargs):
        super().__init__(3, pool_size, strides=strides, padding=padding, data_format=data_format, name=name, **kwargs)


AvgPool1D, AvgPool2D, AvgPool3D = AveragePooling1D, AveragePooling2D, AveragePooling3D
