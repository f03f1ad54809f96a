"""`ConvLSTMCell`: one convolutional LSTM step (Shi et al., 2015), the cell of `ConvLSTM1D/2D/3D`."""

from kbridge import activations, initializers, ops
from kbridge.layers import _spatial
from kbridge.layers._base import check_positive_int, layer_config, standardize_data_format
from kbridge.layers.input_spec import InputSpec
from kbridge.layers.rnn._cell_base import BaseCell


class ConvLSTMCell(BaseCell):
    """One ConvLSTM step: the gates are convolutions of the input and of the previous `h`.

    States `[h, c]` are images of `filters` channels. The kernel has shape
    `kernel_size + (input_channels, 4 * filters)` and the recurrent kernel
    `kernel_size + (filters, 4 * filters)`, gate blocks in the order i, f, c, o. The
    input convolution uses `strides`, `padding` and `dilation_rate`; the recurrent one
    is stride 1 with "same" padding.

    Args:
        rank: number of spatial dimensions (1, 2 or 3).
        filters: positive int, the number of channels of the output and states.
        kernel_size: int or `rank` ints, the window size.
        strides: int or `rank` ints (> 1 excludes `dilation_rate` > 1).
        padding: "valid" or "same".
        data_format: "channels_last" or "channels_first" (None: `image_data_format()`).
        dilation_rate: int or `rank` ints.
        activation, recurrent_activation, use_bias, *_initializer, unit_forget_bias,
            *_regularizer, *_constraint, dropout, recurrent_dropout, seed: as `LSTMCell`.
        **kwargs: base `Layer` arguments.
    """

    _GATES = 4

    def __init__(
        self,
        rank,
        filters,
        kernel_size,
        strides=1,
        padding="valid",
        data_format=None,
        dilation_rate=1,
        activation="tanh",
        recurrent_activation="sigmoid",
        use_bias=True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        unit_forget_bias=True,
        kernel_regularizer=None,
        recurrent_regularizer=None,
        bias_regularizer=None,
        kernel_constraint=None,
        recurrent_constraint=None,
        bias_constraint=None,
        dropout=0.0,
        recurrent_dropout=0.0,
        seed=None,
        **kwargs,
    ):
        layer = type(self).__name__
        if rank not in (1, 2, 3):
            raise ValueError(f"{layer}: `rank` must be 1, 2 or 3. Received: rank={rank!r}")
        try:
            check_positive_int(filters, "filters")
        except ValueError as error:
            raise ValueError(f"{layer}: {error}") from None
        super().__init__(
            filters, activation, recurrent_activation, use_bias, kernel_initializer, recurrent_initializer,
            bias_initializer, kernel_regularizer, recurrent_regularizer, bias_regularizer, kernel_constraint,
            recurrent_constraint, bias_constraint, dropout, recurrent_dropout, seed, **kwargs,
        )  # fmt: skip
        self.rank = rank
        self.filters = filters
        self.kernel_size = _spatial.normalize_tuple(kernel_size, rank, "kernel_size", layer)
        self.strides = _spatial.normalize_tuple(strides, rank, "strides", layer)
        self.padding = _spatial.normalize_padding(padding, layer)
        self.data_format = standardize_data_format(data_format)
        self.dilation_rate = _spatial.normalize_tuple(dilation_rate, rank, "dilation_rate", layer)
        _spatial.check_strides_dilation(self.strides, self.dilation_rate, layer)
        self.unit_forget_bias = unit_forget_bias
        self.input_spec = InputSpec(ndim=rank + 2)
        # Channel counts of h and c (their spatial size follows from the input).
        self.state_size = [filters, filters]
        self.output_size = filters
        self.spatial_dims = None
        self.input_dim = None

    @property
    def _channel_axis(self):
        return -1 if self.data_format == "channels_last" else 1

    def _mask_count(self):
        # Keras's ConvLSTMCell always draws one mask per gate.
        return self._GATES

    def build(self, input_shape, states_shape=None):
        label = f'Layer "{self.name}" ({type(self).__name__})'
        if input_shape is None or len(input_shape) != self.rank + 2:
            raise ValueError(
                f"{label} expects step inputs of rank {self.rank + 2} (batch, *spatial, channels), "
                f"received shape {None if input_shape is None else tuple(input_shape)}."
            )
        _, spatial, channels = _spatial.split_shape(input_shape, self.data_format)
        if any(size is None for size in spatial) or channels is None:
            raise ValueError(
                f"{label} needs static spatial and channel dimensions (data_format={self.data_format}); "
                f"received input shape {tuple(input_shape)}."
            )
        self.spatial_dims, self.input_dim = tuple(spatial), channels
        self.compute_output_shape(input_shape)  # raises on an empty output
        gates = self.filters * 4
        self.kernel = self.add_weight(
            shape=self.kernel_size + (channels, gates), name="kernel", initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer, constraint=self.kernel_constraint,
        )  # fmt: skip
        self.recurrent_kernel = self.add_weight(
            shape=self.kernel_size + (self.filters, gates), name="recurrent_kernel",
            initializer=self.recurrent_initializer, regularizer=self.recurrent_regularizer,
            constraint=self.recurrent_constraint,
        )  # fmt: skip
        if self.use_bias:
            self.bias = self.add_weight(
                shape=(gates,), name="bias", initializer=self._bias_initializer(),
                regularizer=self.bias_regularizer, constraint=self.bias_constraint,
            )  # fmt: skip
        self._build_dropout()
        self.input_spec = InputSpec(ndim=self.rank + 2, shape=(None,) + tuple(input_shape[1:]))

    def _bias_initializer(self):
        if not self.unit_forget_bias:
            return self.bias_initializer
        filters, base = self.filters, self.bias_initializer

        def initializer(shape, dtype=None):
            ones = initializers.get("ones")
            return ops.concatenate(
                [base((filters,), dtype=dtype), ones((filters,), dtype=dtype), base((filters * 2,), dtype=dtype)]
            )

        return initializer

    def _conv(self, x, kernel, bias=None, recurrent=False):
        if recurrent:
            return ops.conv(x, kernel, strides=1, padding="same", data_format=self.data_format)
        return ops.conv(
            x, kernel, strides=self.strides, padding=self.padding, data_format=self.data_format,
            dilation_rate=self.dilation_rate, bias=bias,
        )  # fmt: skip

    def _gates(self, x, mask, kernel, bias, recurrent):
        """The four gate pre-activations: one convolution, or one per gate under dropout masks."""
        if mask is None:
            return ops.split(self._conv(x, kernel, bias, recurrent), 4, axis=self._channel_axis)
        kernels = ops.split(kernel, 4, axis=-1)
        biases = ops.split(bias, 4) if bias is not None else [None] * 4
        return [self._conv(ops.multiply(x, m), k, b, recurrent) for m, k, b in zip(mask, kernels, biases)]

    def call(self, inputs, states, training=False):
        h_prev, c_prev = states[0], states[1]
        dp_mask = self.get_dropout_mask(inputs) if training else None
        rec_mask = self.get_recurrent_dropout_mask(h_prev) if training else None
        bias = self._weight(self.bias) if self.bias is not None else None
        x_gates = self._gates(inputs, dp_mask, self._weight(self.kernel), bias, recurrent=False)
        h_gates = self._gates(h_prev, rec_mask, self._weight(self.recurrent_kernel), None, recurrent=True)
        z_i, z_f, z_c, z_o = (ops.add(a, b) for a, b in zip(x_gates, h_gates))
        i = self.recurrent_activation(z_i)
        f = self.recurrent_activation(z_f)
        c = ops.add(ops.multiply(f, c_prev), ops.multiply(i, self.activation(z_c)))
        o = self.recurrent_activation(z_o)
        h = ops.multiply(o, self.activation(c))
        return h, [h, c]

    def compute_output_shape(self, inputs_shape, states_shape=None):
        batch, spatial, _ = _spatial.split_shape(inputs_shape, self.data_format)
        lengths = [
            _spatial.window_length(size, k, s, d, self.padding)
            for size, k, s, d in zip(spatial, self.kernel_size, self.strides, self.dilation_rate)
        ]
        _spatial.check_positive_lengths(
            f'Layer "{self.name}" ({type(self).__name__})', inputs_shape, lengths,
            f"kernel_size={self.kernel_size}, strides={self.strides}, dilation_rate={self.dilation_rate}, "
            f"padding={self.padding}",
        )  # fmt: skip
        shape = _spatial.join_shape(batch, lengths, self.filters, self.data_format)
        return shape, [shape, shape]

    def get_initial_state(self, batch_size=None):
        """Zero `[h, c]` of the output's shape (needs the cell built)."""
        step_shape = _spatial.join_shape(batch_size, self.spatial_dims, self.input_dim, self.data_format)
        shape = self.compute_output_shape(step_shape)[0]
        return [ops.zeros(shape, dtype=self.compute_dtype), ops.zeros(shape, dtype=self.compute_dtype)]

    def get_config(self):
        # `rank` comes first so the cell rebuilds from its config (Keras's own cell config omits it).
        common = self._common_config()
        weights_init = {k: common.pop(k) for k in ("kernel_initializer", "recurrent_initializer", "bias_initializer")}
        return layer_config(
            self,
            rank=self.rank,
            filters=self.filters,
            kernel_size=self.kernel_size,
            strides=self.strides,
            padding=self.padding,
            data_format=self.data_format,
            dilation_rate=self.dilation_rate,
            activation=activations.serialize(self.activation),
            recurrent_activation=activations.serialize(self.recurrent_activation),
            use_bias=self.use_bias,
            **weights_init,
            unit_forget_bias=self.unit_forget_bias,
            **common,
            seed=self.seed,
        )
