"""`LSTMCell` and `LSTM`: Hochreiter & Schmidhuber's long short-term memory (gates i, f, c, o)."""

from kbridge import activations, initializers, ops
from kbridge.layers._base import layer_config
from kbridge.layers.rnn._cell_base import BaseCell
from kbridge.layers.rnn._dropout import gated_matmul
from kbridge.layers.rnn._rnn_layer import CellLayer


class LSTMCell(BaseCell):
    """One LSTM step; states `[h, c]`, weights with the gate blocks in the order i, f, c, o.

    Args:
        units: positive int, the output and state size.
        activation: activation of the candidate and the output (default "tanh").
        recurrent_activation: activation of the gates (default "sigmoid").
        use_bias: whether to add a bias.
        kernel_initializer, recurrent_initializer, bias_initializer: initializers
            (defaults "glorot_uniform", "orthogonal", "zeros").
        unit_forget_bias: add 1 to the forget gate's bias at initialization.
        kernel_regularizer, recurrent_regularizer, bias_regularizer: regularizers.
        kernel_constraint, recurrent_constraint, bias_constraint: constraints.
        dropout, recurrent_dropout: dropout rates of the inputs and of `h` while training.
        seed: int seed of the dropout masks.
        **kwargs: base `Layer` arguments.
    """

    _GATES = 4
    _FUSED_KIND = "lstm"  # see kbridge/layers/rnn/_fused.py

    def __init__(
        self,
        units,
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
        super().__init__(
            units, activation, recurrent_activation, use_bias, kernel_initializer, recurrent_initializer,
            bias_initializer, kernel_regularizer, recurrent_regularizer, bias_regularizer, kernel_constraint,
            recurrent_constraint, bias_constraint, dropout, recurrent_dropout, seed, **kwargs,
        )  # fmt: skip
        self.unit_forget_bias = unit_forget_bias
        self.state_size = [units, units]
        self.output_size = units

    def build(self, input_shape):
        initializer = None
        if self.use_bias and self.unit_forget_bias:
            units, base = self.units, self.bias_initializer

            def initializer(shape, dtype=None):
                ones = initializers.get("ones")
                return ops.concatenate([base((units,), dtype=dtype), ones((units,), dtype=dtype),
                                        base((units * 2,), dtype=dtype)])  # fmt: skip

        self._build_weights(input_shape, (self.units * 4,), initializer)

    def call(self, inputs, states, training=False):
        h_prev, c_prev = states[0], states[1]
        dp_mask = self.get_dropout_mask(inputs) if training else None
        rec_mask = self.get_recurrent_dropout_mask(h_prev) if training else None
        z = gated_matmul(inputs, dp_mask, self._weight(self.kernel), 4)
        z = ops.add(z, gated_matmul(h_prev, rec_mask, self._weight(self.recurrent_kernel), 4))
        if self.bias is not None:
            z = ops.add(z, self._weight(self.bias))
        z_i, z_f, z_c, z_o = ops.split(z, 4, axis=-1)
        i = self.recurrent_activation(z_i)
        f = self.recurrent_activation(z_f)
        c = ops.add(ops.multiply(f, c_prev), ops.multiply(i, self.activation(z_c)))
        o = self.recurrent_activation(z_o)
        h = ops.multiply(o, self.activation(c))
        return h, [h, c]

    def get_config(self):
        common = self._common_config()
        return layer_config(
            self,
            units=self.units,
            activation=activations.serialize(self.activation),
            recurrent_activation=activations.serialize(self.recurrent_activation),
            use_bias=self.use_bias,
            unit_forget_bias=self.unit_forget_bias,
            **common,
            seed=self.seed,
        )


class LSTM(CellLayer):
    """Long short-term memory over a `(batch, timesteps, features)` sequence (Keras 3 `LSTM`).

    Args:
        units: positive int, the output size.
        activation, recurrent_activation, use_bias, *_initializer, unit_forget_bias,
            *_regularizer, *_constraint, dropout, recurrent_dropout, seed: as `LSTMCell`.
        activity_regularizer: regularizer of the output.
        return_sequences, return_state, go_backwards, stateful, unroll: as `RNN`.
        use_cudnn: "auto" or True: use the backend's whole-sequence kernel (torch.lstm/torch.gru on
            torch) when the configuration allows it (see `_fused.py`); False: always the cell loop.
        **kwargs: base `Layer` arguments.
    """

    _CELL_KEYS = ("units", "activation", "recurrent_activation", "use_bias", "kernel_initializer",
                  "recurrent_initializer", "bias_initializer", "unit_forget_bias", "kernel_regularizer",
                  "recurrent_regularizer", "bias_regularizer", "activity_regularizer", "kernel_constraint",
                  "recurrent_constraint", "bias_constraint", "dropout", "recurrent_dropout", "seed")  # fmt: skip

    def __init__(
        self,
        units,
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
        unroll=False,
        use_cudnn="auto",
        **kwargs,
    ):
        arguments = dict(locals())  # the constructor arguments, before any other local
        cell = self._make_cell(LSTMCell, arguments, "lstm_cell", kwargs, implementation=kwargs.pop("implementation", 2))
        super().__init__(
            cell, return_sequences=return_sequences, return_state=return_state, go_backwards=go_backwards,
            stateful=stateful, unroll=unroll, activity_regularizer=activity_regularizer, **kwargs,
        )  # fmt: skip
        if use_cudnn not in ("auto", True, False):
            raise ValueError(
                f"{type(self).__name__}: `use_cudnn` must be 'auto', True or False; received {use_cudnn!r}"
            )
        self.use_cudnn = use_cudnn
