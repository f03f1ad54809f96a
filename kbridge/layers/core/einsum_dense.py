"""`EinsumDense`: a dense layer whose contraction is an einsum equation."""

import re

from kbridge import activations, constraints, initializers, ops, regularizers
from kbridge.backend import hooks
from kbridge.initializers import VarianceScaling
from kbridge.layers._base import layer_config
from kbridge.layers.core.dense import _unsupported
from kbridge.layers.input_spec import InputSpec
from kbridge.layers.layer import Layer


class EinsumDense(Layer):
    """`activation(einsum(equation, inputs, kernel) + bias)` with a kernel shaped by `equation`.

    Args:
        equation: "ab,bc->ac" style equation: inputs, kernel -> output. An ellipsis
            may stand for leading (`...b,bc->...c`) or trailing (`ab...,bc->ac...`) axes.
        output_shape: the output shape without the batch axis (int or tuple; None
            entries take the input's size).
        activation: activation name or callable.
        bias_axes: letters of the output axes that get a bias, or None.
        kernel_initializer, bias_initializer: initializers.
        kernel_regularizer, bias_regularizer: regularizers.
        kernel_constraint, bias_constraint: constraints.
        lora_rank, lora_alpha, gptq_unpacked_column_size, quantization_config:
            accepted for Keras compatibility (must be unset).
        **kwargs: base `Layer` arguments.
    """

    def __init__(
        self,
        equation,
        output_shape,
        activation=None,
        bias_axes=None,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        lora_rank=None,
        lora_alpha=None,
        gptq_unpacked_column_size=None,
        quantization_config=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        _unsupported(type(self).__name__, lora_rank, quantization_config)
        self.equation = equation
        self.partial_output_shape = (output_shape,) if isinstance(output_shape, int) else tuple(output_shape)
        self.bias_axes = bias_axes
        self.activation = activations.get(activation)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.kernel = None
        self.bias = None
        # Fail at construction, not at build, on a malformed equation.
        _split_equation(equation)

    def build(self, input_shape):
        kernel_shape, bias_shape, _, input_axes, output_axes = analyze_einsum(
            self.equation, self.bias_axes, input_shape, self.partial_output_shape
        )
        self.input_spec = InputSpec(ndim=len(input_shape))
        initializer = self.kernel_initializer
        if isinstance(initializer, VarianceScaling) and (initializer.input_axes is None or initializer.output_axes is None):
            # Fans must come from the contracted/produced axes, not the last two.
            config = initializer.get_config()
            config.update(seed=initializer.seed, input_axes=input_axes, output_axes=output_axes)
            initializer = type(initializer).from_config(config)
        self.kernel = self.add_weight(
            name="kernel",
            shape=tuple(kernel_shape),
            initializer=initializer,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
        )
        if bias_shape is not None:
            self.bias = self.add_weight(
                name="bias",
                shape=tuple(bias_shape),
                initializer=self.bias_initializer,
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
            )

    def call(self, inputs, training=None):
        kernel = self.kernel
        if self.compute_dtype != self.variable_dtype:
            kernel = ops.cast(kernel, self.compute_dtype)
        bias = self.bias
        if bias is not None and self.compute_dtype != self.variable_dtype:
            bias = ops.cast(bias, self.compute_dtype)
        kernel_fn = hooks.fused("fused_einsum_dense")  # torch: one addmm for a plain projection
        x = None if kernel_fn is None else kernel_fn(self.equation, inputs, kernel, bias)
        if x is None:
            x = ops.einsum(self.equation, inputs, kernel)
            if bias is not None:
                x = ops.add(x, bias)
        return self.activation(x)

    def compute_output_shape(self, input_shape):
        return tuple(analyze_einsum(self.equation, self.bias_axes, input_shape, self.partial_output_shape)[2])

    def get_config(self):
        return layer_config(
            self,
            output_shape=self.partial_output_shape,
            equation=self.equation,
            activation=activations.serialize(self.activation),
            bias_axes=self.bias_axes,
            kernel_initializer=initializers.serialize(self.kernel_initializer),
            bias_initializer=initializers.serialize(self.bias_initializer),
            kernel_regularizer=regularizers.serialize(self.kernel_regularizer),
            bias_regularizer=regularizers.serialize(self.bias_regularizer),
            activity_regularizer=regularizers.serialize(self.activity_regularizer),
            kernel_constraint=constraints.serialize(self.kernel_constraint),
            bias_constraint=constraints.serialize(self.bias_constraint),
            quantization_config=None,
        )


def _split_equation(equation):
    """Returns `(input_spec, weight_spec, output_spec, elided_side)`; side is None, "left" or "right"."""
    marked = equation.replace("...", "0") if isinstance(equation, str) else ""
    forms = (
        ("([a-zA-Z]+),([a-zA-Z]+)->([a-zA-Z]+)$", None),
        ("0([a-zA-Z]+),([a-zA-Z]+)->0([a-zA-Z]+)$", "left"),
        ("([a-zA-Z]{2,})0,([a-zA-Z]+)->([a-zA-Z]+)0$", "right"),
    )
    for pattern, side in forms:
        match = re.match(pattern, marked)
        if match:
            return match.group(1), match.group(2), match.group(3), side
    raise ValueError(
        f"Invalid einsum equation '{equation}'. Equations must be in the form "
        "[X],[Y]->[Z], ...[X],[Y]->...[Z], or [X]...,[Y]->[Z]...."
    )


def analyze_einsum(equation, bias_axes, input_shape, output_shape):
    """Derives the weight shapes from an EinsumDense equation.

    Args:
        equation: the layer's equation.
        bias_axes: output letters that get a bias, or None.
        input_shape: the full input shape (batch included).
        output_shape: the partial output shape given to the layer (no batch axis).

    Returns:
        `(kernel_shape, bias_shape or None, full_output_shape, kernel_input_axes, kernel_output_axes)`.
    """
    in_spec, w_spec, out_spec, side = _split_equation(equation)
    input_shape = tuple(input_shape)
    elided = len(input_shape) - len(in_spec)
    partial = [output_shape] if isinstance(output_shape, int) else list(output_shape)
    # The full output: batch axis, then the letters of `out_spec`, with elided axes
    # spliced in on the side the ellipsis stands.
    full = [input_shape[0]] + partial
    if elided > 0 and side == "left":
        full = [input_shape[0]] + list(input_shape[1:elided]) + partial
    elif elided > 0 and side == "right":
        full = full + list(input_shape[len(input_shape) - elided :])
    if side == "left":
        in_pos = {c: i + elided - len(input_shape) for i, c in enumerate(in_spec)}
        out_pos = {c: i + elided for i, c in enumerate(out_spec)}
    else:
        in_pos = {c: i for i, c in enumerate(in_spec)}
        out_pos = {c: i for i, c in enumerate(out_spec)}
    for c in in_spec:
        if c in out_pos:
            got_in, got_out = input_shape[in_pos[c]], full[out_pos[c]]
            if got_out is not None and got_out != got_in:
                raise ValueError(
                    f"Input shape and output shape do not match at shared dimension '{c}'. "
                    f"Input shape is {got_in}, and output shape is {got_out}."
                )
            if got_out is None:
                # Unlike Keras, a shared axis left as None takes the input's size.
                full[out_pos[c]] = got_in
    for c in out_spec:
        if c not in in_spec and c not in w_spec:
            raise ValueError(
                f"Dimension '{c}' was specified in the output '{out_spec}' but has no corresponding dim in "
                f"the input spec '{in_spec}' or weight spec '{w_spec}'"
            )
    kernel_shape, kernel_in_axes, kernel_out_axes = [], [], []
    for axis, c in enumerate(w_spec):
        if c in out_pos:
            kernel_shape.append(full[out_pos[c]])
            kernel_out_axes.append(axis)
        elif c in in_pos:
            kernel_shape.append(input_shape[in_pos[c]])
            kernel_in_axes.append(axis)
        else:
            raise ValueError(
                f"Weight dimension '{c}' did not have a match in either the input spec '{in_spec}' or the "
                f"output spec '{out_spec}'. For this layer, the weight must be fully specified."
            )
    bias_shape = None
    if bias_axes is not None:
        for c in bias_axes:
            if c not in out_spec:
                raise ValueError(f"Bias dimension '{c}' was requested, but is not part of the output spec '{out_spec}'")
        offset = elided if side == "left" else 0
        sizes = {c: full[i + offset] for i, c in enumerate(out_spec)}
        first = min(out_spec.find(c) for c in bias_axes)
        bias_shape = [sizes[c] if c in bias_axes else 1 for c in out_spec[first:]]
        if side != "left":
            bias_shape += [1] * max(elided, 0)
    return kernel_shape, bias_shape, full, kernel_in_axes, kernel_out_axes
