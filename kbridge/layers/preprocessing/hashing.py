"""`Hashing`: hashes strings or integers into `num_bins` bins (FarmHash, as Keras 3)."""

import numpy as np

from kbridge import config as kb_config
from kbridge.layers._base import layer_config
from kbridge.layers.layer import Layer
from kbridge.layers.preprocessing import _farmhash
from kbridge.layers.preprocessing._categorical import (
    OUTPUT_MODES,
    check_not_sparse,
    check_output_mode,
    encode,
    host_array,
    layer_error,
)
from kbridge.symbolic.keras_tensor import KerasTensor


class Hashing(Layer):
    """Bins each value by `Fingerprint64(str(value)) % num_bins` (or keyed SipHash with `salt`).

    Gives Keras 3's bins: integers hash as their decimal strings, floats are truncated to
    integers first. Hashing runs on the host (pure Python FarmHash/SipHash on NumPy data or
    lists, any tensor is read back), so it is a data-pipeline layer, not for compiled steps;
    the result is a tensor of the active backend.

    Args:
        num_bins: the number of bins (the mask bin included when `mask_value` is set).
        mask_value: values equal to it go to bin 0; the others hash into `[1, num_bins)`.
        salt: an int or 2 ints: use keyed SipHash-2-4 (TF's `to_hash_bucket_strong`).
        output_mode: "int", "one_hot", "multi_hot" or "count".
        sparse: must be False.
        **kwargs: base `Layer` arguments (`dtype` defaults to "int64" for "int", else floatx()).
    """

    def __init__(self, num_bins, mask_value=None, salt=None, output_mode="int", sparse=False, **kwargs):
        if kwargs.get("dtype") is None:
            kwargs["dtype"] = "int64" if output_mode == "int" else kb_config.floatx()
        super().__init__(**kwargs)
        if num_bins is None or num_bins <= 0:
            raise layer_error(self, f"expects `num_bins` > 0. Received: num_bins={num_bins}")
        output_mode = check_output_mode(self, output_mode, OUTPUT_MODES)
        if output_mode == "int" and self.dtype_policy.name not in ("int32", "int64"):
            raise layer_error(self, f"needs an integer dtype ('int32' or 'int64') with output_mode='int'. "
                              f"Received: dtype={self.dtype_policy.name}")
        check_not_sparse(self, sparse)
        self.num_bins = num_bins
        self.mask_value = mask_value
        self.strong_hash = salt is not None
        self.output_mode = output_mode
        self.sparse = sparse
        self.salt = None
        if salt is not None:
            if isinstance(salt, (tuple, list)) and len(salt) == 2:
                self.salt = list(salt)
            elif isinstance(salt, int):
                self.salt = [salt, salt]
            else:
                raise layer_error(self, f"expects `salt` to be an int or 2 ints. Received: salt={salt!r}")
        self.autocast = False

    def _bins(self, values):
        """NumPy array of strings or numbers -> int64 bins, on the host."""
        bins = self.num_bins
        mask = None
        if self.mask_value is not None and bins > 1:
            bins -= 1
            mask = values == self.mask_value
        if values.dtype.kind == "f":
            values = values.astype("int64")
        if values.dtype.kind == "b":
            raise layer_error(self, "expects strings or numbers. Received booleans", TypeError)
        flat = values.ravel().tolist()
        if self.salt is not None:
            hashed = [_farmhash.siphash_2_4(self._bytes(v), self.salt) % bins for v in flat]
        else:
            hashed = [_farmhash.fingerprint64(self._bytes(v)) % bins for v in flat]
        out = np.array(hashed, dtype="int64").reshape(values.shape)
        if mask is not None:
            out = np.where(mask, 0, out + 1)
        return out

    @staticmethod
    def _bytes(value):
        if isinstance(value, bytes):
            return value
        return str(value).encode("utf-8")

    def __call__(self, inputs, **kwargs):
        if isinstance(inputs, KerasTensor):
            return Layer.__call__(self, inputs, **kwargs)
        values = host_array(inputs)
        if values.dtype.kind == "O":
            values = np.array([v.decode("utf-8") if isinstance(v, bytes) else v for v in values.ravel().tolist()],
                              dtype=object).reshape(values.shape)
        if self.output_mode == "one_hot" and values.ndim and values.shape[-1] == 1:
            values = values[..., 0]
        return Layer.__call__(self, self._bins(values), **kwargs)

    def call(self, inputs):
        # Receives the bins computed on the host by __call__.
        return encode(inputs, self.output_mode, self.num_bins, self.compute_dtype)

    def compute_output_shape(self, input_shape):
        if self.output_mode == "int":
            return tuple(input_shape)
        if len(input_shape) == 0:
            return (self.num_bins,)
        return tuple(input_shape[:-1]) + (self.num_bins,)

    def compute_output_spec(self, inputs):
        return KerasTensor(self.compute_output_shape(inputs.shape), dtype=self.compute_dtype)

    def get_config(self):
        return layer_config(
            self, num_bins=self.num_bins, salt=self.salt, mask_value=self.mask_value,
            output_mode=self.output_mode, sparse=self.sparse,
        )  # fmt: skip
