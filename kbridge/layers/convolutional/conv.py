"""`Conv1D`, `Conv2D`, `Conv3D`: convolutions over 1, 2 or 3 spatial dimensions."""

from kbridge.layers.convolutional.base_conv import BaseConv


class Conv1D(BaseConv):
    """1-D convolution (temporal), inputs `(batch, steps, channels)` (channels_last).

    Args:
        filters: the number of output channels.
        kernel_size: int or 1 int, the window length.
        strides: int or 1 int.
        padding: "valid", "same" or "causal" (output[t] sees only inputs[:t + 1]).
        data_format, dilation_rate, groups, activation, use_bias, initializers,
            regularizers, constraints: as in `BaseConv`.
        **kwargs: base `Layer` arguments.
    """

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None, dilation_rate=1, groups=1,
                 activation=None, use_bias=True, kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 bias_constraint=None, **kwargs):  # fmt: skip
        super().__init__(
            1, filters, kernel_size, strides=strides, padding=padding, data_format=data_format,
            dilation_rate=dilation_rate, groups=groups, activation=activation, use_bias=use_bias,
            kernel_initializer=kernel_initializer, bias_initializer=bias_initializer,
            kernel_regularizer=kernel_regularizer, bias_regularizer=bias_regularizer,
            activity_regularizer=activity_regularizer, kernel_constraint=kernel_constraint,
            bias_constraint=bias_constraint, **kwargs,
        )  # fmt: skip


class Conv2D(BaseConv):
    """2-D convolution (images), inputs `(batch, height, width, channels)` (channels_last).

    Args:
        filters: the number of output channels.
        kernel_size: int or 2 ints.
        strides: int or 2 ints.
        padding: "valid" or "same".
        data_format, dilation_rate, groups, activation, use_bias, initializers,
            regularizers, constraints: as in `BaseConv`.
        **kwargs: base `Layer` arguments.
    """

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", data_format=None, dilation_rate=(1, 1),
                 groups=1, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):  # fmt: skip
        super().__init__(
            2, filters, kernel_size, strides=strides, padding=padding, data_format=data_format,
            dilation_rate=dilation_rate, groups=groups, activation=activation, use_bias=use_bias,
            kernel_initializer=kernel_initializer, bias_initializer=bias_initializer,
            kernel_regularizer=kernel_regularizer, bias_regularizer=bias_regularizer,
            activity_regularizer=activity_regularizer, kernel_constraint=kernel_constraint,
            bias_constraint=bias_constraint, **kwargs,
        )  # fmt: skip


class Conv3D(BaseConv):
    """3-D convolution (volumes), inputs `(batch, d1, d2, d3, channels)` (channels_last).

    Args:
        filters: the number of output channels.
        kernel_size: int or 3 ints.
        strides: int or 3 ints.
        padding: "valid" or "same".
        data_format, dilation_rate, groups, activation, use_bias, initializers,
            regularizers, constraints: as in `BaseConv`.
        **kwargs: base `Layer` arguments.
    """

    def __init__(self, filters, kernel_size, strides=(1, 1, 1), padding="valid", data_format=None,
                 dilation_rate=(1, 1, 1), groups=1, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros", kernel_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, kernel_constraint=None, bias_constraint=None,
                 **kwargs):  # fmt: skip
        super().__init__(
            3, filters, kernel_size, strides=strides, padding=padding, data_format=data_format,
            dilation_rate=dilation_rate, groups=groups, activation=activation, use_bias=use_bias,
            kernel_initializer=kernel_initializer, bias_initializer=bias_initializer,
            kernel_regularizer=kernel_regularizer, bias_regularizer=bias_regularizer,
            activity_regularizer=activity_regularizer, kernel_constraint=kernel_constraint,
            bias_constraint=bias_constraint, **kwargs,
        )  # fmt: skip


Convolution1D = Conv1D
Convolution2D = Conv2D
Convolution3D = Conv3D
