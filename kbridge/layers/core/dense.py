"""`Dense`: `activation(inputs @ kernel + bias)`."""

from kbridge import activations, constraints, initializers, ops, regularizers
from kbridge.backend import hooks
from kbridge.layers._base import layer_config
from kbridge.layers.input_spec import InputSpec
from kbridge.layers.layer import Layer


def _unsupported(layer_name, lora_rank, quantization_config):
    if lora_rank:
        raise NotImplementedError(f"{layer_name}: `lora_rank` is not supported by kbridge yet.")
    if quantization_config is not None:
        raise NotImplementedError(f"{layer_name}: `quantization_config` is not supported by kbridge yet.")


class Dense(Layer):
    """Densely-connected layer: `output = activation(dot(input, kernel) + bias)`.

    Applies to the last axis of inputs of rank >= 2.

    Args:
        units: positive int, the output size.
        activation: activation name or callable (None: linear).
        use_bias: whether to add a bias vector.
        kernel_initializer, bias_initializer: initializers.
        kernel_regularizer, bias_regularizer, activity_regularizer: regularizers.
        kernel_constraint, bias_constraint: constraints.
        lora_rank, lora_alpha, quantization_config: accepted for Keras compatibility (must be unset).
        **kwargs: base `Layer` arguments (name, dtype, trainable, ...).
    """

    def __init__(
        self,
        units,
        activation=None,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        lora_rank=None,
        lora_alpha=None,
        quantization_config=None,
        **kwargs,
    ):
        if not isinstance(units, int) or isinstance(units, bool) or units <= 0:
            raise ValueError(f"Received an invalid value for `units`, expected a positive integer. Received: units={units}")
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        _unsupported(type(self).__name__, lora_rank, quantization_config)
        self.units = units
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.input_spec = InputSpec(min_ndim=2)
        self.supports_masking = True
        self.kernel = None
        self.bias = None

    def build(self, input_shape):
        input_dim = input_shape[-1]
        self.kernel = self.add_weight(
            name="kernel",
            shape=(input_dim, self.units),
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
        )
        if self.use_bias:
            self.bias = self.add_weight(
                name="bias",
                shape=(self.units,),
                initializer=self.bias_initializer,
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
            )
        self.input_spec = InputSpec(min_ndim=2, axes={-1: input_dim})

    def call(self, inputs, training=None):
        kernel, bias = self.kernel, self.bias
        policy = self.dtype_policy
        if policy.compute_dtype != policy.variable_dtype:
            kernel = ops.cast(kernel, policy.compute_dtype)
            bias = None if bias is None else ops.cast(bias, policy.compute_dtype)
        kernel_fn = hooks.fused("fused_dense")  # torch: one addmm, as nn.Linear
        x = None if kernel_fn is None else kernel_fn(inputs, kernel, bias)
        if x is None:
            x = ops.matmul(inputs, kernel)
            if bias is not None:
                x = ops.add(x, bias)
        return self.activation(x)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def get_config(self):
        return layer_config(
            self,
            units=self.units,
            activation=activations.serialize(self.activation),
            use_bias=self.use_bias,
            kernel_initializer=initializers.serialize(self.kernel_initializer),
            bias_initializer=initializers.serialize(self.bias_initializer),
            kernel_regularizer=regularizers.serialize(self.kernel_regularizer),
            bias_regularizer=regularizers.serialize(self.bias_regularizer),
            kernel_constraint=constraints.serialize(self.kernel_constraint),
            bias_constraint=constraints.serialize(self.bias_constraint),
            quantization_config=None,
        )
