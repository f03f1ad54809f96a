"""Initializers (Keras 3 `keras.initializers`): callables `(shape, dtype=None) -> tensor`.

Random initializers draw with `kbridge.random`, so one seed gives the same values on
every backend. As in Keras 3, `seed=None` picks an int seed once, at construction, from
the global generator (`kbridge.utils.set_random_seed` makes it reproducible): an
instance returns the same values on every call.
"""

import math

import numpy as np

from kbridge import ops
from kbridge import random as kb_random
from kbridge.backend.dtypes import standardize_dtype
from kbridge.random.seed_generator import make_default_seed


class Initializer:
    """Base class: subclasses implement `__call__(shape, dtype=None)` and `get_config()`."""

    def __call__(self, shape, dtype=None):
        """Returns a tensor of `shape` and `dtype` (default `floatx()`) on the active backend."""
        raise NotImplementedError("Initializer subclasses must implement the `__call__()` method.")

    def get_config(self):
        """Returns the constructor arguments as a dict."""
        return {}

    @classmethod
    def from_config(cls, config):
        """Creates an initializer from `get_config()` output."""
        return cls(**config)

    def clone(self):
        """Returns a new initializer with the same config."""
        return self.__class__.from_config(self.get_config())


class Constant(Initializer):
    """Fills with a constant `value`.

    Args:
        value: a Python scalar (or an array broadcastable to the shape).
    """

    def __init__(self, value=0.0):
        self.value = value

    def __call__(self, shape, dtype=None):
        dtype = standardize_dtype(dtype)
        return ops.broadcast_to(ops.convert_to_tensor(self.value, dtype=dtype), tuple(shape))

    def get_config(self):
        value = self.value
        if isinstance(value, np.ndarray):
            value = value.tolist()
        return {"value": value}


class Zeros(Initializer):
    """Fills with 0."""

    def __call__(self, shape, dtype=None):
        return ops.zeros(tuple(shape), dtype=standardize_dtype(dtype))


class Ones(Initializer):
    """Fills with 1."""

    def __call__(self, shape, dtype=None):
        return ops.ones(tuple(shape), dtype=standardize_dtype(dtype))


class Identity(Initializer):
    """`gain` times the identity matrix (2-D shapes only).

    Args:
        gain: multiplicative factor.
    """

    def __init__(self, gain=1.0):
        self.gain = gain

    def __call__(self, shape, dtype=None):
        if len(shape) != 2:
            raise ValueError(
                "Identity matrix initializer can only be used for 2D matrices. "
                f"Received: shape={tuple(shape)} of rank {len(shape)}."
            )
        dtype = standardize_dtype(dtype)
        return ops.multiply(ops.eye(shape[0], shape[1], dtype=dtype), self.gain)

    def get_config(self):
        return {"gain": self.gain}


class RandomInitializer(Initializer):
    """Base of seeded initializers.

    Args:
        seed: int, `kbridge.random.SeedGenerator`, or None (an int drawn now).
    """

    def __init__(self, seed=None):
        self._init_seed = seed
        if seed is None:
            seed = make_default_seed()
        elif isinstance(seed, dict):
            seed = kb_random.SeedGenerator.from_config(seed.get("config", seed))
        elif isinstance(seed, bool) or not isinstance(seed, (int, kb_random.SeedGenerator)):
            raise ValueError(
                "`seed` argument should be an instance of `kbridge.random.SeedGenerator()` or an integer. "
                f"Received: seed={seed}"
            )
        self.seed = seed

    def get_config(self):
        seed = self._init_seed
        if isinstance(seed, kb_random.SeedGenerator):
            seed = {"module": "keras.random", "class_name": "SeedGenerator", "config": seed.get_config(),
                    "registered_name": None}  # fmt: skip
        return {"seed": seed}


