"""`IndexLookup`: the vocabulary logic shared by `IntegerLookup`, `StringLookup` (and `TextVectorization`).

The vocabulary lives on the host (a Python dict); Keras 3 keeps it in TF hash tables.
"""

import collections
import os

import numpy as np

from kbridge import config as kb_config
from kbridge import ops
from kbridge.layers.layer import Layer
from kbridge.layers.preprocessing import _farmhash
from kbridge.layers.preprocessing._adapt_data import iter_batches
from kbridge.layers.preprocessing._categorical import (
    check_not_sparse,
    check_output_mode,
    encode,
    encoded_shape,
    layer_error,
    plain,
)
from kbridge.saving import safe_mode
from kbridge.symbolic.keras_tensor import KerasTensor

# The asset file of an adapted vocabulary inside a `.keras` archive (Keras 3's name).
_VOCABULARY_FILE = "vocabulary.txt"

LOOKUP_MODES = ("int", "one_hot", "multi_hot", "count", "tf_idf")


class IndexLookup(Layer):
    """Maps tokens to indices `[mask?, oov * num_oov_indices, vocabulary...]`, or back with `invert`.

    Args: see `IntegerLookup` / `StringLookup`.
    """

    def __init__(self, max_tokens, num_oov_indices, mask_token, oov_token, vocabulary_dtype, vocabulary=None,
                 idf_weights=None, invert=False, output_mode="int", sparse=False, pad_to_max_tokens=False,
                 oov_method="floormod", name=None, salt=None, **kwargs):
        frozen_size = kwargs.pop("vocabulary_size", None)
        has_input_vocabulary = kwargs.pop("has_input_vocabulary", vocabulary is not None)
        kwargs.pop("dtype", None)
        super().__init__(name=name, **kwargs)
        if max_tokens is not None and max_tokens <= 1:
            raise layer_error(self, f"expects `max_tokens` > 1 when set. Received: max_tokens={max_tokens}")
        if pad_to_max_tokens and max_tokens is None:
            raise layer_error(self, "needs `max_tokens` when pad_to_max_tokens=True. Received: max_tokens=None")
        if num_oov_indices < 0:
            raise layer_error(self, f"expects `num_oov_indices` >= 0. Received: num_oov_indices={num_oov_indices}")
        if oov_method not in ("floormod", "farmhash"):
            raise layer_error(self, f"expects `oov_method` in ('floormod', 'farmhash'). Received: {oov_method!r}")
        if salt is not None:
            if vocabulary_dtype != "string" and oov_method != "farmhash":
                raise layer_error(
                    self, f"uses `salt` only with oov_method='farmhash'. Received: oov_method={oov_method!r}"
                )
            if isinstance(salt, (tuple, list)) and len(salt) == 2:
                salt = list(salt)
            elif isinstance(salt, int):
                salt = [salt, salt]
            else:
                raise layer_error(self, f"expects `salt` to be an int or 2 ints. Received: salt={salt!r}")
        output_mode = check_output_mode(self, output_mode, LOOKUP_MODES)
        if invert and output_mode != "int":
            raise layer_error(self, f"needs output_mode='int' when invert=True. Received: output_mode={output_mode!r}")
        check_not_sparse(self, sparse)
        if idf_weights is not None and output_mode != "tf_idf":
            raise layer_error(
                self, f"uses `idf_weights` only with output_mode='tf_idf'. Received: output_mode={output_mode!r}"
            )
        if output_mode == "tf_idf" and has_input_vocabulary and idf_weights is None:
            raise layer_error(self, "needs `idf_weights` with a `vocabulary` when output_mode='tf_idf'")
        self.invert = invert
        self.max_tokens = max_tokens
        self.num_oov_indices = num_oov_indices
        self.mask_token = mask_token
        self.oov_token = oov_token
        self.output_mode = output_mode
        self.sparse = sparse
        self.pad_to_max_tokens = pad_to_max_tokens
        self.vocabulary_dtype = vocabulary_dtype
        self.oov_method = oov_method
        self.salt = salt
        self.input_vocabulary = None if isinstance(vocabulary, str) else vocabulary
        self.input_idf_weights = idf_weights
        self._has_input_vocabulary = has_input_vocabulary
        self._frozen_vocab_size = frozen_size
        self._tokens = []
        self._index = {}
        self._idf = None
        self._tables = None
        self._token_counts = collections.Counter()
        self._document_counts = collections.Counter()
        self._num_documents = 0
        # Integer indices and strings are never cast to the float compute dtype.
        self.autocast = False
        if vocabulary is not None:
            self.set_vocabulary(vocabulary, idf_weights)

    # -- vocabulary ------------------------------------------------------------------------

    def _oov_start_index(self):
        return 1 if self.mask_token is not None and self.output_mode == "int" else 0

    def _token_start_index(self):
        return self._oov_start_index() + self.num_oov_indices

    def vocabulary_size(self):
        """The number of indices: special tokens plus the vocabulary."""
        return self._token_start_index() + len(self._tokens)

    def get_vocabulary(self, include_special_tokens=True):
        """The token of each index (mask and OOV tokens first unless `include_special_tokens=False`)."""
        vocab = [self.oov_token] * self._token_start_index() + list(self._tokens)
        if self.mask_token is not None and self.output_mode == "int":
            vocab[0] = self.mask_token
        return vocab if include_special_tokens else vocab[self._token_start_index():]

    def _normalize_tokens(self, values):
        return [self._token(v) for v in values]

    def _token(self, value):
        return int(value)

    def set_vocabulary(self, vocabulary, idf_weights=None):
        """Sets the vocabulary (a list/array of tokens, or a text file with one token per line).

        A vocabulary may start with the special tokens in order (mask, then OOV); they are dropped.
        With output_mode="tf_idf", `idf_weights` gives one weight per token.
        """
        if self.output_mode == "tf_idf":
            if idf_weights is None:
                raise layer_error(self, "needs `idf_weights` with output_mode='tf_idf'")
        elif idf_weights is not None:
            raise layer_error(self, f"uses `idf_weights` only with output_mode='tf_idf'. Received: "
                              f"output_mode={self.output_mode!r}")
        if isinstance(vocabulary, str):
            # While a model file is being loaded, a path could point anywhere: refused as in Keras.
            if getattr(safe_mode._local, "safe_mode", None):
                raise layer_error(self, f"will not read the vocabulary file {vocabulary!r} while loading in safe "
                                  "mode; pass safe_mode=False if you trust the file")
            if not os.path.exists(vocabulary):
                raise layer_error(self, f"cannot find the vocabulary file {vocabulary!r}")
            if self.output_mode == "tf_idf":
                raise layer_error(self, "cannot read a vocabulary file with output_mode='tf_idf'")
            with open(vocabulary, encoding="utf-8") as f:
                vocabulary = f.read().splitlines()
            while vocabulary and vocabulary[-1] == "":
                vocabulary.pop()
        values = list(vocabulary) if isinstance(vocabulary, (list, tuple)) else plain(np.asarray(vocabulary))
        tokens = self._normalize_tokens(values)
        if not tokens:
            raise layer_error(self, f"cannot use an empty vocabulary. Received: vocabulary={vocabulary!r}")
        start = self._token_start_index()
        special = [self.mask_token] * self._oov_start_index() + [self.oov_token] * self.num_oov_indices
        found_special = tokens[:start] == special
        if found_special:
            tokens = tokens[start:]
        repeated = [t for t, c in collections.Counter(tokens).items() if c > 1]
        if repeated:
            raise layer_error(self, f"received a vocabulary with repeated tokens: {repeated}")
        if self.mask_token is not None and self.mask_token in tokens:
            raise layer_error(self, f"found the mask token {self.mask_token!r} inside the vocabulary; leave it out "
                              f"or put the special tokens first, in this order: {special}")
        if self.invert and self.oov_token is not None and self.oov_token in tokens:
            raise layer_error(self, f"found the OOV token {self.oov_token!r} inside the vocabulary; leave it out "
                              f"or put the special tokens first, in this order: {special}")
        if self.max_tokens is not None and start + len(tokens) > self.max_tokens:
            raise layer_error(self, f"received a vocabulary of size {start + len(tokens)}, over max_tokens="
                              f"{self.max_tokens}")
        self._set_tokens(tokens)
        if self.output_mode == "tf_idf":
            weights = np.asarray(idf_weights, dtype="float64")
            if weights.ndim != 1 or len(weights) != len(vocabulary):
                raise layer_error(self, f"expects 1-D `idf_weights` as long as the vocabulary ({len(vocabulary)}). "
                                  f"Received shape {weights.shape}")
            front = 0 if found_special else start
            self._set_idf(np.concatenate([np.full(front, weights.mean()), weights]))

    def _set_tokens(self, tokens):
        self._tokens = list(tokens)
        self._index = {t: i + self._token_start_index() for i, t in enumerate(self._tokens)}
        self._tables = None
        self._record_vocabulary_size()

    def _set_idf(self, weights):
        if self.pad_to_max_tokens and self.max_tokens is not None:
            weights = np.concatenate([weights, np.zeros(self.max_tokens - len(weights))])
        self._idf = weights.astype(kb_config.floatx())

    def _record_vocabulary_size(self):
        size = self.vocabulary_size()
        if (self.output_mode != "int" and not self.pad_to_max_tokens and self._frozen_vocab_size is not None
                and self._frozen_vocab_size != size and self._called):
            raise layer_error(self, f"cannot change its vocabulary size ({self._frozen_vocab_size} -> {size}) "
                              f"after being called with output_mode={self.output_mode!r}", RuntimeError)
        self._frozen_vocab_size = size

    _called = False

    # -- assets (.keras files) -----------------------------------------------------------------

    def save_assets(self, dir_path):
        """Writes an adapted vocabulary to `dir_path/vocabulary.txt`, one token a line (Keras 3's asset).

        A vocabulary passed to the constructor is in the config instead, and nothing is written.
        """
        if self.input_vocabulary is not None:
            return
        with open(os.path.join(dir_path, _VOCABULARY_FILE), "w", encoding="utf-8") as f:
            f.write("\n".join(str(token) for token in self.get_vocabulary(include_special_tokens=True)))

    def load_assets(self, dir_path):
        """Reads the vocabulary `save_assets` (or Keras 3) wrote into `dir_path`."""
        if self.input_vocabulary is not None:
            return
        path = os.path.join(dir_path, _VOCABULARY_FILE)
        if not os.path.isfile(path):
            raise layer_error(self, f"found no `{_VOCABULARY_FILE}` in its assets folder {dir_path!r}")
        if self.output_mode == "tf_idf":
            raise layer_error(self, "cannot restore an adapted vocabulary with output_mode='tf_idf' from a model "
                              "file (its IDF weights are not restored); pass `vocabulary` and `idf_weights` instead")
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
        while lines and lines[-1] == "":
            lines.pop()
        try:
            tokens = self._normalize_tokens(lines)
        except ValueError as error:
            raise layer_error(self, f"read an invalid vocabulary from {path!r}: {error}") from None
        if tokens:
            self.set_vocabulary(tokens)

    # -- adapt -----------------------------------------------------------------------------

    def adapt(self, data, batch_size=None, steps=None):
        """Learns the vocabulary from `data` (tokens ranked by frequency, then by token, descending).

        Args:
            data: an array or list of tokens, or an iterable of batches.
            batch_size: rows per batch when `data` is one array (the result does not depend on it).
            steps: the number of batches to read from an iterable (default: all).
        """
        self.reset_state()
        if isinstance(data, (list, tuple, np.ndarray)):
            array = np.asarray(data)
            self.update_state(array[:, None] if array.ndim == 1 else array)
        else:
            for batch in iter_batches(self, data, batch_size, steps):
                self.update_state(batch)
        self.finalize_state()

    def _adapt_rows(self, batch):
        """The documents of a batch, each a list of tokens."""
        array = np.asarray(batch)
        if array.ndim == 0:
            array = array.reshape(1, 1)
        elif array.ndim == 1:
            array = array[None, :]
        return [self._normalize_tokens(row.ravel().tolist()) for row in array]

    def update_state(self, data):
        """Counts the tokens of one batch."""
        if self._has_input_vocabulary:
            raise layer_error(self, "has a fixed vocabulary (given as `vocabulary` or by set_vocabulary()); "
                              "it cannot adapt()")
        for row in self._adapt_rows(data):
            self._token_counts.update(row)
            if self.output_mode == "tf_idf":
                self._document_counts.update(set(row))
                self._num_documents += 1

    def finalize_state(self):
        """Builds the vocabulary from the counts of `update_state`."""
        if self._has_input_vocabulary or not self._token_counts:
            return
        counts = dict(self._token_counts)
        counts.pop(self.mask_token, None)
        counts.pop(self.oov_token, None)
        ranked = sorted(counts, key=lambda t: (counts[t], t), reverse=True)
        if self.max_tokens:
            ranked = ranked[: self.max_tokens - self._token_start_index()]
        self._set_tokens(ranked)
        if self.output_mode == "tf_idf":
            docs = np.array([self._document_counts[t] for t in ranked], dtype="float64")
            idf = np.log(1.0 + self._num_documents / (1.0 + docs))
            mean = idf.mean() if len(idf) else 0.0
            self._set_idf(np.concatenate([np.full(self._token_start_index(), mean), idf]))
        self.reset_state()

    def reset_state(self):
        """Forgets the counts of `update_state`."""
        self._token_counts = collections.Counter()
        self._document_counts = collections.Counter()
        self._num_documents = 0

    # -- lookups ---------------------------------------------------------------------------

    def _oov_bucket_host(self, tokens):
        """OOV index offsets (in [0, num_oov_indices)) of a flat list of tokens, on the host."""
        n = self.num_oov_indices
        if self.vocabulary_dtype != "string" and self.oov_method != "farmhash":
            return [int(t) % n for t in tokens]
        texts = [str(t) for t in tokens]
        if self.salt is not None:
            return [_farmhash.siphash_2_4(s.encode("utf-8"), self.salt) % n for s in texts]
        return [_farmhash.fingerprint64(s.encode("utf-8")) % n for s in texts]

    def _lookup_host(self, tokens_array):
        """Token array -> int64 index array (forward lookup on the host)."""
        flat = tokens_array.ravel().tolist()
        default = self._oov_start_index() if self.num_oov_indices == 1 else -1
        indices = [self._index.get(t, default) for t in flat]
        if self.num_oov_indices > 1:
            missing = [i for i, t in enumerate(flat) if t not in self._index]
            buckets = self._oov_bucket_host([flat[i] for i in missing])
            for i, b in zip(missing, buckets):
                indices[i] = b + self._oov_start_index()
        if self.mask_token is not None:
            masked = 0 if self.output_mode == "int" else -1
            indices = [masked if t == self.mask_token else i for t, i in zip(flat, indices)]
        if self.num_oov_indices == 0 and -1 in indices:
            oov = sorted({t for t, i in zip(flat, indices) if i == -1 and t != self.mask_token}, key=str)
            if oov:
                raise layer_error(self, f"has num_oov_indices=0 but received out-of-vocabulary tokens: {oov[:10]}. "
                                  "Set num_oov_indices=1 to map them to an OOV index")
        return np.array(indices, dtype="int64").reshape(tokens_array.shape)

    def _invert_host(self, indices):
        """Index array -> token list array (inverse lookup on the host)."""
        vocab = self.get_vocabulary()
        flat = np.asarray(indices).ravel().tolist()
        size = len(vocab)
        tokens = [vocab[i] if 0 <= i < size else self.oov_token for i in flat]
        return tokens

    def _depth(self):
        if self.pad_to_max_tokens:
            return self.max_tokens
        if self._frozen_vocab_size is None:
            raise layer_error(self, f"needs a vocabulary before it is called with output_mode={self.output_mode!r} "
                              "and pad_to_max_tokens=False: pass `vocabulary` or call adapt()", RuntimeError)
        return self._frozen_vocab_size

    def _encode_indices(self, indices):
        """Integer indices (tensor) -> the layer's output, with `kbridge.ops`."""
        if self.output_mode == "int":
            return ops.cast(indices, "int64")
        self._called = True
        depth = self._depth()
        if self.output_mode != "tf_idf":
            return encode(indices, self.output_mode, depth, "int64")
        counts = encode(indices, "count", depth, kb_config.floatx())
        idf = self._idf if self._idf is not None else np.zeros(depth, kb_config.floatx())
        return ops.multiply(counts, ops.convert_to_tensor(idf, dtype=kb_config.floatx()))

    # -- shapes and config -----------------------------------------------------------------

    def compute_output_shape(self, input_shape):
        if self.output_mode == "int":
            return tuple(input_shape)
        depth = self.max_tokens if self.pad_to_max_tokens else self._frozen_vocab_size
        return encoded_shape(input_shape, self.output_mode, depth)

    def compute_output_spec(self, inputs):
        if self.invert:
            dtype = self.vocabulary_dtype
        else:
            dtype = "int64" if self.output_mode in ("int", "one_hot", "multi_hot", "count") else kb_config.floatx()
        return KerasTensor(self.compute_output_shape(inputs.shape), dtype=dtype)

    def get_config(self):
        config = Layer.get_config(self)
        config.update(
            invert=self.invert,
            max_tokens=self.max_tokens,
            num_oov_indices=self.num_oov_indices,
            oov_token=self.oov_token,
            mask_token=self.mask_token,
            output_mode=self.output_mode,
            sparse=self.sparse,
            pad_to_max_tokens=self.pad_to_max_tokens,
            vocabulary_dtype=self.vocabulary_dtype,
            idf_weights=plain(self.input_idf_weights),
            vocabulary=plain(self.input_vocabulary),
            vocabulary_size=self._frozen_vocab_size,
            oov_method=self.oov_method,
            salt=self.salt,
        )
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config.pop("trainable", None)
        return cls(**config)

    def get_build_config(self):
        return {}

    def build_from_config(self, config):
        self.built = True
