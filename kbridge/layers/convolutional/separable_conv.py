"""`SeparableConv1D`, `SeparableConv2D`: a depthwise convolution followed by a pointwise (1x1) one."""

from kbridge import activations, constraints, initializers, ops, regularizers
from kbridge.layers.convolutional.base_conv import BaseConv, _positive
from kbridge.layers._base import layer_config
from kbridge.layers.input_spec import InputSpec


class BaseSeparableConv(BaseConv):
    """Depthwise-separable convolution: `pointwise(depthwise(inputs)) + bias`.

    Weights, in order: `depthwise_kernel` `kernel_size + (input_channels, depth_multiplier)`,
    `pointwise_kernel` `(1,) * rank + (input_channels * depth_multiplier, filters)`, `bias` `(filters,)`.

    Args:
        rank: number of spatial dimensions (1 or 2).
        depth_multiplier: positive int, depthwise output channels per input channel.
        filters: the number of output channels.
        kernel_size, strides, dilation_rate: ints or `rank` ints.
        padding: "valid" or "same".
        data_format, activation, use_bias: as in `BaseConv`.
        depthwise_initializer, pointwise_initializer, bias_initializer: initializers.
        depthwise_regularizer, pointwise_regularizer, bias_regularizer, activity_regularizer: regularizers.
        depthwise_constraint, pointwise_constraint, bias_constraint: constraints.
        **kwargs: base `Layer` arguments.
    """

    _allow_causal = False

    def __init__(self, rank, depth_multiplier, filters, kernel_size, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, activation=None, use_bias=True, depthwise_initializer="glorot_uniform",
                 pointwise_initializer="glorot_uniform", bias_initializer="zeros", depthwise_regularizer=None,
                 pointwise_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 depthwise_constraint=None, pointwise_constraint=None, bias_constraint=None, **kwargs):  # fmt: skip
        layer = type(self).__name__
        super().__init__(
            rank, filters, kernel_size, strides=strides, padding=padding, data_format=data_format,
            dilation_rate=dilation_rate, activation=activation, use_bias=use_bias,
            kernel_initializer=depthwise_initializer, bias_initializer=bias_initializer,
            kernel_regularizer=depthwise_regularizer, bias_regularizer=bias_regularizer,
            activity_regularizer=activity_regularizer, kernel_constraint=depthwise_constraint,
            bias_constraint=bias_constraint, **kwargs,
        )  # fmt: skip
        self.depth_multiplier = _positive(depth_multiplier, "depth_multiplier", layer)
        self.depthwise_initializer = self.kernel_initializer
        self.depthwise_regularizer = self.kernel_regularizer
        self.depthwise_constraint = self.kernel_constraint
        self.pointwise_initializer = initializers.get(pointwise_initializer)
        self.pointwise_regularizer = regularizers.get(pointwise_regularizer)
        self.pointwise_constraint = constraints.get(pointwise_constraint)
        self.depthwise_kernel = None
        self.pointwise_kernel = None

    def build(self, input_shape):
        channels = self._input_channels(input_shape)
        self.compute_output_shape(input_shape)
        self.depthwise_kernel = self.add_weight(
            name="depthwise_kernel",
            shape=self.kernel_size + (channels, self.depth_multiplier),
            initializer=self.depthwise_initializer,
            regularizer=self.depthwise_regularizer,
            constraint=self.depthwise_constraint,
        )
        self.pointwise_kernel = self.add_weight(
            name="pointwise_kernel",
            shape=(1,) * self.rank + (channels * self.depth_multiplier, self.filters),
            initializer=self.pointwise_initializer,
            regularizer=self.pointwise_regularizer,
            constraint=self.pointwise_constraint,
        )
        self._add_bias(self.filters)
        self.input_spec = InputSpec(ndim=self.rank + 2, axes={self._channel_axis: channels})

    def call(self, inputs):
        outputs = ops.separable_conv(
            inputs,
            self._cast(self.depthwise_kernel),
            self._cast(self.pointwise_kernel),
            strides=self.strides,
            padding=self.padding,
            data_format=self.data_format,
            dilation_rate=self.dilation_rate,
        )
        return self._finish(outputs)

    def get_config(self):
        config = layer_config(self)  # Keras 3 puts a set activity_regularizer first
        config.update(
            depth_multiplier=self.depth_multiplier,
            filters=self.filters,
            kernel_size=self.kernel_size,
            strides=self.strides,
            padding=self.padding,
            data_format=self.data_format,
            dilation_rate=self.dilation_rate,
            activation=activations.serialize(self.activation),
            use_bias=self.use_bias,
            depthwise_initializer=initializers.serialize(self.depthwise_initializer),
            pointwise_initializer=initializers.serialize(self.pointwise_initializer),
            bias_initializer=initializers.serialize(self.bias_initializer),
            depthwise_regularizer=regularizers.serialize(self.depthwise_regularizer),
            pointwise_regularizer=regularizers.serialize(self.pointwise_regularizer),
            bias_regularizer=regularizers.serialize(self.bias_regularizer),
            activity_regularizer=regularizers.serialize(self.activity_regularizer),
            depthwise_constraint=constraints.serialize(self.depthwise_constraint),
            pointwise_constraint=constraints.serialize(self.pointwise_constraint),
            bias_constraint=constraints.serialize(self.bias_constraint),
        )
        return config


