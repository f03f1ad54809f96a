"""`Conv1DTranspose`, `Conv2DTranspose`, `Conv3DTranspose`: transposed (fractionally strided) convolutions."""

from kbridge import activations, constraints, initializers, ops, regularizers
from kbridge.layers import _spatial
from kbridge.layers.convolutional.base_conv import BaseConv
from kbridge.layers._base import layer_config
from kbridge.layers.input_spec import InputSpec


class BaseConvTranspose(BaseConv):
    """N-D transposed convolution, the gradient of `conv` with respect to its input.

    The kernel has shape `kernel_size + (filters, input_channels)`.

    Args:
        rank: number of spatial dimensions (1, 2 or 3).
        filters: the number of output channels.
        kernel_size, strides, dilation_rate: ints or `rank` ints.
        padding: "valid" or "same".
        output_padding: None, or an int or `rank` ints, each < the stride: extra
            size added at the end of each spatial dimension.
        data_format, activation, use_bias, initializers, regularizers, constraints:
            as in `BaseConv`.
        **kwargs: base `Layer` arguments.
    """

    _allow_causal = False

    def __init__(self, rank, filters, kernel_size, strides=1, padding="valid", output_padding=None, data_format=None,
                 dilation_rate=1, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):  # fmt: skip
        super().__init__(
            rank, filters, kernel_size, strides=strides, padding=padding, data_format=data_format,
            dilation_rate=dilation_rate, activation=activation, use_bias=use_bias,
            kernel_initializer=kernel_initializer, bias_initializer=bias_initializer,
            kernel_regularizer=kernel_regularizer, bias_regularizer=bias_regularizer,
            activity_regularizer=activity_regularizer, kernel_constraint=kernel_constraint,
            bias_constraint=bias_constraint, **kwargs,
        )  # fmt: skip
        self.output_padding = None
        if output_padding is not None:
            layer = type(self).__name__
            self.output_padding = _spatial.normalize_tuple(output_padding, rank, "output_padding", layer, allow_zero=True)
            for axis, (stride, extra) in enumerate(zip(self.strides, self.output_padding)):
                if extra >= stride:
                    raise ValueError(
                        f"{layer}: `output_padding` must be strictly less than `strides` for all dimensions. "
                        f"At dimension {axis}, `output_padding` is {extra} but `strides` is {stride}. "
                        f"Received: output_padding={self.output_padding}, strides={self.strides}"
                    )

    def build(self, input_shape):
        channels = self._input_channels(input_shape)
        self.compute_output_shape(input_shape)
        self.kernel = self.add_weight(
            name="kernel",
            shape=self.kernel_size + (self.filters, channels),
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
        )
        self._add_bias(self.filters)
        self.input_spec = InputSpec(ndim=self.rank + 2, axes={self._channel_axis: channels})

    def call(self, inputs):
        outputs = ops.conv_transpose(
            inputs,
            self._cast(self.kernel),
            strides=self.strides,
            padding=self.padding,
            output_padding=self.output_padding,
            data_format=self.data_format,
            dilation_rate=self.dilation_rate,
        )
        return self._finish(outputs)

    def compute_output_shape(self, input_shape):
        name = type(self).__name__
        if len(input_shape) != self.rank + 2:
            raise ValueError(
                f'Layer "{self.name}" ({name}) expects inputs of rank {self.rank + 2}. '
                f"Received input shape {tuple(input_shape)}."
            )
        batch, spatial, _ = _spatial.split_shape(input_shape, self.data_format)
        extras = self.output_padding or (None,) * self.rank
        lengths = [
            _spatial.transpose_length(size, k, s, d, self.padding, e)
            for size, k, s, d, e in zip(spatial, self.kernel_size, self.strides, self.dilation_rate, extras)
        ]
        return _spatial.join_shape(batch, lengths, self.filters, self.data_format)

    def get_config(self):
        config = layer_config(self)  # Keras 3 puts a set activity_regularizer first
        config.update(
            filters=self.filters,
            kernel_size=self.kernel_size,
            strides=self.strides,
            padding=self.padding,
            output_padding=self.output_padding,
            data_format=self.data_format,
            dilation_rate=self.dilation_rate,
            activation=activations.serialize(self.activation),
            use_bias=self.use_bias,
            kernel_initializer=initializers.serialize(self.kernel_initializer),
            bias_initializer=initializers.serialize(self.bias_initializer),
            kernel_regularizer=regularizers.serialize(self.kernel_regularizer),
            bias_regularizer=regularizers.serialize(self.bias_regularizer),
            activity_regularizer=regularizers.serialize(self.activity_regularizer),
            kernel_constraint=constraints.serialize(self.kernel_constraint),
            bias_constraint=constraints.serialize(self.bias_constraint),
        )
        return config


def _transpose_class(rank, name, doc, default):
    def __init__(self, filters, kernel_size, strides=default, padding="valid", output_padding=None, data_format=None,
                 dilation_rate=default, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):  # fmt: skip
        BaseConvTranspose.__init__(
            self, rank, filters, kernel_size, strides=strides, padding=padding, output_padding=output_padding,
            data_format=data_format, dilation_rate=dilation_rate, activation=activation, use_bias=use_bias,
            kernel_initializer=kernel_initializer, bias_initializer=bias_initializer,
            kernel_regularizer=kernel_regularizer, bias_regularizer=bias_regularizer,
            activity_regularizer=activity_regularizer, kernel_constraint=kernel_constraint,
            bias_constraint=bias_constraint, **kwargs,
        )  # fmt: skip

    return type(name, (BaseConvTranspose,), {"__init__": __init__, "__doc__": doc, "__module__": __name__})


_ARGS = """

    Args:
        filters: the number of output channels.
        kernel_size, strides, dilation_rate: ints or {rank} ints.
        padding: "valid" or "same".
        output_padding: None, or an int or {rank} ints (each < the stride).
        data_format, activation, use_bias, initializers, regularizers, constraints:
            as in `BaseConv`.
        **kwargs: base `Layer` arguments.
    """
Conv1DTranspose = _transpose_class(
    1, "Conv1DTranspose", "1-D transposed convolution; the output length grows by the stride." + _ARGS.format(rank=1), 1
)
Conv2DTranspose = _transpose_class(
    2, "Conv2DTranspose", "2-D transposed convolution (upsampling images)." + _ARGS.format(rank=2), (1, 1)
)
Conv3DTranspose = _transpose_class(
    3, "Conv3DTranspose", "3-D transposed convolution (upsampling volumes)." + _ARGS.format(rank=3), (1, 1, 1)
)
Convolution1DTranspose = Conv1DTranspose
Convolution2DTranspose = Conv2DTranspose
Convolution3DTranspose = Conv3DTranspose
