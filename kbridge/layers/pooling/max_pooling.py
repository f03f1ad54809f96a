"""`MaxPooling1D`, `MaxPooling2D`, `MaxPooling3D`: the maximum of each window."""

from kbridge.layers.pooling.base_pooling import BasePooling


class MaxPooling1D(BasePooling):
    """Max pooling over steps, inputs `(batch, steps, channels)` (channels_last).

    Args:
        pool_size: int or 1 int (default 2).
        strides: int or 1 int; None means `pool_size`.
        padding: "valid" or "same".
        data_format: "channels_last" or "channels_first" (None: `image_data_format()`).
        name: the layer's name.
        **kwargs: base `Layer` arguments.
    """

    _mode = "max"

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format=None, name=None, **kwargs):
        super().__init__(1, pool_size, strides=strides, padding=padding, data_format=data_format, name=name, **kwargs)


class MaxPooling2D(BasePooling):
    """Max pooling over height and width, inputs `(batch, height, width, channels)`.

    Args:
        pool_size: int or 2 ints (default (2, 2)).
        strides: int or 2 ints; None means `pool_size`.
        padding: "valid" or "same".
        data_format: "channels_last" or "channels_first" (None: `image_data_format()`).
        name: the layer's name.
        **kwargs: base `Layer` arguments.
    """

    _mode = "max"

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", data_format=None, name=None, **kwargs):
        super().__init__(2, pool_size, strides=strides, padding=padding, data_format=data_format, name=name, **kwargs)


class MaxPooling3D(BasePooling):
    """Max pooling over three spatial dimensions.

    Args:
        pool_size: int or 3 ints (default (2, 2, 2)).
        strides: int or 3 ints; None means `pool_size`.
        padding: "valid" or "same".
        data_format: "channels_last" or "channels_first" (None: `image_data_format()`).
        name: the layer's name.
        **kwargs: base `Layer` arguments.
    """

    _mode = "max"

    def __init__(self, pool_size=(2, 2, 2), strides=None, padding="valid", data_format=None, name=None, **kwargs):
        super().__init__(3, pool_size, strides=strides, padding=padding, data_format=data_format, name=name, **kwargs)


MaxPool1D, MaxPool2D, MaxPool3D = MaxPooling1D, MaxPooling2D, MaxPooling3D
