"""`MultiHeadAttention`: Keras 3's multi-head dot-product attention on `EinsumDense` projections."""

import math
import string

from kbridge import constraints, initializers, ops, regularizers
from kbridge.layers._base import layer_config
from kbridge.layers.attention import _masking
from kbridge.layers.core.einsum_dense import EinsumDense
from kbridge.layers.layer import Layer
from kbridge.layers.regularization import Dropout
from kbridge.symbolic.keras_tensor import KerasTensor


class MultiHeadAttention(Layer):
    """Multi-head attention (Vaswani et al.), as Keras 3's `MultiHeadAttention`.

    Sublayers `query_dense`, `key_dense`, (`gate_dense`), `value_dense` and `output_dense`
    are `EinsumDense` layers named "query", "key", ("gate"), "value", "attention_output";
    the weights come in that order, so Keras's weight list loads with `set_weights`.

    Args:
        num_heads: number of attention heads.
        key_dim: size of each head for query and key.
        value_dim: size of each head for value (None: `key_dim`).
        dropout: dropout rate on the attention probabilities.
        use_bias: whether the projections have biases.
        output_shape: output size(s) without batch/sequence axes (None: query's last dim).
        attention_axes: axes attention runs over (None: all but batch, heads, features).
        sliding_window: optional positive int; keys farther than `sliding_window - 1` are masked.
        flash_attention: accepted for Keras compatibility (no dropout, no scores when True).
        kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer,
        activity_regularizer, kernel_constraint, bias_constraint: passed to the projections.
        use_gate: sigmoid gate (an extra "gate" projection) on the attention output.
        seed: seed of the dropout.
        **kwargs: base `Layer` arguments.
    """

    def __init__(
        self,
        num_heads,
        key_dim,
        value_dim=None,
        dropout=0.0,
        use_bias=True,
        output_shape=None,
        attention_axes=None,
        sliding_window=None,
        flash_attention=None,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        use_gate=False,
        seed=None,
        **kwargs,
    ):
        layer = type(self).__name__
        _masking.check_int_arg(layer, "num_heads", num_heads)
        _masking.check_int_arg(layer, "key_dim", key_dim)
        _masking.check_int_arg(layer, "value_dim", value_dim, allow_none=True)
        _masking.check_int_arg(layer, "sliding_window", sliding_window, allow_none=True)
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.supports_masking = True
        self._num_heads = num_heads
        self._key_dim = key_dim
        self._value_dim = value_dim if value_dim else key_dim
        self._dropout = _check_rate(layer, dropout)
        self._use_bias = use_bias
        self._use_gate = use_gate
        if output_shape:
            if isinstance(output_shape, int):
                output_shape = (output_shape,)
            try:
                output_shape = tuple(output_shape)
            except TypeError:
                raise ValueError(
                    f"{layer}: Invalid `output_shape`: {output_shape}. When specified, the `output_shape` "
                    "should be of type tuple, list, or int."
                ) from None
        self._output_shape = output_shape or None
        if isinstance(attention_axes, int):
            attention_axes = (attention_axes,)
        elif attention_axes is not None and not isinstance(attention_axes, (list, tuple)):
            raise ValueError(f"{layer}: `attention_axes` must be an int, list, or tuple. Received: {attention_axes}")
        self._attention_axes = None if attention_axes is None else tuple(attention_axes)
        self._sliding_window = sliding_window
        self._flash_attention = bool(flash_attention)
        if self._flash_attention and self._dropout > 0.0:
            raise ValueError(f"{layer}: Dropout is not supported when flash attention is enabled.")
        self._kernel_initializer = initializers.get(kernel_initializer)
        self._bias_initializer = initializers.get(bias_initializer)
        self._kernel_regularizer = regularizers.get(kernel_regularizer)
        self._bias_regularizer = regularizers.get(bias_regularizer)
        self._kernel_constraint = constraints.get(kernel_constraint)
        self._bias_constraint = constraints.get(bias_constraint)
        self.seed = seed
        self._inverse_sqrt_key_dim = 1.0 / math.sqrt(float(key_dim))

    num_heads = property(lambda self: self._num_heads)
    key_dim = property(lambda self: self._key_dim)
    value_dim = property(lambda self: self._value_dim)
    dropout = property(lambda self: self._dropout)
    use_bias = property(lambda self: self._use_bias)
    attention_axes = property(lambda self: self._attention_axes)

    def _sublayer_kwargs(self):
        def clone(initializer):
            return type(initializer).from_config(initializer.get_config())

        return dict(
            kernel_initializer=clone(self._kernel_initializer),
            bias_initializer=clone(self._bias_initializer),
            kernel_regularizer=self._kernel_regularizer,
            bias_regularizer=self._bias_regularizer,
            activity_regularizer=self.activity_regularizer,
            kernel_constraint=self._kernel_constraint,
            bias_constraint=self._bias_constraint,
            dtype=self.dtype_policy,
        )

    def _projection(self, input_rank, sizes, name, activation=None):
        equation, bias_axes = projection_equation(input_rank - 1, 1, len(sizes))
        return EinsumDense(
            equation,
            output_shape=[None] * (input_rank - 2) + list(sizes),
            bias_axes=bias_axes if self._use_bias else None,
            activation=activation,
            name=name,
            **self._sublayer_kwargs(),
        )

    def build(self, query_shape, value_shape, key_shape=None):
        key_shape = value_shape if key_shape is None else key_shape
        self._check_shapes(query_shape, value_shape, key_shape)
        heads = self._num_heads
        self.query_dense = self._projection(len(query_shape), (heads, self._key_dim), "query")
        self.query_dense.build(query_shape)
        self.key_dense = self._projection(len(key_shape), (heads, self._key_dim), "key")
        self.key_dense.build(key_shape)
        if self._use_gate:
            self.gate_dense = self._projection(len(query_shape), (heads, self._value_dim), "gate", "sigmoid")
            self.gate_dense.build(query_shape)
        self.value_dense = self._projection(len(value_shape), (heads, self._value_dim), "value")
        self.value_dense.build(value_shape)
        rank = len(query_shape) + 1  # of the projected tensors
        if self._attention_axes is None:
            self._attention_axes = tuple(range(1, rank - 2))
        else:
            self._attention_axes = tuple(a if a >= 0 else (rank - 1) + a for a in self._attention_axes)
        self._dot_product_equation, self._combine_equation, scores_rank = attention_equations(
            rank, self._attention_axes
        )
        self._norm_axes = tuple(range(scores_rank - len(self._attention_axes), scores_rank))
        out_sizes = list(self._output_shape) if self._output_shape else [query_shape[-1]]
        equation, bias_axes = projection_equation(len(query_shape) - 1, 2, len(out_sizes))
        self.output_dense = EinsumDense(
            equation,
            output_shape=[None] * (len(query_shape) - 2) + out_sizes,
            bias_axes=bias_axes if self._use_bias else None,
            name="attention_output",
            **self._sublayer_kwargs(),
        )
        projected = list(self.query_dense.compute_output_shape(query_shape))
        projected[-1] = self._value_dim
        self.output_dense.build(tuple(projected))
        self._dropout_layer = Dropout(rate=self._dropout, dtype=self.dtype_policy, seed=self.seed)
        self._dropout_layer.build(None)

    def _check_shapes(self, query_shape, value_shape, key_shape):
        if tuple(value_shape[1:-1]) != tuple(key_shape[1:-1]):
            raise ValueError(
                f'Layer "{self.name}" ({type(self).__name__}): All dimensions of `value` and `key`, except the last '
                f"one, must be equal. Received: value_shape={tuple(value_shape)} and key_shape={tuple(key_shape)}"
            )
        if len(query_shape) != len(value_shape) or len(query_shape) < 3:
            raise ValueError(
                f'Layer "{self.name}" ({type(self).__name__}): `query` and `value` must have the same rank (at '
                f"least 3). Received: query_shape={tuple(query_shape)} and value_shape={tuple(value_shape)}"
            )

    def call(
        self,
        query,
        value,
        key=None,
        query_mask=None,
        value_mask=None,
        key_mask=None,
        attention_mask=None,
        return_attention_scores=False,
        training=None,
        use_causal_mask=False,
    ):
        if self._flash_attention and return_attention_scores:
            raise ValueError(f"{type(self).__name__}: attention scores are not available with flash attention.")
        key = value if key is None else ops.cast(ops.convert_to_tensor(key), self.compute_dtype)
        # Keras's condition for its `dot_product_attention` path; kbridge also requires the default
        # attention axis (Keras ignores `attention_axes` there).
        keras_fused = not (self._dropout > 0.0 or return_attention_scores) and len(query.shape) == 3
        # A subclass overriding `_attend` keeps it.
        fused = keras_fused and self._attention_axes == (1,) and type(self)._attend is MultiHeadAttention._attend
        mask, causal_only = _masking.mask_or_causal_flag(
            fused, query, value, query_mask, value_mask, key_mask, attention_mask, use_causal_mask, self._sliding_window
        )
        gate = self.gate_dense(query) if self._use_gate else None
        q = self.query_dense(query)
        k = self.key_dense(key)
        v = self.value_dense(value)
        if fused:
            if mask is not None:
                mask = _masking.expand_mask(mask, 4, -3)
            output = ops.dot_product_attention(
                q, k, v, mask=mask, scale=self._inverse_sqrt_key_dim, is_causal=causal_only
            )
            scores = None
        else:
            output, scores = self._attend(q, k, v, mask, training, zero_masked=not keras_fused)
        if gate is not None:
            output = ops.multiply(output, gate)
        output = self.output_dense(output)
        return (output, scores) if return_attention_scores else output

    def _attend(self, query, key, value, mask, training, zero_masked):
        """Einsum attention over the projected (..., heads, dim) tensors; returns `(output, scores)`.

        `zero_masked`: a fully masked row gives zeros (Keras's `Softmax` layer) instead of
        averaging the values (Keras's `dot_product_attention`).
        """
        query = ops.multiply(query, ops.cast(self._inverse_sqrt_key_dim, query.dtype))
        scores = ops.einsum(self._dot_product_equation, key, query)
        if mask is not None:
            mask = _masking.expand_mask(mask, len(scores.shape), -len(self._attention_axes) * 2 - 1)
        scores = _masking.masked_softmax(scores, mask, self._norm_axes, zero_masked=zero_masked)
        dropped = self._dropout_layer(scores, training=training) if self._dropout > 0.0 else scores
        return ops.einsum(self._combine_equation, dropped, value), scores

    def compute_output_shape(self, query_shape, value_shape, key_shape=None):
        query_shape, value_shape = tuple(query_shape), tuple(value_shape)
        key_shape = value_shape if key_shape is None else tuple(key_shape)
        self._check_shapes(query_shape, value_shape, key_shape)
        if self._output_shape:
            return query_shape[:-1] + tuple(self._output_shape)
        return query_shape

    def compute_output_spec(self, query, value, key=None, return_attention_scores=False, **kwargs):
        shape = self.compute_output_shape(query.shape, value.shape, None if key is None else key.shape)
        output = KerasTensor(shape, dtype=self.compute_dtype)
        if not return_attention_scores:
            return output
        rank = len(query.shape)
        axes = self._attention_axes or tuple(range(1, rank - 1))
        axes = tuple(a if a >= 0 else rank + a for a in axes)
        others = [query.shape[i] for i in range(rank - 1) if i not in axes]
        scores = others + [self._num_heads] + [query.shape[a] for a in axes] + [value.shape[a] for a in axes]
        return output, KerasTensor(tuple(scores), dtype=self.compute_dtype)

    def get_config(self):
        config = Layer.get_config(self)
        config.update(
            num_heads=self._num_heads,
            key_dim=self._key_dim,
            value_dim=self._value_dim,
            dropout=self._dropout,
            use_bias=self._use_bias,
            use_gate=self._use_gate,
            output_shape=self._output_shape,
            attention_axes=self._attention_axes,
            sliding_window=self._sliding_window,
            kernel_initializer=initializers.serialize(self._kernel_initializer),
            bias_initializer=initializers.serialize(self._bias_initializer),
            kernel_regularizer=regularizers.serialize(self._kernel_regularizer),
            bias_regularizer=regularizers.serialize(self._bias_regularizer),
            activity_regularizer=regularizers.serialize(self.activity_regularizer),
            kernel_constraint=constraints.serialize(self._kernel_constraint),
            bias_constraint=constraints.serialize(self._bias_constraint),
            seed=self.seed,
        )
        return config


