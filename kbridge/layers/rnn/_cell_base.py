"""What the built-in cells share: arguments, weight creation and config entries."""

from kbridge import activations, constraints, initializers, ops, regularizers
from kbridge.layers.layer import Layer
from kbridge.layers.rnn._dropout import DropoutRNNCell, check_units


class BaseCell(Layer, DropoutRNNCell):
    """A cell with `kernel`, `recurrent_kernel` and optional `bias` (gate blocks side by side).

    Args:
        units: positive int, the state size.
        activation, recurrent_activation: activations (names or callables).
        use_bias: whether to add a bias.
        kernel_initializer, recurrent_initializer, bias_initializer: initializers.
        kernel_regularizer, recurrent_regularizer, bias_regularizer: regularizers.
        kernel_constraint, recurrent_constraint, bias_constraint: constraints.
        dropout, recurrent_dropout: dropout rates of the inputs and of the state.
        seed: int seed of the dropout masks.
        **kwargs: base `Layer` arguments.
    """

    def __init__(
        self, units, activation, recurrent_activation, use_bias, kernel_initializer, recurrent_initializer,
        bias_initializer, kernel_regularizer, recurrent_regularizer, bias_regularizer, kernel_constraint,
        recurrent_constraint, bias_constraint, dropout, recurrent_dropout, seed, **kwargs,
    ):  # fmt: skip
        check_units(type(self).__name__, units)
        self.implementation = kwargs.pop("implementation", 2)
        super().__init__(**kwargs)
        self.units = units
        self.activation = activations.get(activation)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = regularizers.get(recurrent_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.recurrent_constraint = constraints.get(recurrent_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self._init_dropout(dropout, recurrent_dropout, seed)
        self.kernel = None
        self.recurrent_kernel = None
        self.bias = None

    def _check_step_shape(self, input_shape):
        if input_shape is None or len(input_shape) < 2 or input_shape[-1] is None:
            raise ValueError(
                f'Layer "{self.name}" ({type(self).__name__}) expects step inputs of shape (batch, features) with '
                f"a known feature size, received shape {input_shape}."
            )

    def _build_weights(self, input_shape, bias_shape, bias_initializer=None):
        self._check_step_shape(input_shape)
        gates = self._GATES
        self.kernel = self.add_weight(
            shape=(input_shape[-1], self.units * gates), name="kernel", initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer, constraint=self.kernel_constraint,
        )  # fmt: skip
        self.recurrent_kernel = self.add_weight(
            shape=(self.units, self.units * gates), name="recurrent_kernel", initializer=self.recurrent_initializer,
            regularizer=self.recurrent_regularizer, constraint=self.recurrent_constraint,
        )  # fmt: skip
        if self.use_bias:
            self.bias = self.add_weight(
                shape=bias_shape, name="bias", initializer=bias_initializer or self.bias_initializer,
                regularizer=self.bias_regularizer, constraint=self.bias_constraint,
            )  # fmt: skip
        self._build_dropout()

    def _weight(self, variable):
        value = variable.value
        if self.compute_dtype != self.variable_dtype:
            value = ops.cast(value, self.compute_dtype)
        return value

    def get_initial_state(self, batch_size=None):
        """Zero states, one `(batch_size, size)` tensor per entry of `state_size`."""
        sizes = self.state_size if isinstance(self.state_size, (list, tuple)) else [self.state_size]
        return [ops.zeros((batch_size, size), dtype=self.compute_dtype) for size in sizes]

    def _common_config(self):
        """Config entries after `units` in Keras's order (cell-specific keys are inserted by subclasses)."""
        return {
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "recurrent_initializer": initializers.serialize(self.recurrent_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
            "recurrent_regularizer": regularizers.serialize(self.recurrent_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
            "kernel_constraint": constraints.serialize(self.kernel_constraint),
            "recurrent_constraint": constraints.serialize(self.recurrent_constraint),
            "bias_constraint": constraints.serialize(self.bias_constraint),
            "dropout": self.dropout,
            "recurrent_dropout": self.recurrent_dropout,
        }
