"""`TextVectorization`: strings -> standardized tokens -> vocabulary indices or encodings, on the host."""

import string

import numpy as np

from kbridge import config as kb_config
from kbridge import ops
from kbridge.layers.layer import Layer
from kbridge.layers.preprocessing._categorical import check_output_mode, host_strings, layer_error, plain
from kbridge.layers.preprocessing._index_lookup import LOOKUP_MODES
from kbridge.layers.preprocessing.string_lookup import StringLookup
from kbridge.symbolic.keras_tensor import KerasTensor

_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)
# Keras 3's punctuation class is exactly `string.punctuation`.
_NO_PUNCTUATION = str.maketrans("", "", string.punctuation)


class TextVectorization(Layer):
    """Turns strings into sequences of token indices, or into multi-hot / count / TF-IDF vectors.

    Text processing runs on the host on NumPy `str`/`bytes`/`object` arrays or lists (tensors of
    torch and JAX cannot hold strings; Keras 3 runs it in the data pipeline too), and the result
    is a tensor of the active backend. "lower" lowercases ASCII letters only, as TensorFlow's
    `strings.lower`. A callable `split` is applied to each standardized string and returns its
    tokens; a callable `standardize` receives the NumPy `str` array and returns one.

    Args:
        max_tokens: the maximum vocabulary size, mask and OOV tokens included.
        standardize: "lower_and_strip_punctuation", "lower", "strip_punctuation", None or a callable.
        split: "whitespace", "character", None (each string is one token) or a callable.
        ngrams: None, an int n (1..n-grams) or a tuple of n-gram sizes.
        output_mode: "int", "multi_hot", "count", "tf_idf" (or "one_hot").
        output_sequence_length: in "int" mode, pad or truncate every sequence to this length
            (None: pad to the longest in the batch).
        pad_to_max_tokens: encode to `max_tokens` wide outputs.
        vocabulary: a list of strings or a text file path (or adapt()).
        idf_weights: per-token weights for "tf_idf" with a given vocabulary.
        sparse: must be False.
        ragged: must be False (kbridge has no ragged tensors).
        encoding: the text encoding of bytes inputs.
        name: the layer name.
        **kwargs: base `Layer` arguments, `vocabulary_size` (from configs).
    """

    def __init__(self, max_tokens=None, standardize="lower_and_strip_punctuation", split="whitespace", ngrams=None,
                 output_mode="int", output_sequence_length=None, pad_to_max_tokens=False, vocabulary=None,
                 idf_weights=None, sparse=False, ragged=False, encoding="utf-8", name=None, **kwargs):
        has_input_vocabulary = kwargs.pop("has_input_vocabulary", vocabulary is not None)
        vocabulary_size = kwargs.pop("vocabulary_size", None)
        super().__init__(name=name, **kwargs)
        if not (standardize is None or callable(standardize)
                or standardize in ("lower_and_strip_punctuation", "lower", "strip_punctuation")):
            raise layer_error(self, "expects `standardize` in ('lower_and_strip_punctuation', 'lower', "
                              f"'strip_punctuation'), None or a callable. Received: standardize={standardize!r}")
        if not (split is None or callable(split) or split in ("whitespace", "character")):
            raise layer_error(self, "expects `split` in ('whitespace', 'character'), None or a callable. "
                              f"Received: split={split!r}")
        output_mode = check_output_mode(self, output_mode, LOOKUP_MODES)
        if not (ngrams is None or (isinstance(ngrams, int) and not isinstance(ngrams, bool))
                or (isinstance(ngrams, (tuple, list)) and all(isinstance(n, int) for n in ngrams))):
            raise layer_error(
                self, f"expects `ngrams` to be None, an int or a tuple of ints. Received: ngrams={ngrams!r}"
            )
        if output_mode == "int" and not (output_sequence_length is None or isinstance(output_sequence_length, int)):
            raise layer_error(self, "expects `output_sequence_length` to be None or an int. Received: "
                              f"output_sequence_length={output_sequence_length!r}")
        if output_mode != "int" and output_sequence_length is not None:
            raise layer_error(self, "takes `output_sequence_length` only with output_mode='int'. Received: "
                              f"output_sequence_length={output_sequence_length}")
        if ragged:
            raise layer_error(
                self, "cannot produce ragged outputs: kbridge has no ragged tensors. Received: ragged=True"
            )
        self._max_tokens = max_tokens
        self._standardize = standardize
        self._split = split
        self._ngrams_arg = tuple(ngrams) if isinstance(ngrams, list) else ngrams
        self._ngrams = tuple(range(1, ngrams + 1)) if isinstance(ngrams, int) else self._ngrams_arg
        self._ragged = ragged
        self._output_mode = output_mode
        self._output_sequence_length = output_sequence_length
        self._encoding = encoding
        self._lookup_layer = StringLookup(
            max_tokens=max_tokens, vocabulary=vocabulary, idf_weights=idf_weights,
            pad_to_max_tokens=pad_to_max_tokens, mask_token="", output_mode=output_mode, sparse=sparse,
            has_input_vocabulary=has_input_vocabulary, encoding=encoding, vocabulary_size=vocabulary_size,
            name=f"{self.name}_lookup",
        )  # fmt: skip
        self.autocast = False

    # -- text processing -------------------------------------------------------------------

    def _standardize_array(self, texts):
        if callable(self._standardize):
            return np.asarray(self._standardize(texts), dtype=str)
        if self._standardize is None:
            return texts
        lower = self._standardize in ("lower", "lower_and_strip_punctuation")
        strip = self._standardize in ("strip_punctuation", "lower_and_strip_punctuation")
        flat = []
        for text in texts.ravel().tolist():
            if lower:
                text = text.translate(_ASCII_LOWER)
            if strip:
                text = text.translate(_NO_PUNCTUATION)
            flat.append(text)
        return np.array(flat, dtype=str).reshape(texts.shape)

    def _tokenize(self, text):
        if self._split == "whitespace":
            return text.split()
        if self._split == "character":
            return list(text)
        return [str(t) for t in self._split(text)]

    def _with_ngrams(self, tokens):
        if self._ngrams is None:
            return tokens
        out = []
        for n in self._ngrams:
            out.extend(" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1))
        return out

    def _preprocess(self, inputs):
        """Inputs -> (token rows, whether the input was one scalar string); rows are None with split=None."""
        texts = self._standardize_array(host_strings(self, inputs, self._encoding))
        if self._split is None:
            return texts, False
        if texts.ndim > 1:
            if texts.shape[-1] != 1 or texts.ndim > 2:
                raise layer_error(self, "expects strings of rank 1, or rank 2 with a last dimension of 1, when it "
                                  f"splits them. Received inputs of shape {texts.shape}")
            texts = texts[:, 0]
        scalar = texts.ndim == 0
        rows = [self._with_ngrams(self._tokenize(t)) for t in np.atleast_1d(texts).tolist()]
        return rows, scalar

    # -- adapt and vocabulary --------------------------------------------------------------

    def adapt(self, data, batch_size=None, steps=None):
        """Learns the vocabulary from strings (an array or list, or an iterable of batches)."""
        self.reset_state()
        if isinstance(data, (str, bytes)):
            data = [data]
        if isinstance(data, (list, tuple, np.ndarray)):
            self.update_state(data)
        else:
            from kbridge.layers.preprocessing._adapt_data import iter_batches

            for batch in iter_batches(self, data, batch_size, steps):
                self.update_state(batch)
        self.finalize_state()

    def update_state(self, data):
        """Counts the tokens of one batch of strings."""
        rows, _ = self._preprocess(data)
        if self._split is None:
            rows = [[t] for t in np.atleast_1d(rows).ravel().tolist()]
        lookup = self._lookup_layer
        if lookup._has_input_vocabulary:
            raise layer_error(self, "has a fixed vocabulary; it cannot adapt()")
        for row in rows:
            lookup._token_counts.update(row)
            if lookup.output_mode == "tf_idf":
                lookup._document_counts.update(set(row))
                lookup._num_documents += 1

    def finalize_state(self):
        self._lookup_layer.finalize_state()

    def reset_state(self):
        self._lookup_layer.reset_state()

    def get_vocabulary(self, include_special_tokens=True):
        """The token of each index (mask "" and OOV "[UNK]" first unless `include_special_tokens=False`)."""
        return self._lookup_layer.get_vocabulary(include_special_tokens)

    def vocabulary_size(self):
        """The number of indices, special tokens included."""
        return self._lookup_layer.vocabulary_size()

    def set_vocabulary(self, vocabulary, idf_weights=None):
        """Sets the vocabulary (and TF-IDF weights) as `StringLookup.set_vocabulary`."""
        self._lookup_layer.set_vocabulary(vocabulary, idf_weights=idf_weights)

    def save_assets(self, dir_path):
        """Writes the adapted vocabulary into `dir_path` (as `StringLookup.save_assets`)."""
        self._lookup_layer.save_assets(dir_path)

    def load_assets(self, dir_path):
        """Reads the vocabulary `save_assets` (or Keras 3) wrote into `dir_path`."""
        self._lookup_layer.load_assets(dir_path)

    # -- calling ---------------------------------------------------------------------------

    def __call__(self, inputs, **kwargs):
        if isinstance(inputs, KerasTensor):
            return Layer.__call__(self, inputs, **kwargs)
        return Layer.__call__(self, self._indices(inputs), **kwargs)

    def _indices(self, inputs):
        lookup = self._lookup_layer
        rows, scalar = self._preprocess(inputs)
        if self._split is None:
            indices = lookup._lookup_host(rows)
            if self._output_mode == "int" and self._output_sequence_length is not None and indices.ndim:
                indices = _fit_length(indices, self._output_sequence_length, 0)
            return indices
        pad = 0 if self._output_mode == "int" else -1
        width = max((len(r) for r in rows), default=0)
        if self._output_mode == "int" and self._output_sequence_length is not None:
            width = self._output_sequence_length
        indices = np.full((len(rows), width), pad, dtype="int64")
        for i, row in enumerate(rows):
            found = lookup._lookup_host(np.array(row[:width], dtype=str)) if row else np.zeros(0, "int64")
            indices[i, : len(found)] = found
        return indices[0] if scalar else indices

    def call(self, inputs):
        # Receives the indices computed on the host by __call__.
        if self._output_mode == "int":
            return ops.cast(inputs, "int64")
        return self._lookup_layer._encode_indices(inputs)

    def compute_output_shape(self, input_shape):
        if self._output_mode == "int":
            return (input_shape[0], self._output_sequence_length)
        input_shape = tuple(input_shape)
        if self._split is None:
            if len(input_shape) <= 1:
                input_shape = input_shape + (1,)
        else:
            # A trailing axis of 1 is squeezed before splitting; tokens make a new last axis.
            if len(input_shape) > 1:
                input_shape = input_shape[:-1]
            input_shape = input_shape + (None,)
        return self._lookup_layer.compute_output_shape(input_shape)

    def compute_output_spec(self, inputs):
        dtype = kb_config.floatx() if self._output_mode == "tf_idf" else "int64"
        return KerasTensor(self.compute_output_shape(inputs.shape), dtype=dtype)

    def get_config(self):
        config = Layer.get_config(self)
        config.update(
            max_tokens=self._lookup_layer.max_tokens,
            standardize=self._standardize,
            split=self._split,
            ngrams=self._ngrams_arg,
            output_mode=self._output_mode,
            output_sequence_length=self._output_sequence_length,
            pad_to_max_tokens=self._lookup_layer.pad_to_max_tokens,
            sparse=self._lookup_layer.sparse,
            ragged=self._ragged,
            vocabulary=plain(self._lookup_layer.input_vocabulary),
            idf_weights=plain(self._lookup_layer.input_idf_weights),
            encoding=self._encoding,
            vocabulary_size=self.vocabulary_size(),
        )
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if isinstance(config.get("ngrams"), list):
            config["ngrams"] = tuple(config["ngrams"])
        return cls(**config)

    def get_build_config(self):
        return {}

    def build_from_config(self, config):
        self.built = True


def _fit_length(indices, length, pad):
    indices = indices[..., :length]
    missing = length - indices.shape[-1]
    if missing > 0:
        widths = [(0, 0)] * (indices.ndim - 1) + [(0, missing)]
        indices = np.pad(indices, widths, constant_values=pad)
    return indices
