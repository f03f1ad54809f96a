"""`IntegerLookup`: maps integer features to contiguous vocabulary indices (or back)."""

import numpy as np

from kbridge import ops
from kbridge.backend._state import state
from kbridge.layers.preprocessing._index_lookup import IndexLookup
from kbridge.layers.preprocessing._categorical import layer_error


class IntegerLookup(IndexLookup):
    """Maps integers to indices: `[mask (if set), OOV indices..., vocabulary...]`.

    The lookup runs with `kbridge.ops` (a sorted key table searched with `digitize`), so it works
    inside models on every backend; `oov_method="farmhash"` with several OOV indices hashes the
    decimal strings of the inputs on the host (eager only).

    Args:
        max_tokens: the maximum vocabulary size, special tokens included (None: no limit).
        num_oov_indices: how many indices out-of-vocabulary values are spread over.
        mask_token: the integer that means "masked" (index 0 in "int" mode), or None.
        oov_token: what `invert` returns for out-of-vocabulary indices.
        vocabulary: a list/array of ints, or a text file path, or None (then adapt()).
        vocabulary_dtype: must be "int64".
        idf_weights: per-token weights for output_mode="tf_idf".
        invert: map indices back to integers.
        output_mode: "int", "one_hot", "multi_hot", "count" or "tf_idf".
        sparse: must be False.
        pad_to_max_tokens: encode to `max_tokens` wide outputs.
        oov_method: "floormod" (`value % num_oov_indices`) or "farmhash".
        salt: with "farmhash", a keyed (SipHash) hash.
        name: the layer name.
        **kwargs: `vocabulary_size` (from configs).
    """

    def __init__(self, max_tokens=None, num_oov_indices=1, mask_token=None, oov_token=-1, vocabulary=None,
                 vocabulary_dtype="int64", idf_weights=None, invert=False, output_mode="int", sparse=False,
                 pad_to_max_tokens=False, oov_method="floormod", salt=None, name=None, **kwargs):
        if vocabulary_dtype != "int64":
            raise ValueError(f'Layer "{name or "integer_lookup"}" (IntegerLookup) supports only '
                             f"vocabulary_dtype='int64'. Received: vocabulary_dtype={vocabulary_dtype!r}")
        super().__init__(
            max_tokens=max_tokens, num_oov_indices=num_oov_indices, mask_token=mask_token, oov_token=oov_token,
            vocabulary_dtype=vocabulary_dtype, vocabulary=vocabulary, idf_weights=idf_weights, invert=invert,
            output_mode=output_mode, sparse=sparse, pad_to_max_tokens=pad_to_max_tokens, oov_method=oov_method,
            salt=salt, name=name, **kwargs,
        )  # fmt: skip

    def _token(self, value):
        if isinstance(value, (str, bytes)):
            return int(value)
        if isinstance(value, (float, np.floating)) and value != int(value):
            raise layer_error(self, f"expects integer tokens. Received: {value!r}", TypeError)
        return int(value)

    def _table(self):
        if self._tables is None:
            keys = np.array(self._tokens, dtype="int64")
            order = np.argsort(keys, kind="stable")
            values = np.arange(len(keys), dtype="int64") + self._token_start_index()
            self._tables = (keys[order], values[order])
        return self._tables

    def call(self, inputs):
        dtype = ops.dtype(inputs)
        if "int" not in dtype:
            if "float" in dtype or dtype == "bool":
                inputs = ops.cast(inputs, "int64")
            else:
                raise layer_error(self, f"expects integer inputs. Received inputs of dtype {dtype}", TypeError)
        if self.invert:
            return self._invert(inputs)
        if self.num_oov_indices > 1 and self.oov_method == "farmhash":
            host = np.asarray(ops.convert_to_numpy(inputs)).astype("int64")
            indices = ops.convert_to_tensor(self._lookup_host(host))
        else:
            indices = self._lookup(inputs)
        return self._encode_indices(indices)

    def _lookup(self, x):
        keys, values = self._table()
        x = ops.cast(x, "int64")
        start = self._oov_start_index()
        if self.num_oov_indices == 1:
            default = ops.full_like(x, start)
        elif self.num_oov_indices > 1:
            default = ops.add(ops.mod(x, self.num_oov_indices), start)
        else:
            default = ops.full_like(x, -1)
        if len(keys):
            # digitize gives i with keys[i-1] <= x < keys[i]: x is in the table iff keys[i-1] == x.
            position = ops.subtract(ops.cast(ops.digitize(x, keys.tolist()), "int64"), 1)
            safe = ops.clip(position, 0, len(keys) - 1)
            found = ops.logical_and(
                ops.greater_equal(position, 0), ops.equal(ops.take(ops.convert_to_tensor(keys), safe), x)
            )
            indices = ops.where(found, ops.take(ops.convert_to_tensor(values), safe), default)
        else:
            indices = default
        if self.mask_token is not None:
            masked = ops.full_like(indices, 0 if self.output_mode == "int" else -1)
            indices = ops.where(ops.equal(x, self.mask_token), masked, indices)
        if self.num_oov_indices == 0 and state.ops.is_concrete(indices):
            oov = np.asarray(ops.convert_to_numpy(x))[np.asarray(ops.convert_to_numpy(indices)) == -1]
            oov = oov[oov != self.mask_token] if self.mask_token is not None else oov
            if oov.size:
                raise layer_error(
                    self, f"has num_oov_indices=0 but received out-of-vocabulary values: "
                    f"{sorted(set(oov.tolist()))[:10]}. Set num_oov_indices=1 to map them to an OOV index",
                )  # fmt: skip
        return indices

    def _invert(self, indices):
        vocab = np.array(self.get_vocabulary(), dtype="int64")
        indices = ops.cast(indices, "int64")
        if not len(vocab):
            return ops.full_like(indices, self.oov_token)
        inside = ops.logical_and(ops.greater_equal(indices, 0), ops.less(indices, len(vocab)))
        safe = ops.clip(indices, 0, len(vocab) - 1)
        return ops.where(inside, ops.take(ops.convert_to_tensor(vocab), safe), ops.full_like(indices, self.oov_token))

    def get_config(self):
        config = super().get_config()
        for key in ("oov_token", "mask_token"):
            if config[key] is not None:
                config[key] = int(config[key])
        if config["vocabulary"] is not None:
            config["vocabulary"] = [int(v) for v in config["vocabulary"]]
        return config
