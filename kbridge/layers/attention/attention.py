"""`Attention`: Luong-style dot-product attention over `[query, value(, key)]`."""

from kbridge import ops
from kbridge import random as kb_random
from kbridge.layers._base import layer_config
from kbridge.layers.attention import _masking
from kbridge.layers.layer import Layer
from kbridge.random.seed_generator import make_default_seed
from kbridge.symbolic.keras_tensor import KerasTensor


class Attention(Layer):
    """Dot-product attention: `softmax(query @ key^T) @ value`, as Keras 3's `Attention`.

    Called on `[query, value]` or `[query, value, key]` (`(batch, Tq, dim)`,
    `(batch, Tv, dim)`), with an optional `mask=[query_mask, value_mask]`.

    Args:
        use_scale: learn a scalar "scale" multiplying the scores.
        score_mode: "dot" (`q . k`) or "concat" (`sum(tanh(q + k))`, with a learned
            scalar "concat_score_weight").
        dropout: dropout rate on the attention weights while training.
        seed: seed of the dropout.
        **kwargs: base `Layer` arguments.
    """

    def __init__(self, use_scale=False, score_mode="dot", dropout=0.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        layer = type(self).__name__
        if score_mode not in ("dot", "concat"):
            raise ValueError(
                f"{layer}: Invalid value for argument score_mode. Expected one of {{'dot', 'concat'}}. "
                f"Received: score_mode={score_mode}"
            )
        if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not 0 <= dropout <= 1:
            raise ValueError(f"{layer}: `dropout` must be a float in [0, 1]. Received: dropout={dropout}")
        self.use_scale = use_scale
        self.score_mode = score_mode
        self.dropout = dropout
        self.seed = seed
        self._generator_seed = seed if seed is not None else make_default_seed()
        self.seed_generator = None
        self.supports_masking = True

    def build(self, input_shape):
        self._validate_inputs(input_shape)
        self.scale = None
        self.concat_score_weight = None
        if self.use_scale:
            self.scale = self.add_weight(name="scale", shape=(), initializer="ones", trainable=True)
        if self.score_mode == "concat":
            self.concat_score_weight = self.add_weight(
                name="concat_score_weight", shape=(), initializer="ones", trainable=True
            )
        self._build_generator()

    def _build_generator(self):
        if self.dropout > 0 and self.seed_generator is None:
            self.seed_generator = kb_random.SeedGenerator(self._generator_seed)

    def _calculate_scores(self, query, key):
        """`(batch, Tq, Tv)` scores of `query` against `key`."""
        if self.score_mode == "dot":
            scores = ops.matmul(query, ops.swapaxes(key, -2, -1))
            return scores if self.scale is None else ops.multiply(scores, self.scale)
        summed = ops.add(ops.expand_dims(query, -2), ops.expand_dims(key, -3))
        if self.scale is not None:
            summed = ops.multiply(self.scale, summed)
        return ops.multiply(self.concat_score_weight, ops.sum(ops.tanh(summed), axis=-1))

    def call(self, inputs, mask=None, training=False, return_attention_scores=False, use_causal_mask=False):
        self._validate_inputs(inputs, mask)
        query, value = inputs[0], inputs[1]
        key = inputs[2] if len(inputs) > 2 else value
        query_mask = _masking.as_bool(mask[0]) if mask else None
        value_mask = _masking.as_bool(mask[1]) if mask else None
        scores = self._calculate_scores(query, key)
        scores_mask = value_mask
        if scores_mask is not None:
            scores_mask = ops.expand_dims(scores_mask, -2)
        if use_causal_mask:
            shape = ops.shape(scores)
            scores_mask = _masking.and_masks(scores_mask, _masking.causal_mask(shape[-2], shape[-1]))
        if scores_mask is not None:
            big = 65504.0 if ops.dtype(scores) == "float16" else 1.0e9
            scores = ops.where(scores_mask, scores, ops.subtract(scores, big))
        weights = ops.softmax(scores, axis=-1)
        dropped = weights
        if training and self.dropout > 0:
            self._build_generator()
            dropped = kb_random.dropout(weights, self.dropout, seed=self.seed_generator)
        output = ops.matmul(dropped, value)
        if query_mask is not None:
            output = ops.where(ops.expand_dims(query_mask, -1), output, ops.zeros_like(output))
        return (output, weights) if return_attention_scores else output

    def compute_mask(self, inputs, mask=None):
        self._validate_inputs(inputs, mask)
        if mask is None or mask[0] is None:
            return None
        return mask[0]

    def compute_output_shape(self, input_shape):
        self._validate_inputs(input_shape)
        return (*tuple(input_shape[0])[:-1], tuple(input_shape[1])[-1])

    def compute_output_spec(self, inputs, mask=None, return_attention_scores=False, **kwargs):
        self._validate_inputs(inputs, mask)
        query, value = inputs[0], inputs[1]
        key = inputs[2] if len(inputs) > 2 else value
        output = KerasTensor(self.compute_output_shape([query.shape, value.shape, key.shape]), dtype=self.compute_dtype)
        if not return_attention_scores:
            return output
        return output, KerasTensor((*query.shape[:-1], key.shape[-2]), dtype=self.compute_dtype)

    def _validate_inputs(self, inputs, mask=None):
        name = type(self).__name__
        if not isinstance(inputs, (list, tuple)) or (inputs and isinstance(inputs[0], int)):
            raise ValueError(
                f"{name} layer must be called on a list of inputs, namely [query, value] or "
                f"[query, value, key]. Received: inputs={inputs}."
            )
        if not 2 <= len(inputs) <= 3:
            raise ValueError(
                f"{name} layer accepts inputs list of length 2 or 3, namely [query, value] or "
                f"[query, value, key]. Received length: {len(inputs)}."
            )
        if mask is not None:
            if not isinstance(mask, (list, tuple)):
                raise ValueError(f"{name} layer mask must be a list, namely [query_mask, value_mask]. Received: mask={mask}.")
            if not 2 <= len(mask) <= 3:
                raise ValueError(f"{name} layer accepts mask list of length 2 or 3. Received: mask={mask}.")

    def get_config(self):
        return layer_config(self, use_scale=self.use_scale, score_mode=self.score_mode, dropout=self.dropout, seed=self.seed)
