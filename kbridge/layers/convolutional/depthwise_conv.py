"""`DepthwiseConv1D`, `DepthwiseConv2D`: one filter bank per input channel."""

from kbridge import activations, constraints, initializers, ops, regularizers
from kbridge.layers.convolutional.base_conv import BaseConv, _positive
from kbridge.layers._base import layer_config
from kbridge.layers.input_spec import InputSpec


class BaseDepthwiseConv(BaseConv):
    """Depthwise convolution: each input channel is convolved with its own `depth_multiplier` filters.

    The kernel (named `kernel`) has shape `kernel_size + (input_channels, depth_multiplier)`;
    output channel `c * depth_multiplier + m` comes from input channel `c`.

    Args:
        rank: number of spatial dimensions (1 or 2).
        depth_multiplier: positive int, output channels per input channel.
        kernel_size, strides, dilation_rate: ints or `rank` ints.
        padding: "valid" or "same".
        data_format, activation, use_bias: as in `BaseConv`.
        depthwise_initializer, bias_initializer: initializers.
        depthwise_regularizer, bias_regularizer, activity_regularizer: regularizers.
        depthwise_constraint, bias_constraint: constraints.
        **kwargs: base `Layer` arguments.
    """

    _allow_causal = False

    def __init__(self, rank, depth_multiplier, kernel_size, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, activation=None, use_bias=True, depthwise_initializer="glorot_uniform",
                 bias_initializer="zeros", depthwise_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, depthwise_constraint=None, bias_constraint=None, **kwargs):  # fmt: skip
        layer = type(self).__name__
        super().__init__(
            rank, 1, kernel_size, strides=strides, padding=padding, data_format=data_format,
            dilation_rate=dilation_rate, activation=activation, use_bias=use_bias,
            kernel_initializer=depthwise_initializer, bias_initializer=bias_initializer,
            kernel_regularizer=depthwise_regularizer, bias_regularizer=bias_regularizer,
            activity_regularizer=activity_regularizer, kernel_constraint=depthwise_constraint,
            bias_constraint=bias_constraint, **kwargs,
        )  # fmt: skip
        self.depth_multiplier = _positive(depth_multiplier, "depth_multiplier", layer)
        self.filters = None  # the output channels follow the input's

    # Keras 3 names these arguments depthwise_*; they are the kernel's.
    depthwise_initializer = property(lambda self: self.kernel_initializer)
    depthwise_regularizer = property(lambda self: self.kernel_regularizer)
    depthwise_constraint = property(lambda self: self.kernel_constraint)

    def build(self, input_shape):
        channels = self._input_channels(input_shape)
        self.compute_output_shape(input_shape)
        self.kernel = self.add_weight(
            name="kernel",
            shape=self.kernel_size + (channels, self.depth_multiplier),
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
        )
        self._add_bias(channels * self.depth_multiplier)
        self.input_spec = InputSpec(ndim=self.rank + 2, axes={self._channel_axis: channels})

    def call(self, inputs):
        outputs = ops.depthwise_conv(
            inputs,
            self._cast(self.kernel),
            strides=self.strides,
            padding=self.padding,
            data_format=self.data_format,
            dilation_rate=self.dilation_rate,
        )
        return self._finish(outputs)

    def _output_channels(self, input_shape):
        channels = input_shape[self._channel_axis]
        return None if channels is None else channels * self.depth_multiplier

    def get_config(self):
        config = layer_config(self)  # Keras 3 puts a set activity_regularizer first
        config.update(
            depth_multiplier=self.depth_multiplier,
            kernel_size=self.kernel_size,
            strides=self.strides,
            padding=self.padding,
            data_format=self.data_format,
            dilation_rate=self.dilation_rate,
            activation=activations.serialize(self.activation),
            use_bias=self.use_bias,
            depthwise_initializer=initializers.serialize(self.kernel_initializer),
            bias_initializer=initializers.serialize(self.bias_initializer),
            depthwise_regularizer=regularizers.serialize(self.kernel_regularizer),
            bias_regularizer=regularizers.serialize(self.bias_regularizer),
            activity_regularizer=regularizers.serialize(self.activity_regularizer),
            depthwise_constraint=constraints.serialize(self.kernel_constraint),
            bias_constraint=constraints.serialize(self.bias_constraint),
        )
        return config


class DepthwiseConv1D(BaseDepthwiseConv):
    """1-D depthwise convolution, inputs `(batch, steps, channels)` (channels_last).

    Args:
        kernel_size, strides, dilation_rate: int or 1 int.
        padding: "valid" or "same".
        depth_multiplier: output channels per input channel.
        data_format, activation, use_bias, initializers, regularizers, constraints:
            as in `BaseDepthwiseConv`.
        **kwargs: base `Layer` arguments.
    """

    def __init__(self, kernel_size, strides=1, padding="valid", depth_multiplier=1, data_format=None, dilation_rate=1,
                 activation=None, use_bias=True, depthwise_initializer="glorot_uniform", bias_initializer="zeros",
                 depthwise_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 depthwise_constraint=None, bias_constraint=None, **kwargs):  # fmt: skip
        super().__init__(
            1, depth_multiplier, kernel_size, strides=strides, padding=padding, data_format=data_format,
            dilation_rate=dilation_rate, activation=activation, use_bias=use_bias,
            depthwise_initializer=depthwise_initializer, bias_initializer=bias_initializer,
            depthwise_regularizer=depthwise_regularizer, bias_regularizer=bias_regularizer,
            activity_regularizer=activity_regularizer, depthwise_constraint=depthwise_constraint,
            bias_constraint=bias_constraint, **kwargs,
        )  # fmt: skip


class DepthwiseConv2D(BaseDepthwiseConv):
    """2-D depthwise convolution, inputs `(batch, height, width, channels)` (channels_last).

    Args:
        kernel_size, strides, dilation_rate: int or 2 ints.
        padding: "valid" or "same".
        depth_multiplier: output channels per input channel.
        data_format, activation, use_bias, initializers, regularizers, constraints:
            as in `BaseDepthwiseConv`.
        **kwargs: base `Layer` arguments.
    """

    def __init__(self, kernel_size, strides=(1, 1), padding="valid", depth_multiplier=1, data_format=None,
                 dilation_rate=(1, 1), activation=None, use_bias=True, depthwise_initializer="glorot_uniform",
                 bias_initializer="zeros", depthwise_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, depthwise_constraint=None, bias_constraint=None, **kwargs):  # fmt: skip
        super().__init__(
            2, depth_multiplier, kernel_size, strides=strides, padding=padding, data_format=data_format,
            dilation_rate=dilation_rate, activation=activation, use_bias=use_bias,
            depthwise_initializer=depthwise_initializer, bias_initializer=bias_initializer,
            depthwise_regularizer=depthwise_regularizer, bias_regularizer=bias_regularizer,
            activity_regularizer=activity_regularizer, depthwise_constraint=depthwise_constraint,
            bias_constraint=bias_constraint, **kwargs,
        )  # fmt: skip