class RandomNormal(RandomInitializer):
    """Normal draws.

    Args:
        mean: the mean.
        stddev: the standard deviation.
        seed: see `RandomInitializer`.
    """

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        self.mean = mean
        self.stddev = stddev
        super().__init__(seed=seed)

    def __call__(self, shape, dtype=None):
        return kb_random.normal(shape, mean=self.mean, stddev=self.stddev, dtype=dtype, seed=self.seed)

    def get_config(self):
        return {**super().get_config(), "mean": self.mean, "stddev": self.stddev}


class TruncatedNormal(RandomInitializer):
    """Normal draws, redrawn when more than two standard deviations from the mean.

    Args:
        mean: the mean.
        stddev: the standard deviation before truncation.
        seed: see `RandomInitializer`.
    """

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        self.mean = mean
        self.stddev = stddev
        super().__init__(seed=seed)

    def __call__(self, shape, dtype=None):
        return kb_random.truncated_normal(shape, mean=self.mean, stddev=self.stddev, dtype=dtype, seed=self.seed)

    def get_config(self):
        return {**super().get_config(), "mean": self.mean, "stddev": self.stddev}


class RandomUniform(RandomInitializer):
    """Uniform draws in `[minval, maxval)`.

    Args:
        minval: lower bound.
        maxval: upper bound (excluded).
        seed: see `RandomInitializer`.
    """

    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        self.minval = minval
        self.maxval = maxval
        super().__init__(seed=seed)

    def __call__(self, shape, dtype=None):
        return kb_random.uniform(shape, minval=self.minval, maxval=self.maxval, dtype=dtype, seed=self.seed)

    def get_config(self):
        return {**super().get_config(), "minval": self.minval, "maxval": self.maxval}


def compute_fans(shape, input_axes=None, output_axes=None):
    """Returns `(fan_in, fan_out)` for a weight of `shape` (conv kernels: `(*spatial, in, out)`)."""
    shape = tuple(shape)
    if input_axes is not None and output_axes is not None:
        return int(math.prod(shape[a] for a in input_axes)), int(math.prod(shape[a] for a in output_axes))
    if len(shape) < 1:
        return 1, 1
    if len(shape) == 1:
        return int(shape[0]), int(shape[0])
    if len(shape) == 2:
        return int(shape[0]), int(shape[1])
    receptive_field = math.prod(shape[:-2])
    return int(shape[-2] * receptive_field), int(shape[-1] * receptive_field)


_MODES = ("fan_in", "fan_out", "fan_avg")
_DISTRIBUTIONS = ("uniform", "truncated_normal", "untruncated_normal")


class VarianceScaling(RandomInitializer):
    """Draws scaled to the weight's fan-in/fan-out.

    Args:
        scale: positive scaling factor.
        mode: "fan_in", "fan_out" or "fan_avg".
        distribution: "truncated_normal" (alias "normal"), "untruncated_normal" or "uniform".
        seed: see `RandomInitializer`.
        input_axes, output_axes: optional axes that make up the fans.
    """

    def __init__(
        self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None, input_axes=None, output_axes=None
    ):
        if scale <= 0.0:
            raise ValueError(f"Argument `scale` must be positive float. Received: scale={scale}")
        if mode not in _MODES:
            raise ValueError(f"Invalid `mode` argument: {mode}. Please use one of {set(_MODES)}")
        distribution = distribution.lower()
        if distribution == "normal":
            distribution = "truncated_normal"
        if distribution not in _DISTRIBUTIONS:
            raise ValueError(
                f"Invalid `distribution` argument: {distribution}.Please use one of {set(_DISTRIBUTIONS)}"
            )
        self.scale = scale
        self.mode = mode
        self.distribution = distribution
        self.input_axes = input_axes
        self.output_axes = output_axes
        super().__init__(seed=seed)

    def __call__(self, shape, dtype=None):
        fan_in, fan_out = compute_fans(shape, self.input_axes, self.output_axes)
        fan = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}[self.mode]
        scale = self.scale / max(1.0, fan)
        if self.distribution == "truncated_normal":
            # The stddev of a unit normal truncated to [-2, 2].
            stddev = math.sqrt(scale) / 0.87962566103423978
            return kb_random.truncated_normal(shape, mean=0.0, stddev=stddev, dtype=dtype, seed=self.seed)
        if self.distribution == "untruncated_normal":
            return kb_random.normal(shape, mean=0.0, stddev=math.sqrt(scale), dtype=dtype, seed=self.seed)
        limit = math.sqrt(3.0 * scale)
        return kb_random.uniform(shape, minval=-limit, maxval=limit, dtype=dtype, seed=self.seed)

    def get_config(self):
        return {
            **super().get_config(),
            "scale": self.scale,
            "mode": self.mode,
            "distribution": self.distribution,
            "input_axes": self.input_axes,
            "output_axes": self.output_axes,
        }


