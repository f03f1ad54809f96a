"""`Normalization`: `(x - mean) / sqrt(variance)` with statistics given or learned by `adapt`."""

import math

import numpy as np

from kbridge import config as kb_config
from kbridge import ops
from kbridge.layers._base import layer_config
from kbridge.layers.layer import Layer
from kbridge.layers.preprocessing._adapt_data import iter_batches
from kbridge.layers.preprocessing._categorical import layer_error


class Normalization(Layer):
    """Shifts and scales inputs to zero mean and unit variance per index of `axis`.

    Runs with `kbridge.ops`, so it works inside models on every backend and in compiled steps.

    Args:
        axis: int, tuple of ints or None: the axes that keep a separate mean and variance per
            index (the others are reduced by `adapt`). None: one scalar mean and variance.
        mean: the mean, broadcast to the kept axes; set with `variance` instead of `adapt`.
        variance: the variance, as `mean`.
        invert: if True, computes `x * sqrt(variance) + mean` (undoes the normalization).
        **kwargs: base `Layer` arguments.
    """

    def __init__(self, axis=-1, mean=None, variance=None, invert=False, **kwargs):
        super().__init__(**kwargs)
        if axis is None:
            axis = ()
        elif isinstance(axis, int) and not isinstance(axis, bool):
            axis = (axis,)
        elif isinstance(axis, (list, tuple)) and all(isinstance(a, int) for a in axis):
            axis = tuple(axis)
        else:
            raise layer_error(
                self, f"expects `axis` to be an int, a tuple of ints or None. Received: axis={axis!r}", TypeError
            )
        self.axis = axis
        self.input_mean = mean
        self.input_variance = variance
        self.invert = invert
        self.supports_masking = True
        self.adapt_mean = None
        self.adapt_variance = None
        self.count = None
        self._build_input_shape = None
        if (mean is None) != (variance is None):
            raise layer_error(
                self, f"needs both `mean` and `variance`, or neither. Received: mean={mean} and variance={variance}"
            )
        if mean is not None:
            if np.shape(mean) != np.shape(variance):
                raise layer_error(
                    self, f"expects `mean` and `variance` of one shape. Received: shapes {np.shape(mean)} and "
                    f"{np.shape(variance)}",
                )  # fmt: skip
            if np.ndim(mean) > len(self.axis):
                raise layer_error(
                    self, f"expects `mean` of rank <= the number of axes ({len(self.axis)}). Received: mean of "
                    f"shape {np.shape(mean)} for axis={self.axis}",
                )  # fmt: skip

    def build(self, input_shape):
        if input_shape is None:
            return
        input_shape = tuple(input_shape)
        ndim = len(input_shape)
        if any(not -ndim <= a < ndim for a in self.axis):
            raise layer_error(self, f"expects every `axis` in [-{ndim}, {ndim}) for inputs of shape {input_shape}. "
                              f"Received: axis={self.axis}")
        self._build_input_shape = input_shape
        self._keep_axis = tuple(sorted(a % ndim for a in self.axis))
        for a in self._keep_axis:
            if input_shape[a] is None:
                raise layer_error(self, f"needs a known size on every kept axis. Received: inputs of shape "
                                  f"{input_shape} with axis={self.axis}")
        self._reduce_axis = tuple(a for a in range(ndim) if a not in self._keep_axis)
        self._broadcast_shape = tuple(input_shape[a] if a in self._keep_axis else 1 for a in range(ndim))
        self._mean_and_var_shape = tuple(input_shape[a] for a in self._keep_axis)
        if self.input_mean is None:
            self.adapt_mean = self.add_weight(name="mean", shape=self._mean_and_var_shape, initializer="zeros",
                                              trainable=False)
            self.adapt_variance = self.add_weight(name="variance", shape=self._mean_and_var_shape,
                                                  initializer="ones", trainable=False)
            self.count = self.add_weight(name="count", shape=(), dtype="int32", initializer="zeros", trainable=False)
        else:
            self._fixed_mean = self._fixed_statistic(self.input_mean)
            self._fixed_variance = self._fixed_statistic(self.input_variance)

    def _fixed_statistic(self, value):
        # Trailing dims of a given mean/variance line up with the last kept axes.
        value = np.asarray(value, dtype="float64")
        expanded = [1] * len(self._broadcast_shape)
        for i in range(1, value.ndim + 1):
            expanded[self._keep_axis[-i]] = value.shape[-i]
        try:
            return np.broadcast_to(value.reshape(expanded), self._broadcast_shape)
        except ValueError as error:
            raise layer_error(self, f"cannot broadcast a mean/variance of shape {value.shape} to the kept axes "
                              f"{self._mean_and_var_shape}") from error

    def adapt(self, data, batch_size=None, steps=None):
        """Computes the mean and variance of `data` over every axis but `axis`, into the weights.

        Args:
            data: a NumPy array, a list, a tensor, or an iterable of batches (arrays, or `(x, y)` tuples).
            batch_size: rows per batch when `data` is one array (the result does not depend on it).
            steps: the number of batches to read from an iterable (default: all).
        """
        if self.input_mean is not None:
            raise layer_error(self, "was given `mean` and `variance`; adapt() cannot replace them")
        total_mean = total_var = None
        total_count = 0
        for batch in iter_batches(self, data, batch_size, steps):
            batch = batch.astype("float64")
            if not self.built or self._build_input_shape is None:
                self.build(batch.shape)
            self._check_adapt_shape(batch.shape)
            count = math.prod(batch.shape[a] for a in self._reduce_axis) if self._reduce_axis else 1
            if count == 0:
                continue
            mean = batch.mean(axis=self._reduce_axis)
            var = batch.var(axis=self._reduce_axis)
            if total_mean is None:
                total_mean, total_var, total_count = mean, var, count
                continue
            # Chan et al.'s pairwise merge of two (mean, variance, count) summaries.
            new_count = total_count + count
            delta = mean - total_mean
            new_mean = total_mean + delta * (count / new_count)
            total_var = (total_var * total_count + var * count + delta**2 * total_count * count / new_count) / new_count
            total_mean, total_count = new_mean, new_count
        if total_mean is None:
            raise layer_error(self, "adapt() received batches with no elements")
        self.adapt_mean.assign(total_mean.astype(self.variable_dtype))
        self.adapt_variance.assign(total_var.astype(self.variable_dtype))

    def _check_adapt_shape(self, shape):
        if len(shape) != len(self._build_input_shape) or any(
            shape[a] != self._build_input_shape[a] for a in self._keep_axis
        ):
            raise layer_error(self, f"was built for inputs of shape {self._build_input_shape}; adapt() received "
                              f"data of shape {tuple(shape)}")

    def call(self, inputs):
        if self._build_input_shape is None:
            raise layer_error(self, "must be built (call build(input_shape) or adapt()) before it is used")
        dtype = self.compute_dtype
        inputs = ops.cast(inputs, dtype)
        if self.input_mean is None:
            mean = ops.reshape(ops.cast(self.adapt_mean, dtype), self._broadcast_shape)
            variance = ops.reshape(ops.cast(self.adapt_variance, dtype), self._broadcast_shape)
        else:
            mean = ops.convert_to_tensor(self._fixed_mean, dtype=dtype)
            variance = ops.convert_to_tensor(self._fixed_variance, dtype=dtype)
        scale = ops.maximum(ops.sqrt(variance), kb_config.epsilon())
        if self.invert:
            return ops.add(mean, ops.multiply(inputs, scale))
        return ops.divide(ops.subtract(inputs, mean), scale)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return layer_config(
            self,
            axis=self.axis,
            invert=self.invert,
            mean=np.array(self.input_mean).tolist(),
            variance=np.array(self.input_variance).tolist(),
        )

    def get_build_config(self):
        if self._build_input_shape:
            return {"input_shape": self._build_input_shape}
        return None

    def build_from_config(self, config):
        if config:
            self.build(config["input_shape"])
