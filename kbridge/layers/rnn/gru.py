"""`GRUCell` and `GRU`: gated recurrent unit (gates z, r, h), `reset_after` as Keras 3."""

from kbridge import activations, ops
from kbridge.layers._base import layer_config
from kbridge.layers.rnn._cell_base import BaseCell
from kbridge.layers.rnn._dropout import gated_matmul
from kbridge.layers.rnn._rnn_layer import CellLayer


class GRUCell(BaseCell):
    """One GRU step; weights with the gate blocks in the order z (update), r (reset), h (candidate).

    With `reset_after=True` (Keras 3's default, cuDNN-compatible) the reset gate multiplies
    `h @ recurrent_kernel_h + recurrent_bias_h`, and the bias has shape `(2, 3 * units)`
    (input bias, recurrent bias); with `reset_after=False` it multiplies `h` before the
    matmul, and the bias has shape `(3 * units,)`.

    Args:
        units: positive int, the output and state size.
        activation: activation of the candidate (default "tanh").
        recurrent_activation: activation of the gates (default "sigmoid").
        use_bias: whether to add biases.
        kernel_initializer, recurrent_initializer, bias_initializer: initializers
            (defaults "glorot_uniform", "orthogonal", "zeros").
        kernel_regularizer, recurrent_regularizer, bias_regularizer: regularizers.
        kernel_constraint, recurrent_constraint, bias_constraint: constraints.
        dropout, recurrent_dropout: dropout rates of the inputs and of the state while training.
        reset_after: apply the reset gate after the recurrent matmul.
        seed: int seed of the dropout masks.
        **kwargs: base `Layer` arguments.
    """

    _GATES = 3
    _FUSED_KIND = "gru"  # see kbridge/layers/rnn/_fused.py (reset_after=True only)

    def __init__(
        self,
        units,
        activation="tanh",
        recurrent_activation="sigmoid",
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
        reset_after=True,
        seed=None,
        **kwargs,
    ):
        super().__init__(
            units, activation, recurrent_activation, use_bias, kernel_initializer, recurrent_initializer,
            bias_initializer, kernel_regularizer, recurrent_regularizer, bias_regularizer, kernel_constraint,
            recurrent_constraint, bias_constraint, dropout, recurrent_dropout, seed, **kwargs,
        )  # fmt: skip
        self.reset_after = reset_after
        self.state_size = units
        self.output_size = units

    def build(self, input_shape):
        bias_shape = (2, 3 * self.units) if self.reset_after else (3 * self.units,)
        self._build_weights(input_shape, bias_shape)

    def call(self, inputs, states, training=False):
        h_prev = states[0] if isinstance(states, (list, tuple)) else states
        dp_mask = self.get_dropout_mask(inputs) if training else None
        rec_mask = self.get_recurrent_dropout_mask(h_prev) if training else None
        input_bias = recurrent_bias = None
        if self.bias is not None:
            bias = self._weight(self.bias)
            if self.reset_after:
                input_bias, recurrent_bias = bias[0], bias[1]
            else:
                input_bias = bias
        x = gated_matmul(inputs, dp_mask, self._weight(self.kernel), 3)
        if input_bias is not None:
            x = ops.add(x, input_bias)
        x_z, x_r, x_h = ops.split(x, 3, axis=-1)
        rec_kernel = self._weight(self.recurrent_kernel)
        k_zr = rec_kernel[:, : 2 * self.units]
        k_h = rec_kernel[:, 2 * self.units :]
        if isinstance(rec_mask, (list, tuple)):
            inner = gated_matmul(h_prev, rec_mask[:2], k_zr, 2)
            h_for_h = ops.multiply(h_prev, rec_mask[2])
        else:
            h_for_h = h_prev if rec_mask is None else ops.multiply(h_prev, rec_mask)
            inner = ops.matmul(h_for_h, k_zr)
        if self.reset_after:
            inner_h = ops.matmul(h_for_h, k_h)
            if recurrent_bias is not None:
                r_bias_zr, r_bias_h = recurrent_bias[: 2 * self.units], recurrent_bias[2 * self.units :]
                inner = ops.add(inner, r_bias_zr)
                inner_h = ops.add(inner_h, r_bias_h)
        r_z, r_r = ops.split(inner, 2, axis=-1)
        z = self.recurrent_activation(ops.add(x_z, r_z))
        r = self.recurrent_activation(ops.add(x_r, r_r))
        if self.reset_after:
            recurrent_h = ops.multiply(r, inner_h)
        else:
            recurrent_h = ops.matmul(ops.multiply(r, h_for_h), k_h)
        hh = self.activation(ops.add(x_h, recurrent_h))
        h = ops.add(ops.multiply(z, h_prev), ops.multiply(ops.subtract(1, z), hh))
        return h, ([h] if isinstance(states, (list, tuple)) else h)

    def get_config(self):
        return layer_config(
            self,
            units=self.units,
            activation=activations.serialize(self.activation),
            recurrent_activation=activations.serialize(self.recurrent_activation),
            use_bias=self.use_bias,
            **self._common_config(),
            reset_after=self.reset_after,
            seed=self.seed,
        )


class GRU(CellLayer):
    """Gated recurrent unit over a `(batch, timesteps, features)` sequence (Keras 3 `GRU`).

    Args:
        units: positive int, the output size.
        activation, recurrent_activation, use_bias, *_initializer, *_regularizer,
            *_constraint, dropout, recurrent_dropout, reset_after, seed: as `GRUCell`.
        activity_regularizer: regularizer of the output.
        return_sequences, return_state, go_backwards, stateful, unroll: as `RNN`.
        use_cudnn: "auto" or True: use the backend's whole-sequence kernel (torch.lstm/torch.gru on
            torch) when the configuration allows it (see `_fused.py`); False: always the cell loop.
        **kwargs: base `Layer` arguments.
    """

    _CELL_KEYS = ("units", "activation", "recurrent_activation", "use_bias", "kernel_initializer",
                  "recurrent_initializer", "bias_initializer", "kernel_regularizer", "recurrent_regularizer",
                  "bias_regularizer", "activity_regularizer", "kernel_constraint", "recurrent_constraint",
                  "bias_constraint", "dropout", "recurrent_dropout", "reset_after", "seed")  # fmt: skip

    def __init__(
        self,
        units,
        activation="tanh",
        recurrent_activation="sigmoid",
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
        seed=None,
        return_sequences=False,
        return_state=False,
        go_backwards=False,
        stateful=False,
        unroll=False,
        reset_after=True,
        use_cudnn="auto",
        **kwargs,
    ):
        arguments = dict(locals())  # the constructor arguments, before any other local
        cell = self._make_cell(GRUCell, arguments, "gru_cell", kwargs, implementation=kwargs.pop("implementation", 2))
        super().__init__(
            cell, return_sequences=return_sequences, return_state=return_state, go_backwards=go_backwards,
            stateful=stateful, unroll=unroll, activity_regularizer=activity_regularizer, **kwargs,
        )  # fmt: skip
        if use_cudnn not in ("auto", True, False):
            raise ValueError(
                f"{type(self).__name__}: `use_cudnn` must be 'auto', True or False; received {use_cudnn!r}"
            )
        self.use_cudnn = use_cudnn
