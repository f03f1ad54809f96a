"""`CategoryEncoding`: one-hot, multi-hot or count encoding of integer features."""

from kbridge import ops
from kbridge.layers._base import layer_config
from kbridge.layers.layer import Layer
from kbridge.layers.preprocessing._categorical import (
    check_not_sparse,
    check_output_mode,
    encode,
    encoded_shape,
    layer_error,
)
from kbridge.symbolic.keras_tensor import KerasTensor


class CategoryEncoding(Layer):
    """Encodes integer indices in `[0, num_tokens)` as dense vectors of size `num_tokens`.

    Runs with `kbridge.ops` (inside models, on every backend). "multi_hot" and "count" treat a
    rank-1 input as one sample and reduce axis 1 of higher ranks (Keras 3 on JAX/PyTorch/NumPy).

    Args:
        num_tokens: the number of categories.
        output_mode: "multi_hot" (default), "one_hot" or "count" ("binary" is read as "multi_hot").
        sparse: must be False (kbridge has no sparse tensors).
        **kwargs: base `Layer` arguments.
    """

    def __init__(self, num_tokens=None, output_mode="multi_hot", sparse=False, **kwargs):
        super().__init__(**kwargs)
        output_mode = check_output_mode(self, output_mode, ("count", "one_hot", "multi_hot"))
        check_not_sparse(self, sparse)
        if num_tokens is None:
            raise layer_error(self, "needs `num_tokens`; for an unknown number of tokens use IntegerLookup")
        if not isinstance(num_tokens, int) or isinstance(num_tokens, bool) or num_tokens < 1:
            raise layer_error(self, f"expects an int `num_tokens` >= 1. Received: num_tokens={num_tokens!r}")
        self.num_tokens = num_tokens
        self.output_mode = output_mode
        self.sparse = sparse
        # Integer indices must not be cast to the float compute dtype.
        self.autocast = False

    def call(self, inputs, count_weights=None):
        if count_weights is not None:
            if self.output_mode != "count":
                raise layer_error(self, "uses `count_weights` only with output_mode='count'. Received "
                                  f"output_mode={self.output_mode!r}")
            count_weights = ops.cast(count_weights, self.compute_dtype)
        dtype = ops.dtype(inputs)
        if "int" not in dtype:
            inputs = ops.cast(inputs, "int32")
        return encode(inputs, self.output_mode, self.num_tokens, self.compute_dtype, count_weights)

    def compute_output_shape(self, input_shape):
        return encoded_shape(input_shape, self.output_mode, self.num_tokens)

    def compute_output_spec(self, inputs, count_weights=None):
        return KerasTensor(self.compute_output_shape(inputs.shape), dtype=self.compute_dtype)

    def get_config(self):
        return layer_config(self, num_tokens=self.num_tokens, output_mode=self.output_mode)
