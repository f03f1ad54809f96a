"""`StringLookup`: maps string features to contiguous vocabulary indices (or back), on the host."""

import numpy as np

from kbridge.layers.layer import Layer
from kbridge.layers.preprocessing._categorical import host_array, host_strings, layer_error
from kbridge.layers.preprocessing._index_lookup import IndexLookup
from kbridge.symbolic.keras_tensor import KerasTensor


class StringLookup(IndexLookup):
    """Maps strings to indices: `[mask (if set), OOV indices..., vocabulary...]`.

    Tensors of torch and JAX cannot hold strings, so the lookup runs on the host on NumPy
    `str`/`object`/`bytes` arrays or lists (as Keras 3 runs it in a data pipeline outside compiled
    graphs) and the result is a tensor of the active backend: int64 indices, or the encodings.
    With `invert=True` it takes integer indices (any tensor) and returns a NumPy `str` array.

    Args:
        max_tokens: the maximum vocabulary size, special tokens included (None: no limit).
        num_oov_indices: how many indices out-of-vocabulary strings are hashed over (FarmHash).
        mask_token: the string that means "masked" (index 0 in "int" mode), or None.
        oov_token: what `invert` returns for out-of-vocabulary indices.
        vocabulary: a list/array of strings, or a text file path, or None (then adapt()).
        idf_weights: per-token weights for output_mode="tf_idf".
        invert: map indices back to strings.
        output_mode: "int", "one_hot", "multi_hot", "count" or "tf_idf".
        pad_to_max_tokens: encode to `max_tokens` wide outputs.
        sparse: must be False.
        encoding: the text encoding of bytes inputs.
        name: the layer name.
        salt: an int or 2 ints: hash OOV strings with keyed SipHash instead of FarmHash.
        **kwargs: `vocabulary_size` (from configs).
    """

    def __init__(self, max_tokens=None, num_oov_indices=1, mask_token=None, oov_token="[UNK]", vocabulary=None,
                 idf_weights=None, invert=False, output_mode="int", pad_to_max_tokens=False, sparse=False,
                 encoding="utf-8", name=None, salt=None, **kwargs):
        self.encoding = encoding
        kwargs.pop("vocabulary_dtype", None)
        super().__init__(
            max_tokens=max_tokens, num_oov_indices=num_oov_indices, mask_token=mask_token, oov_token=oov_token,
            vocabulary=vocabulary, idf_weights=idf_weights, invert=invert, output_mode=output_mode,
            pad_to_max_tokens=pad_to_max_tokens, sparse=sparse, name=name, salt=salt, vocabulary_dtype="string",
            **kwargs,
        )  # fmt: skip

    def _token(self, value):
        if isinstance(value, bytes):
            return value.decode(self.encoding)
        if not isinstance(value, str):
            raise layer_error(self, f"expects string tokens. Received: {value!r} ({type(value).__name__})", TypeError)
        return value

    def adapt(self, data, batch_size=None, steps=None):
        """Learns the vocabulary from strings (an array or list, or an iterable of batches)."""
        if isinstance(data, str):
            data = [data]
        super().adapt(data, batch_size=batch_size, steps=steps)

    def __call__(self, inputs, **kwargs):
        if isinstance(inputs, KerasTensor):
            return Layer.__call__(self, inputs, **kwargs)
        if self.invert:
            indices = host_array(inputs)
            if indices.dtype.kind not in "iu":
                raise layer_error(self, f"with invert=True expects integer indices. Received dtype {indices.dtype}",
                                  TypeError)
            return np.array(self._invert_host(indices), dtype=str).reshape(indices.shape)
        tokens = host_strings(self, inputs, self.encoding)
        # The indices become a tensor of the active backend; call() encodes them with kbridge.ops.
        return Layer.__call__(self, self._lookup_host(tokens), **kwargs)

    def call(self, inputs):
        # Receives the indices computed on the host by __call__.
        return self._encode_indices(inputs)

    def get_config(self):
        config = super().get_config()
        del config["vocabulary_dtype"]
        config["encoding"] = self.encoding
        return config
