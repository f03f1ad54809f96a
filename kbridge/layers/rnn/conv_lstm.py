"""`ConvLSTM1D`, `ConvLSTM2D`, `ConvLSTM3D`: an LSTM whose transformations are convolutions."""

from kbridge import ops
from kbridge.layers.input_spec import InputSpec
from kbridge.layers.rnn._rnn_layer import CellLayer
from kbridge.layers.rnn.conv_lstm_cell import ConvLSTMCell


class ConvLSTM(CellLayer):
    """N-D convolutional LSTM over `(batch, timesteps, *spatial, channels)` sequences (channels_last).

    With `data_format="channels_first"` the sequences are `(batch, timesteps, channels, *spatial)`.
    The output (and each state) is the convolution output of one step: `(batch, *new_spatial,
    filters)`, with a time axis after the batch when `return_sequences=True`.

    Args:
        rank: number of spatial dimensions (1, 2 or 3).
        filters, kernel_size, strides, padding, data_format, dilation_rate, activation,
            recurrent_activation, use_bias, *_initializer, unit_forget_bias, *_regularizer,
            *_constraint, dropout, recurrent_dropout, seed: as `ConvLSTMCell`.
        activity_regularizer: regularizer of the output.
        return_sequences, return_state, go_backwards, stateful: as `RNN`.
        **kwargs: base `Layer` arguments (and `RNN`'s `unroll`, `zero_output_for_mask`).
    """

    _CELL_KEYS = ("filters", "kernel_size", "strides", "padding", "data_format", "dilation_rate", "activation",
                  "recurrent_activation", "use_bias", "kernel_initializer", "recurrent_initializer",
                  "bias_initializer", "unit_forget_bias", "kernel_regularizer", "recurrent_regularizer",
                  "bias_regularizer", "activity_regularizer", "kernel_constraint", "recurrent_constraint",
                  "bias_constraint", "dropout", "recurrent_dropout", "seed")  # fmt: skip

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
        activity_regularizer=None,
        kernel_constraint=None,
        recurrent_constraint=None,
        bias_constraint=None,
        dropout=0.0,
        recurrent_dropout=0.0,
        seed=None,
        return_sequences=False,
        return_state=False,
        go_backwards=False,
        stateful=False,
        **kwargs,
    ):
        arguments = dict(locals())  # the constructor arguments, before any other local
        cell = self._make_cell(ConvLSTMCell, arguments, "conv_lstm_cell", kwargs, rank)
        super().__init__(
            cell, return_sequences=return_sequences, return_state=return_state, go_backwards=go_backwards,
            stateful=stateful, activity_regularizer=activity_regularizer, **kwargs,
        )  # fmt: skip
        self.rank = rank
        self.input_spec = InputSpec(ndim=rank + 3)

    def _check_rank(self, shape):
        ndim = self.rank + 3
        if shape is None or len(shape) != ndim:
            layout = "*spatial, channels" if self.cell.data_format == "channels_last" else "channels, *spatial"
            raise ValueError(
                f"{self._layer_label()} expects {ndim}-D inputs (batch_size, timesteps, {layout}), "
                f"received an input of shape {tuple(shape) if shape is not None else None}."
            )

    def compute_output_shape(self, sequences_shape, initial_state_shape=None):
        self._check_rank(sequences_shape)
        batch_size, steps = sequences_shape[0], sequences_shape[1]
        state_shape = self.cell.compute_output_shape((batch_size,) + tuple(sequences_shape[2:]))[0]
        output_shape = (batch_size, steps) + tuple(state_shape[1:]) if self.return_sequences else state_shape
        if self.return_state:
            return output_shape, state_shape, state_shape
        return output_shape

    def _output_feature_rank(self):
        return self.rank + 1  # image-shaped outputs: spatial axes and channels

    def _initial_output(self, flat_states, batch_size, dtype):
        return ops.zeros_like(flat_states[0])


class ConvLSTM1D(ConvLSTM):
    """1-D convolutional LSTM: `(batch, timesteps, steps, channels)` sequences (Keras 3 `ConvLSTM1D`).

    Args:
        filters, kernel_size, strides, padding, data_format, dilation_rate, and the rest: as `ConvLSTM`.
    """

    def __init__(self, filters, kernel_size, *args, **kwargs):
        super().__init__(1, filters, kernel_size, *args, **kwargs)


class ConvLSTM2D(ConvLSTM):
    """2-D convolutional LSTM: `(batch, timesteps, rows, cols, channels)` sequences (Keras 3 `ConvLSTM2D`).

    Args:
        filters, kernel_size, strides, padding, data_format, dilation_rate, and the rest: as `ConvLSTM`.
    """

    def __init__(self, filters, kernel_size, *args, **kwargs):
        super().__init__(2, filters, kernel_size, *args, **kwargs)


class ConvLSTM3D(ConvLSTM):
    """3-D convolutional LSTM: `(batch, timesteps, dim1, dim2, dim3, channels)` sequences (Keras 3 `ConvLSTM3D`).

    Args:
        filters, kernel_size, strides, padding, data_format, dilation_rate, and the rest: as `ConvLSTM`.
    """

    def __init__(self, filters, kernel_size, *args, **kwargs):
        super().__init__(3, filters, kernel_size, *args, **kwargs)
