"""`Embedding`: maps integer indices to dense vectors."""

from kbridge import constraints, initializers, ops, regularizers
from kbridge.layers._base import check_positive_int, layer_config
from kbridge.layers.core.dense import _unsupported
from kbridge.layers.layer import Layer
from kbridge.symbolic.keras_tensor import KerasTensor


class Embedding(Layer):
    """Turns indices in `[0, input_dim)` into vectors of size `output_dim`.

    Args:
        input_dim: vocabulary size.
        output_dim: embedding size.
        embeddings_initializer: initializer of the `(input_dim, output_dim)` table.
        embeddings_regularizer: regularizer of the table.
        embeddings_constraint: constraint of the table.
        mask_zero: whether index 0 is padding; the layer then returns a mask
            from `compute_mask` (and `input_dim` should count index 0).
        weights: optional initial table (array or `[array]`).
        lora_rank, lora_alpha, quantization_config: accepted for Keras compatibility (must be unset).
        **kwargs: base `Layer` arguments.
    """

    def __init__(
        self,
        input_dim,
        output_dim,
        embeddings_initializer="uniform",
        embeddings_regularizer=None,
        embeddings_constraint=None,
        mask_zero=False,
        weights=None,
        lora_rank=None,
        lora_alpha=None,
        quantization_config=None,
        **kwargs,
    ):
        check_positive_int(input_dim, "input_dim")
        check_positive_int(output_dim, "output_dim")
        kwargs.pop("input_length", None)
        super().__init__(**kwargs)
        _unsupported(type(self).__name__, lora_rank, quantization_config)
        self.input_dim = input_dim
        self.output_dim = output_dim
        self.embeddings_initializer = initializers.get(embeddings_initializer)
        self.embeddings_regularizer = regularizers.get(embeddings_regularizer)
        self.embeddings_constraint = constraints.get(embeddings_constraint)
        self.mask_zero = mask_zero
        self.supports_masking = mask_zero
        # Indices are not floats: never cast them to the compute dtype.
        self.autocast = False
        self.embeddings = None
        if weights is not None:
            self.build()
            self.set_weights(weights if isinstance(weights, list) and len(weights) == 1 else [weights])

    def build(self, input_shape=None):
        if self.embeddings is not None:
            return
        self.embeddings = self.add_weight(
            name="embeddings",
            shape=(self.input_dim, self.output_dim),
            initializer=self.embeddings_initializer,
            regularizer=self.embeddings_regularizer,
            constraint=self.embeddings_constraint,
        )

    def call(self, inputs):
        if ops.dtype(inputs) not in ("int32", "int64"):
            inputs = ops.cast(inputs, "int32")
        outputs = ops.take(self.embeddings, inputs, axis=0)
        return ops.cast(outputs, self.compute_dtype)

    def compute_mask(self, inputs, mask=None):
        """`inputs != 0` when `mask_zero`, else None."""
        if not self.mask_zero:
            return None
        return ops.not_equal(inputs, 0)

    def compute_output_shape(self, input_shape):
        return (*input_shape, self.output_dim)

    def compute_output_spec(self, inputs, **kwargs):
        return KerasTensor(self.compute_output_shape(inputs.shape), dtype=self.compute_dtype)

    def get_config(self):
        return layer_config(
            self,
            input_dim=self.input_dim,
            output_dim=self.output_dim,
            embeddings_initializer=initializers.serialize(self.embeddings_initializer),
            embeddings_regularizer=regularizers.serialize(self.embeddings_regularizer),
            activity_regularizer=regularizers.serialize(self.activity_regularizer),
            embeddings_constraint=constraints.serialize(self.embeddings_constraint),
            mask_zero=self.mask_zero,
            quantization_config=None,
        )