class SeparableConv1D(BaseSeparableConv):
    """1-D depthwise-separable convolution, inputs `(batch, steps, channels)` (channels_last).

    Args:
        filters: the number of output channels.
        kernel_size, strides, dilation_rate: int or 1 int.
        padding: "valid" or "same".
        depth_multiplier: depthwise output channels per input channel.
        data_format, activation, use_bias, initializers, regularizers, constraints:
            as in `BaseSeparableConv`.
        **kwargs: base `Layer` arguments.
    """

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None, dilation_rate=1,
                 depth_multiplier=1, activation=None, use_bias=True, depthwise_initializer="glorot_uniform",
                 pointwise_initializer="glorot_uniform", bias_initializer="zeros", depthwise_regularizer=None,
                 pointwise_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 depthwise_constraint=None, pointwise_constraint=None, bias_constraint=None, **kwargs):  # fmt: skip
        super().__init__(
            1, depth_multiplier, filters, kernel_size, strides=strides, padding=padding, data_format=data_format,
            dilation_rate=dilation_rate, activation=activation, use_bias=use_bias,
            depthwise_initializer=depthwise_initializer, pointwise_initializer=pointwise_initializer,
            bias_initializer=bias_initializer, depthwise_regularizer=depthwise_regularizer,
            pointwise_regularizer=pointwise_regularizer, bias_regularizer=bias_regularizer,
            activity_regularizer=activity_regularizer, depthwise_constraint=depthwise_constraint,
            pointwise_constraint=pointwise_constraint, bias_constraint=bias_constraint, **kwargs,
        )  # fmt: skip


class SeparableConv2D(BaseSeparableConv):
    """2-D depthwise-separable convolution, inputs `(batch, height, width, channels)` (channels_last).

    Args:
        filters: the number of output channels.
        kernel_size, strides, dilation_rate: int or 2 ints.
        padding: "valid" or "same".
        depth_multiplier: depthwise output channels per input channel.
        data_format, activation, use_bias, initializers, regularizers, constraints:
            as in `BaseSeparableConv`.
        **kwargs: base `Layer` arguments.
    """

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", data_format=None, dilation_rate=(1, 1),
                 depth_multiplier=1, activation=None, use_bias=True, depthwise_initializer="glorot_uniform",
                 pointwise_initializer="glorot_uniform", bias_initializer="zeros", depthwise_regularizer=None,
                 pointwise_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 depthwise_constraint=None, pointwise_constraint=None, bias_constraint=None, **kwargs):  # fmt: skip
        super().__init__(
            2, depth_multiplier, filters, kernel_size, strides=strides, padding=padding, data_format=data_format,
            dilation_rate=dilation_rate, activation=activation, use_bias=use_bias,
            depthwise_initializer=depthwise_initializer, pointwise_initializer=pointwise_initializer,
            bias_initializer=bias_initializer, depthwise_regularizer=depthwise_regularizer,
            pointwise_regularizer=pointwise_regularizer, bias_regularizer=bias_regularizer,
            activity_regularizer=activity_regularizer, depthwise_constraint=depthwise_constraint,
            pointwise_constraint=pointwise_constraint, bias_constraint=bias_constraint, **kwargs,
        )  # fmt: skip


SeparableConvolution1D = SeparableConv1D
SeparableConvolution2D = SeparableConv2D
