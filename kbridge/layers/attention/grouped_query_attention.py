"""`GroupedQueryAttention`: attention where groups of query heads share key/value heads."""

import math

from kbridge import constraints, initializers, ops, regularizers
from kbridge.layers.attention import _masking
from kbridge.layers.attention.multi_head_attention import _check_rate
from kbridge.layers.core.einsum_dense import EinsumDense
from kbridge.layers.layer import Layer
from kbridge.layers.regularization import Dropout
from kbridge.symbolic.keras_tensor import KerasTensor


class GroupedQueryAttention(Layer):
    """Grouped-query attention (Ainslie et al., 2023), as Keras 3's `GroupQueryAttention`.

    Sublayers: `_query_dense`, `_key_dense`, (`_gate_dense`), `_value_dense`, `_output_dense`
    (`EinsumDense`, Keras's names and weight order). Inputs are `(batch, seq, features)`.

    Args:
        head_dim: size of each attention head.
        num_query_heads: number of query heads.
        num_key_value_heads: number of key/value heads (divides `num_query_heads`).
        dropout: dropout rate on the attention probabilities.
        use_bias: whether the projections have biases.
        sliding_window: optional positive int band width of the attention mask.
        flash_attention: accepted for Keras compatibility.
        kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer,
        activity_regularizer, kernel_constraint, bias_constraint: for the projections.
        use_gate: sigmoid gate on the attention output.
        seed: seed of the dropout.
        **kwargs: base `Layer` arguments.
    """

    # Keras 3 exports and serializes this class as `GroupQueryAttention` only.
    _KERAS_CLASS_NAME = "GroupQueryAttention"

    def __init__(
        self,
        head_dim,
        num_query_heads,
        num_key_value_heads,
        dropout=0.0,
        use_bias=True,
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
        for name, value in (("head_dim", head_dim), ("num_query_heads", num_query_heads),
                            ("num_key_value_heads", num_key_value_heads)):  # fmt: skip
            _masking.check_int_arg(layer, name, value)
        _masking.check_int_arg(layer, "sliding_window", sliding_window, allow_none=True)
        if num_query_heads % num_key_value_heads != 0:
            raise ValueError(
                f"{layer}: `num_query_heads` must be divisible by `num_key_value_heads`. Received: "
                f"num_query_heads={num_query_heads}, num_key_value_heads={num_key_value_heads}"
            )
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.supports_masking = True
        self.head_dim = head_dim
        self.num_query_heads = num_query_heads
        self.num_key_value_heads = num_key_value_heads
        self.num_repeats = num_query_heads // num_key_value_heads
        self.dropout = _check_rate(layer, dropout)
        self.use_bias = use_bias
        self.use_gate = use_gate
        self.sliding_window = sliding_window
        self._flash_attention = bool(flash_attention)
        if self._flash_attention and self.dropout > 0.0:
            raise ValueError(f"{layer}: Dropout is not supported when flash attention is enabled.")
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.seed = seed
        self._inverse_sqrt_head_dim = 1.0 / math.sqrt(float(head_dim))

    def _dense(self, equation, output_shape, bias_axes, name, activation=None):
        def clone(initializer):
            return type(initializer).from_config(initializer.get_config())

        return EinsumDense(
            equation,
            output_shape=output_shape,
            bias_axes=bias_axes if self.use_bias else None,
            activation=activation,
            name=name,
            kernel_initializer=clone(self.kernel_initializer),
            bias_initializer=clone(self.bias_initializer),
            kernel_regularizer=self.kernel_regularizer,
            bias_regularizer=self.bias_regularizer,
            activity_regularizer=self.activity_regularizer,
            kernel_constraint=self.kernel_constraint,
            bias_constraint=self.bias_constraint,
            dtype=self.dtype_policy,
        )

    def build(self, query_shape, value_shape, key_shape=None):
        key_shape = value_shape if key_shape is None else key_shape
        self._check_shapes(query_shape, value_shape, key_shape)
        self.feature_dim = query_shape[-1]
        q_heads, kv_heads, dim = self.num_query_heads, self.num_key_value_heads, self.head_dim
        self._query_dense = self._dense("bqm,muh->bquh", (None, q_heads, dim), "uh", "query")
        self._query_dense.build(query_shape)
        self._key_dense = self._dense("bkm,mvh->bkvh", (None, kv_heads, dim), "vh", "key")
        self._key_dense.build(key_shape)
        if self.use_gate:
            self._gate_dense = self._dense("bqm,muh->bquh", (None, q_heads, dim), "uh", "gate", "sigmoid")
            self._gate_dense.build(query_shape)
        self._value_dense = self._dense("bkm,mvh->bkvh", (None, kv_heads, dim), "vh", "value")
        self._value_dense.build(value_shape)
        self._output_dense = self._dense("bquh,uhm->bqm", (None, self.feature_dim), "m", "attention_output")
        self._output_dense.build((None, None, q_heads, dim))
        self._dropout_layer = Dropout(rate=self.dropout, dtype=self.dtype_policy, seed=self.seed)
        self._dropout_layer.build(None)

    def _check_shapes(self, query_shape, value_shape, key_shape):
        if len(query_shape) != 3 or len(value_shape) != 3 or len(key_shape) != 3:
            raise ValueError(
                f'Layer "{self.name}" ({type(self).__name__}) expects query, value and key of rank 3. Received: '
                f"query_shape={tuple(query_shape)}, value_shape={tuple(value_shape)}, key_shape={tuple(key_shape)}"
            )
        if value_shape[1] != key_shape[1]:
            raise ValueError(
                f'Layer "{self.name}" ({type(self).__name__}): The second dimension of `value` and `key` must be '
                f"equal. Received: value_shape={tuple(value_shape)} and key_shape={tuple(key_shape)}"
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
        # Keras's `dot_product_attention` path (no dropout, no scores); a causal mask alone goes
        # to the backend's causal kernel instead of being built here.
        fused = not (self.dropout > 0.0 or return_attention_scores) and len(query.shape) == 3
        mask, causal_only = _masking.mask_or_causal_flag(
            fused, query, value, query_mask, value_mask, key_mask, attention_mask, use_causal_mask, self.sliding_window
        )
        if mask is not None:
            mask = _masking.expand_mask(mask, 4, -3)
        gate = self._gate_dense(query) if self.use_gate else None
        q = self._query_dense(query)
        k = self._key_dense(key)
        v = self._value_dense(value)
        if fused:
            # The op repeats the key/value heads itself (grouped-query attention).
            output = ops.dot_product_attention(
                q, k, v, mask=mask, scale=self._inverse_sqrt_head_dim, is_causal=causal_only
            )
            scores = None
        else:
            k = ops.repeat(k, self.num_repeats, axis=2)
            v = ops.repeat(v, self.num_repeats, axis=2)
            q = ops.multiply(q, ops.cast(self._inverse_sqrt_head_dim, q.dtype))
            scores = ops.einsum("bquh,bkuh->buqk", q, k)
            scores = _masking.masked_softmax(scores, mask, (-1,), zero_masked=True)
            dropped = self._dropout_layer(scores, training=training) if self.dropout > 0.0 else scores
            output = ops.einsum("buqk,bkuh->bquh", dropped, v)
        if gate is not None:
            output = ops.multiply(output, gate)
        output = self._output_dense(output)
        return (output, scores) if return_attention_scores else output

    def compute_output_shape(self, query_shape, value_shape, key_shape=None):
        query_shape, value_shape = tuple(query_shape), tuple(value_shape)
        self._check_shapes(query_shape, value_shape, value_shape if key_shape is None else tuple(key_shape))
        return query_shape

    def compute_output_spec(self, query, value, key=None, return_attention_scores=False, **kwargs):
        shape = self.compute_output_shape(query.shape, value.shape, None if key is None else key.shape)
        output = KerasTensor(shape, dtype=self.compute_dtype)
        if not return_attention_scores:
            return output
        source = value.shape[1] if key is None else key.shape[1]
        scores = (query.shape[0], self.num_query_heads, query.shape[1], source)
        return output, KerasTensor(scores, dtype=self.compute_dtype)

    def get_config(self):
        config = Layer.get_config(self)
        config.update(
            head_dim=self.head_dim,
            num_query_heads=self.num_query_heads,
            num_key_value_heads=self.num_key_value_heads,
            use_bias=self.use_bias,
            use_gate=self.use_gate,
            sliding_window=self.sliding_window,
            dropout=self.dropout,
            kernel_initializer=initializers.serialize(self.kernel_initializer),
            bias_initializer=initializers.serialize(self.bias_initializer),
            kernel_regularizer=regularizers.serialize(self.kernel_regularizer),
            bias_regularizer=regularizers.serialize(self.bias_regularizer),
            activity_regularizer=regularizers.serialize(self.activity_regularizer),
            kernel_constraint=constraints.serialize(self.kernel_constraint),
            bias_constraint=constraints.serialize(self.bias_constraint),
            seed=self.seed,
        )
        return config
