"""`BaseConv`: the N-D convolution shared by `Conv1D`, `Conv2D` and `Conv3D`."""

from kbridge import activations, constraints, initializers, ops, regularizers
from kbridge.layers import _spatial
from kbridge.layers._base import check_build_shape, check_positive_int, layer_config, standardize_data_format
from kbridge.layers.input_spec import InputSpec
from kbridge.layers.layer import Layer


class BaseConv(Layer):
    """N-D convolution: `activation(conv(inputs, kernel) + bias)`.

    The kernel has shape `kernel_size + (input_channels // groups, filters)`.

    Args:
        rank: number of spatial dimensions (1, 2 or 3).
        filters: positive int, the number of output channels.
        kernel_size: int or `rank` ints, the window size.
        strides: int or `rank` ints (> 1 excludes `dilation_rate` > 1).
        padding: "valid", "same", or (rank 1 only) "causal" (left padding, no look-ahead).
        data_format: "channels_last" or "channels_first" (None: `image_data_format()`).
        dilation_rate: int or `rank` ints.
        groups: positive int dividing both the input channels and `filters`.
        activation: activation name or callable (None: linear).
        use_bias: whether to add a bias vector.
        kernel_initializer, bias_initializer: initializers.
        kernel_regularizer, bias_regularizer, activity_regularizer: regularizers.
        kernel_constraint, bias_constraint: constraints.
        **kwargs: base `Layer` arguments (name, dtype, trainable, ...).
    """

    _allow_causal = True  # with rank 1 only

    def __init__(
        self,
        rank,
        filters,
        kernel_size,
        strides=1,
        padding="valid",
        data_format=None,
        dilation_rate=1,
        groups=1,
        activation=None,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        **kwargs,
    ):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        layer = type(self).__name__
        self.rank = rank
        self.filters = _positive(filters, "filters", layer)
        self.groups = _positive(groups, "groups", layer)
        self.kernel_size = _spatial.normalize_tuple(kernel_size, rank, "kernel_size", layer)
        self.strides = _spatial.normalize_tuple(strides, rank, "strides", layer)
        self.dilation_rate = _spatial.normalize_tuple(dilation_rate, rank, "dilation_rate", layer)
        self.padding = _spatial.normalize_padding(padding, layer, allow_causal=rank == 1 and self._allow_causal)
        self.data_format = standardize_data_format(data_format)
        _spatial.check_strides_dilation(self.strides, self.dilation_rate, layer)
        if self.filters % self.groups:
            raise ValueError(
                f"{layer}: the number of filters must be evenly divisible by the number of groups. "
                f"Received: groups={self.groups}, filters={self.filters}."
            )
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.input_spec = InputSpec(ndim=rank + 2)
        self.kernel = None
        self.bias = None

    @property
    def _channel_axis(self):
        return -1 if self.data_format == "channels_last" else 1

    def _input_channels(self, input_shape):
        check_build_shape(self, input_shape)
        channels = input_shape[self._channel_axis]
        if channels is None:
            raise ValueError(
                f'Layer "{self.name}" ({type(self).__name__}): the channel dimension of the inputs must be known. '
                f"Received input shape {tuple(input_shape)} with data_format={self.data_format}."
            )
        return channels

    def build(self, input_shape):
        channels = self._input_channels(input_shape)
        if channels % self.groups:
            raise ValueError(
                f'Layer "{self.name}" ({type(self).__name__}): the number of input channels must be evenly divisible '
                f"by the number of groups. Received groups={self.groups}, but the input has {channels} channels "
                f"(full input shape is {tuple(input_shape)})."
            )
        self.compute_output_shape(input_shape)  # raises on an empty output
        self.kernel = self.add_weight(
            name="kernel",
            shape=self.kernel_size + (channels // self.groups, self.filters),
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
        )
        self._add_bias(self.filters)
        self.input_spec = InputSpec(ndim=self.rank + 2, axes={self._channel_axis: channels})

    def _add_bias(self, size):
        if self.use_bias:
            self.bias = self.add_weight(
                name="bias",
                shape=(size,),
                initializer=self.bias_initializer,
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
            )

    def _cast(self, variable):
        return variable if self.compute_dtype == self.variable_dtype else ops.cast(variable, self.compute_dtype)

    def _finish(self, outputs):
        """Adds the bias (broadcast over the channel axis) and applies the activation."""
        if self.bias is not None:
            bias = self._cast(self.bias)
            if self.data_format == "channels_first":
                bias = ops.reshape(bias, (-1,) + (1,) * self.rank)
            outputs = ops.add(outputs, bias)
        return self.activation(outputs)

    def call(self, inputs):
        padding = self.padding
        if padding == "causal":
            left = (self.kernel_size[0] - 1) * self.dilation_rate[0]
            widths = [[0, 0], [left, 0], [0, 0]]
            if self.data_format == "channels_first":
                widths = [[0, 0], [0, 0], [left, 0]]
            inputs = ops.pad(inputs, widths)
            padding = "valid"
        outputs = ops.conv(
            inputs,
            self._cast(self.kernel),
            strides=self.strides,
            padding=padding,
            data_format=self.data_format,
            dilation_rate=self.dilation_rate,
            bias=None if self.bias is None else self._cast(self.bias),
        )
        return self.activation(outputs)

    def _output_channels(self, input_shape):
        return self.filters

    def compute_output_shape(self, input_shape):
        name = type(self).__name__
        if len(input_shape) != self.rank + 2:
            raise ValueError(
                f'Layer "{self.name}" ({name}) expects inputs of rank {self.rank + 2}. '
                f"Received input shape {tuple(input_shape)}."
            )
        batch, spatial, _ = _spatial.split_shape(input_shape, self.data_format)
        lengths = [
            _spatial.window_length(size, k, s, d, self.padding)
            for size, k, s, d in zip(spatial, self.kernel_size, self.strides, self.dilation_rate)
        ]
        _spatial.check_positive_lengths(
            f'Layer "{self.name}" ({name})', input_shape, lengths,
            f"kernel_size={self.kernel_size}, strides={self.strides}, dilation_rate={self.dilation_rate}, "
            f"padding={self.padding}",
        )  # fmt: skip
        return _spatial.join_shape(batch, lengths, self._output_channels(input_shape), self.data_format)

    def get_config(self):
        config = layer_config(self)  # Keras 3 puts a set activity_regularizer first
        config.update(
            filters=self.filters,
            kernel_size=self.kernel_size,
            strides=self.strides,
            padding=self.padding,
            data_format=self.data_format,
            dilation_rate=self.dilation_rate,
            groups=self.groups,
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


def _positive(value, name, layer):
    try:
        return check_positive_int(value, name)
    except ValueError as error:
        raise ValueError(f"{layer}: {error}") from None