def _check_rate(layer, rate):
    if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate <= 1:
        raise ValueError(f"{layer}: `dropout` must be a float in [0, 1]. Received: dropout={rate}")
    return rate


def projection_equation(free_dims, bound_dims, output_dims):
    """Einsum equation and bias axes of a projection: keep `free_dims`, contract `bound_dims`, add `output_dims`."""
    letters = string.ascii_lowercase
    free = letters[:free_dims]
    bound = letters[free_dims : free_dims + bound_dims]
    out = letters[free_dims + bound_dims : free_dims + bound_dims + output_dims]
    return f"{free}{bound},{bound}{out}->{free}{out}", out


def attention_equations(rank, attention_axes):
    """Einsum equations `(key, query -> scores)`, `(scores, value -> output)` and the scores' rank.

    Projected tensors are `(batch, ..., heads, channels)`; every axis that is neither an
    attention axis nor the channels is a batch axis of the product.
    """
    letters = string.ascii_lowercase
    target = letters[:rank]
    batch = [i for i in range(rank) if i not in attention_axes and i != rank - 1]
    source, extra = "", rank
    for i in range(rank):
        if i in batch or i == rank - 1:
            source += target[i]
        else:
            source += letters[extra]
            extra += 1
    product = "".join([target[i] for i in batch] + [target[i] for i in attention_axes] + [source[i] for i in attention_axes])
    return f"{source},{target}->{product}", f"{product},{source}->{target}", len(product)
