"""Random ops that give the same numbers on every backend.

Bits come from a counter-based hash (MurmurHash3's 32-bit finalizer applied to the
element index and the seed) computed with `kbridge.ops` integer arithmetic in int32,
which wraps identically in NumPy, JAX, PyTorch and TensorFlow. So a seed yields
bit-identical uniform draws everywhere, and a model's Dropout masks match across
backends. Native generators (jax.random, torch.Generator) would not.
"""

import math

from kbridge import ops
from kbridge.backend.dtypes import standardize_dtype
from kbridge.random.seed_generator import SeedGenerator, make_default_seed

_M1 = 0x85EBCA6B - 2**32
_M2 = 0xC2B2AE35 - 2**32
_GOLDEN = 0x9E3779B1 - 2**32
_KEY_SALT = 0x2545F491


def _shift_right_logical(h, bits):
    return ops.bitwise_and(ops.right_shift(h, bits), (1 << (32 - bits)) - 1)


def _fmix32(h):
    h = ops.bitwise_xor(h, _shift_right_logical(h, 16))
    h = ops.multiply(h, _M1)
    h = ops.bitwise_xor(h, _shift_right_logical(h, 13))
    h = ops.multiply(h, _M2)
    return ops.bitwise_xor(h, _shift_right_logical(h, 16))


def draw_seed(seed):
    """Turns `seed` (SeedGenerator, int, int32 tensor [2], or None) into an int32 [2] tensor."""
    if isinstance(seed, SeedGenerator):
        return seed.next()
    if seed is None:
        seed = make_default_seed()
    if isinstance(seed, int) and not isinstance(seed, bool):
        return ops.convert_to_tensor([seed & 0x7FFFFFFF, 0], dtype="int32")
    if hasattr(seed, "shape"):
        return ops.cast(seed, "int32")
    raise TypeError(f"`seed` must be a SeedGenerator, an int or None, received {type(seed).__name__}: {seed!r}")


def _num_elements(shape):
    total = 1
    for dim in shape:
        total = total * dim
    return total


def random_bits(shape, seed):
    """int32 tensor of `shape` with 32 random bits per element (deterministic in `seed`)."""
    seed = draw_seed(seed)
    key = _fmix32(ops.add(ops.multiply(_fmix32(ops.bitwise_xor(seed[0], _KEY_SALT)), _GOLDEN), seed[1]))
    index = ops.arange(_num_elements(shape), dtype="int32")
    bits = _fmix32(ops.add(ops.multiply(index, _GOLDEN), key))
    return ops.reshape(bits, tuple(shape))


def _unit_uniform(shape, seed):
    # 24 random bits -> float32 in [0, 1), exactly representable, identical everywhere.
    bits = _shift_right_logical(random_bits(shape, seed), 8)
    return ops.multiply(ops.cast(bits, "float32"), 2.0**-24)


def uniform(shape, minval=0.0, maxval=1.0, dtype=None, seed=None):
    """Uniform floats in [minval, maxval)."""
    dtype = standardize_dtype(dtype)
    unit = ops.cast(_unit_uniform(shape, seed), dtype)
    return ops.add(ops.multiply(unit, maxval - minval), minval)


def normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """Normal floats (Box-Muller on two uniform streams)."""
    dtype = standardize_dtype(dtype)
    shape = tuple(shape)
    both = _unit_uniform((2,) + shape, seed)
    radius = ops.sqrt(ops.multiply(-2.0, ops.log(ops.subtract(1.0, both[0]))))
    angle = ops.multiply(both[1], 2.0 * math.pi)
    unit = ops.cast(ops.multiply(radius, ops.cos(angle)), dtype)
    return ops.add(ops.multiply(unit, stddev), mean)


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """Normal floats redrawn (4 rounds, then clipped) until within 2 standard deviations."""
    dtype = standardize_dtype(dtype)
    seed = draw_seed(seed)
    shape = tuple(shape)
    draws = normal((5,) + shape, dtype="float32", seed=seed)
    values = draws[0]
    for round_index in range(1, 5):
        values = ops.where(ops.greater(ops.abs(values), 2.0), draws[round_index], values)
    values = ops.cast(ops.clip(values, -2.0, 2.0), dtype)
    return ops.add(ops.multiply(values, stddev), mean)


def randint(shape, minval, maxval, dtype="int32", seed=None):
    """Integers in [minval, maxval)."""
    unit = _unit_uniform(shape, seed)
    values = ops.floor(ops.add(ops.multiply(unit, float(maxval - minval)), float(minval)))
    return ops.cast(ops.minimum(values, float(maxval - 1)), dtype)


def dropout(inputs, rate, noise_shape=None, seed=None):
    """Zeroes entries with probability `rate` and scales the rest by `1 / (1 - rate)`."""
    shape = ops.shape(inputs) if noise_shape is None else noise_shape
    keep = ops.greater_equal(_unit_uniform(shape, seed), rate)
    return ops.where(keep, ops.divide(inputs, 1.0 - rate), ops.zeros_like(inputs))


def shuffle(x, axis=0, seed=None):
    """Shuffles `x` along `axis`."""
    keys = _unit_uniform((ops.shape(x)[axis],), seed)
    return ops.take(x, ops.argsort(keys), axis=axis)


def categorical(logits, num_samples, dtype="int32", seed=None):
    """Samples class indices from unnormalized log-probabilities (Gumbel-max)."""
    batch, classes = ops.shape(logits)
    unit = _unit_uniform((num_samples, batch, classes), seed)
    gumbel = ops.negative(ops.log(ops.negative(ops.log(ops.add(unit, 1e-20)))))
    samples = ops.argmax(ops.add(ops.cast(logits, "float32"), gumbel), axis=-1)
    return ops.cast(ops.transpose(samples), dtype)
