"""`AdditiveAttention`: Bahdanau-style attention over `[query, value(, key)]`."""

from kbridge import ops
from kbridge.layers._base import layer_config
from kbridge.layers.attention.attention import Attention


class AdditiveAttention(Attention):
    """Additive attention: scores `sum(scale * tanh(query + key), -1)`, as Keras 3's `AdditiveAttention`.

    Args:
        use_scale: learn a per-feature "scale" vector (shape `(dim,)`, glorot init).
        dropout: dropout rate on the attention weights while training.
        **kwargs: base `Layer` arguments (and `seed`).
    """

    def __init__(self, use_scale=True, dropout=0.0, **kwargs):
        super().__init__(use_scale=use_scale, dropout=dropout, **kwargs)

    def build(self, input_shape):
        self._validate_inputs(input_shape)
        self.scale = None
        if self.use_scale:
            self.scale = self.add_weight(
                name="scale", shape=(input_shape[0][-1],), initializer="glorot_uniform", trainable=True
            )
        self._build_generator()

    def _calculate_scores(self, query, key):
        summed = ops.tanh(ops.add(ops.expand_dims(query, -2), ops.expand_dims(key, -3)))
        if self.scale is not None:
            summed = ops.multiply(self.scale, summed)
        return ops.sum(summed, axis=-1)

    def get_config(self):
        return layer_config(self, use_scale=self.use_scale, dropout=self.dropout, seed=self.seed)