class _PresetVarianceScaling(VarianceScaling):
    """VarianceScaling with fixed scale/mode/distribution; config holds only seed and axes."""

    _PRESET = (1.0, "fan_in", "truncated_normal")

    def __init__(self, seed=None, input_axes=None, output_axes=None):
        scale, mode, distribution = self._PRESET
        super().__init__(scale, mode, distribution, seed=seed, input_axes=input_axes, output_axes=output_axes)

    def get_config(self):
        return {
            "seed": RandomInitializer.get_config(self)["seed"],
            "input_axes": self.input_axes,
            "output_axes": self.output_axes,
        }


class GlorotUniform(_PresetVarianceScaling):
    """Uniform in `[-limit, limit]`, `limit = sqrt(6 / (fan_in + fan_out))` (Xavier uniform)."""

    _PRESET = (1.0, "fan_avg", "uniform")


class GlorotNormal(_PresetVarianceScaling):
    """Truncated normal, `stddev = sqrt(2 / (fan_in + fan_out))` (Xavier normal)."""

    _PRESET = (1.0, "fan_avg", "truncated_normal")


class LecunNormal(_PresetVarianceScaling):
    """Truncated normal, `stddev = sqrt(1 / fan_in)`."""

    _PRESET = (1.0, "fan_in", "truncated_normal")


class LecunUniform(_PresetVarianceScaling):
    """Uniform in `[-limit, limit]`, `limit = sqrt(3 / fan_in)`."""

    _PRESET = (1.0, "fan_in", "uniform")


class HeNormal(_PresetVarianceScaling):
    """Truncated normal, `stddev = sqrt(2 / fan_in)`."""

    _PRESET = (2.0, "fan_in", "truncated_normal")


class HeUniform(_PresetVarianceScaling):
    """Uniform in `[-limit, limit]`, `limit = sqrt(6 / fan_in)`."""

    _PRESET = (2.0, "fan_in", "uniform")


class Orthogonal(RandomInitializer):
    """A (semi-)orthogonal matrix from the QR decomposition of normal draws.

    Shapes of rank > 2 are treated as `(prod(shape[:-1]), shape[-1])` and reshaped.
    The QR step runs in NumPy (float64) so every backend gets the same matrix.

    Args:
        gain: multiplicative factor.
        seed: see `RandomInitializer`.
    """

    def __init__(self, gain=1.0, seed=None):
        self.gain = gain
        super().__init__(seed=seed)

    def __call__(self, shape, dtype=None):
        shape = tuple(shape)
        if len(shape) < 2:
            raise ValueError(
                f"The tensor to initialize must be at least two-dimensional. Received: shape={shape} of rank {len(shape)}."
            )
        dtype = standardize_dtype(dtype)
        num_rows = math.prod(shape[:-1])
        num_cols = shape[-1]
        flat_shape = (max(num_rows, num_cols), min(num_rows, num_cols))
        draws = ops.convert_to_numpy(kb_random.normal(flat_shape, dtype="float32", seed=self.seed))
        q, r = np.linalg.qr(draws.astype("float64"))
        q = q * np.sign(np.diag(r))
        if num_rows < num_cols:
            q = q.T
        return ops.convert_to_tensor((self.gain * q).reshape(shape), dtype=dtype)

    def get_config(self):
        return {**super().get_config(), "gain": self.gain}
