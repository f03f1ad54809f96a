"""`SimpleRNNCell` and `SimpleRNN`: `h_t = activation(x_t @ kernel + h_{t-1} @ recurrent_kernel + bias)`."""

from kbridge import activations, ops
from kbridge.layers._base import layer_config
from kbridge.layers.rnn._cell_base import BaseCell
from kbridge.layers.rnn._dropout import gated_matmul
from kbridge.layers.rnn._rnn_layer import CellLayer


class SimpleRNNCell(BaseCell):
    """One step of a fully-connected RNN whose output is fed back as the state.

    Args:
        units: positive int, the output and state size.
        activation: activation (default "tanh"; None: linear).
        use_bias: whether to add a bias vector.
        kernel_initializer, recurrent_initializer, bias_initializer: initializers
            (defaults "glorot_uniform", "orthogonal", "zeros").
        kernel_regularizer, recurrent_regularizer, bias_regularizer: regularizers.
        kernel_constraint, recurrent_constraint, bias_constraint: constraints.
        dropout: fraction of the inputs dropped while training.
        recurrent_dropout: fraction of the previous state dropped while training.
        seed: int seed of the dropout masks.
        **kwargs: base `Layer` arguments.
    """

    def __init__(
        self,
        units,
        activation="tanh",
        use_bias=True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
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
        super().__init__(
            units, activation, None, use_bias, kernel_initializer, recurrent_initializer, bias_initializer,
            kernel_regularizer, recurrent_regularizer, bias_regularizer, kernel_constraint, recurrent_constraint,
            bias_constraint, dropout, recurrent_dropout, seed, **kwargs,
        )  # fmt: skip
        self.state_size = units
        self.output_size = units

    def build(self, input_shape):
        self._build_weights(input_shape, (self.units,))

    def call(self, sequence, states, training=False):
        prev_output = states[0] if isinstance(states, (list, tuple)) else states
        dp_mask = self.get_dropout_mask(sequence) if training else None
        rec_mask = self.get_recurrent_dropout_mask(prev_output) if training else None
        h = gated_matmul(sequence, dp_mask, self._weight(self.kernel), 1)
        if self.bias is not None:
            h = ops.add(h, self._weight(self.bias))
        recurrent = gated_matmul(prev_output, rec_mask, self._weight(self.recurrent_kernel), 1)
        output = self.activation(ops.add(h, recurrent))
        return output, ([output] if isinstance(states, (list, tuple)) else output)

    def get_config(self):
        return layer_config(
            self,
            units=self.units,
            activation=activations.serialize(self.activation),
            use_bias=self.use_bias,
            **self._common_config(),
            seed=self.seed,
        )


class SimpleRNN(CellLayer):
    """Fully-connected RNN over a `(batch, timesteps, features)` sequence (Keras 3 `SimpleRNN`).

    Args:
        units: positive int, the output size.
        activation, use_bias, *_initializer, *_regularizer, *_constraint, dropout,
            recurrent_dropout, seed: as `SimpleRNNCell`.
        activity_regularizer: regularizer of the output.
        return_sequences, return_state, go_backwards, stateful, unroll: as `RNN`.
        **kwargs: base `Layer` arguments.
    """

    _CELL_KEYS = ("units", "activation", "use_bias", "kernel_initializer", "recurrent_initializer",
                  "bias_initializer", "kernel_regularizer", "recurrent_regularizer", "bias_regularizer",
                  "activity_regularizer", "kernel_constraint", "recurrent_constraint", "bias_constraint", "dropout",
                  "recurrent_dropout")  # fmt: skip

    def __init__(
        self,
        units,
        activation="tanh",
        use_bias=True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        kernel_regularizer=None,
        recurrent_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        recurrent_constraint=None,
        bias_constraint=None,
        dropout=0.0,
        recurrent_dropout=0.0,
        return_sequences=False,
        return_state=False,
        go_backwards=False,
        stateful=False,
        unroll=False,
        seed=None,
        **kwargs,
    ):
        arguments = dict(locals())  # the constructor arguments, before any other local
        cell = self._make_cell(SimpleRNNCell, arguments, "simple_rnn_cell", kwargs)
        super().__init__(
            cell, return_sequences=return_sequences, return_state=return_state, go_backwards=go_backwards,
            stateful=stateful, unroll=unroll, activity_regularizer=activity_regularizer, **kwargs,
        )  # fmt: skip
