"""`Discretization`: buckets continuous values by boundaries given or learned (quantiles) by `adapt`."""

import numpy as np

from kbridge import config as kb_config
from kbridge import ops
from kbridge.layers.layer import Layer
from kbridge.layers.preprocessing._adapt_data import iter_batches
from kbridge.layers.preprocessing._categorical import (
    OUTPUT_MODES,
    check_not_sparse,
    check_output_mode,
    encode,
    encoded_shape,
    layer_error,
)
from kbridge.symbolic.keras_tensor import KerasTensor


class Discretization(Layer):
    """Maps each value to the index of its bucket: `bin_boundaries[i-1] <= x < bin_boundaries[i]` -> `i`.

    Runs with `kbridge.ops` (inside models, on every backend). `adapt` learns `num_bins - 1`
    boundaries at the quantiles `1/num_bins, ..., (num_bins-1)/num_bins` of the data.

    Unlike Keras 3, whose `adapt` keeps an approximate summary (about `1/epsilon` points per
    batch, merged and compressed), kbridge keeps every value and computes exact quantiles with
    NumPy's "interpolated_inverted_cdf" rule (the value at position `q * n - 1` of the sorted data,
    linearly interpolated). That is what Keras computes too while the data has fewer than
    `1/epsilon` values (100 by default); on more data Keras's boundaries are approximations of
    these. `epsilon` is kept for configs. As Keras, fewer values than `num_bins` give the sorted
    values but the last as boundaries.

    Args:
        bin_boundaries: sorted list of boundaries (no `adapt` then).
        num_bins: the number of bins `adapt` learns.
        epsilon: Keras's approximation tolerance (unused: quantiles are exact).
        output_mode: "int", "one_hot", "multi_hot" or "count".
        sparse: must be False (kbridge has no sparse tensors).
        dtype: the output dtype of the non-"int" modes (the compute dtype).
        name: the layer name.
    """

    def __init__(self, bin_boundaries=None, num_bins=None, epsilon=0.01, output_mode="int", sparse=False,
                 dtype=None, name=None):
        super().__init__(name=name, dtype=dtype)
        output_mode = check_output_mode(self, output_mode, OUTPUT_MODES)
        check_not_sparse(self, sparse)
        if num_bins is not None and num_bins < 0:
            raise layer_error(self, f"expects `num_bins` >= 0. Received: num_bins={num_bins}")
        if num_bins is not None and bin_boundaries is not None:
            raise layer_error(self, f"takes `num_bins` or `bin_boundaries`, not both. Received: num_bins={num_bins} "
                              f"and bin_boundaries={bin_boundaries}")
        if num_bins is None and bin_boundaries is None:
            raise layer_error(self, "needs `num_bins` (then adapt()) or `bin_boundaries`. Received neither")
        self.bin_boundaries = None if bin_boundaries is None else [float(b) for b in bin_boundaries]
        if self.bin_boundaries is not None and any(
            b > c for b, c in zip(self.bin_boundaries, self.bin_boundaries[1:])
        ):
            raise layer_error(self, f"expects sorted `bin_boundaries`. Received: {bin_boundaries}")
        self.num_bins = num_bins
        self.epsilon = epsilon
        self.output_mode = output_mode
        self.sparse = sparse

    @property
    def output_dtype(self):
        return "int32" if self.output_mode == "int" else self.compute_dtype

    def adapt(self, data, batch_size=None, steps=None):
        """Sets `bin_boundaries` to the quantiles of `data` (an array, a list or an iterable of batches)."""
        if self.num_bins is None:
            raise layer_error(self, "was given `bin_boundaries`; only a layer made with `num_bins` can adapt()")
        values = [batch.astype("float32").ravel() for batch in iter_batches(self, data, batch_size, steps)]
        values = np.sort(np.concatenate(values)).astype("float64")
        if values.size == 0:
            raise layer_error(self, "adapt() received no values")
        if values.size < self.num_bins:
            boundaries = values[:-1]
        else:
            quantiles = np.arange(1, self.num_bins) / self.num_bins
            boundaries = np.quantile(values, quantiles, method="interpolated_inverted_cdf")
        self.bin_boundaries = boundaries.astype("float32").tolist()

    def call(self, inputs):
        if self.bin_boundaries is None:
            raise layer_error(self, "has no `bin_boundaries`: pass them, or call adapt() before using the layer")
        x = ops.cast(inputs, kb_config.floatx()) if "float" not in ops.dtype(inputs) else inputs
        indices = ops.digitize(x, self.bin_boundaries)
        return encode(indices, self.output_mode, len(self.bin_boundaries) + 1, self.output_dtype)

    def _depth(self):
        return len(self.bin_boundaries) + 1 if self.bin_boundaries is not None else self.num_bins

    def compute_output_shape(self, input_shape):
        return encoded_shape(input_shape, self.output_mode, self._depth())

    def compute_output_spec(self, inputs):
        return KerasTensor(self.compute_output_shape(inputs.shape), dtype=self.output_dtype)

    def get_config(self):
        # Keras 3 lists these keys only (no "trainable"), and the dtype as a plain name.
        return {
            "bin_boundaries": self.bin_boundaries,
            "num_bins": self.num_bins,
            "epsilon": self.epsilon,
            "output_mode": self.output_mode,
            "sparse": self.sparse,
            "name": self.name,
            "dtype": self.dtype,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config.pop("trainable", None)
        if config.get("bin_boundaries") is not None and config.get("num_bins") is not None:
            # An adapted layer: both are saved; restore the learned boundaries after construction.
            boundaries = config.pop("bin_boundaries")
            layer = cls(**config)
            layer.bin_boundaries = [float(b) for b in boundaries]
            return layer
        return cls(**config)
