"""`kbridge.random`: the same numbers on every backend, checked against a NumPy re-implementation.

The reference hashes with uint32 arithmetic (MurmurHash3's finalizer), independently of the
int32 two's-complement trick kbridge uses, so it checks the backends' integer ops too.
Uniform draws, bits and dropout masks must be bit-identical; normals within 1e-6.
"""

import math

import numpy as np
import pytest

from kbridge import ops, random
from kbridge.backend import use

U32 = np.uint32
M1, M2, GOLDEN, SALT = U32(0x85EBCA6B), U32(0xC2B2AE35), U32(0x9E3779B1), U32(0x2545F491)


def _fmix32(h):
    h = h ^ (h >> U32(16))
    h = h * M1
    h = h ^ (h >> U32(13))
    h = h * M2
    return h ^ (h >> U32(16))


def ref_bits(shape, seed):
    """int32 bits for `seed` = an int or a [seed, counter] pair."""
    if isinstance(seed, int):
        seed = (seed & 0x7FFFFFFF, 0)
    s0, s1 = (np.array(v, np.int64).astype(U32) for v in seed)
    with np.errstate(over="ignore"):
        key = _fmix32(_fmix32(s0 ^ SALT) * GOLDEN + s1)
        index = np.arange(math.prod(shape), dtype=U32)
        return _fmix32(index * GOLDEN + key).view(np.int32).reshape(shape)


def ref_unit(shape, seed):
    """float32 in [0, 1): the top 24 bits times 2**-24."""
    return (ref_bits(shape, seed).view(U32) >> U32(8)).astype(np.float32) * np.float32(2.0**-24)


def ref_uniform(shape, seed, minval=0.0, maxval=1.0):
    return ref_unit(shape, seed) * np.float32(maxval - minval) + np.float32(minval)


def ref_normal(shape, seed, mean=0.0, stddev=1.0):
    """Box-Muller on two uniform streams; the angle is a float32 product, as on the backends."""
    u = ref_unit((2,) + tuple(shape), seed)
    radius = np.sqrt(-2.0 * np.log((np.float32(1.0) - u[0]).astype(np.float64)))
    angle = (u[1] * np.float32(2.0 * math.pi)).astype(np.float64)
    return radius * np.cos(angle) * stddev + mean


SHAPE = (4, 5)  # one shape for most draws: JAX compiles each eager op once per shape
SEEDS = [0, 42, 2**31 - 1, 2**40 + 5]  # the last is masked to 31 bits


def _draw(bk, fn, *args, **kwargs):
    with use(bk.name):
        out = fn(*args, **kwargs)
        bk.assert_native(out, fn.__name__)
        return ops.dtype(out), ops.convert_to_numpy(out)


@pytest.mark.parametrize("seed", SEEDS)
def test_random_bits_identical(bk, seed):
    dtype, bits = _draw(bk, random.random_bits, SHAPE, seed)
    assert dtype == "int32"
    np.testing.assert_array_equal(bits, ref_bits(SHAPE, seed))


@pytest.mark.parametrize("seed", SEEDS)
def test_uniform_identical(bk, seed):
    dtype, values = _draw(bk, random.uniform, SHAPE, seed=seed)
    assert dtype == "float32"
    np.testing.assert_array_equal(values, ref_uniform(SHAPE, seed))
    _, scaled = _draw(bk, random.uniform, SHAPE, minval=-2.0, maxval=3.0, seed=seed)
    np.testing.assert_array_equal(scaled, ref_uniform(SHAPE, seed, -2.0, 3.0))
    assert scaled.min() >= -2.0 and scaled.max() < 3.0


@pytest.mark.parametrize("seed", SEEDS[:2])
def test_normal_close(bk, seed):
    dtype, values = _draw(bk, random.normal, SHAPE, seed=seed)
    assert dtype == "float32"
    np.testing.assert_allclose(values, ref_normal(SHAPE, seed), rtol=1e-6, atol=1e-6)
    _, shifted = _draw(bk, random.normal, SHAPE, mean=3.0, stddev=0.5, seed=seed)
    np.testing.assert_allclose(shifted, ref_normal(SHAPE, seed, 3.0, 0.5), rtol=1e-6, atol=1e-6)


def test_dropout_mask_identical(bk):
    x = np.linspace(1.0, 2.0, 20, dtype=np.float32).reshape(SHAPE)
    rate = 0.3
    with use(bk.name):
        out = ops.convert_to_numpy(random.dropout(ops.convert_to_tensor(x), rate, seed=11))
    keep = ref_unit(x.shape, 11) >= np.float32(rate)
    np.testing.assert_array_equal(out != 0, keep)
    np.testing.assert_allclose(out, np.where(keep, x / np.float32(1 - rate), 0), rtol=1e-6)


def test_dropout_noise_shape(bk):
    """A noise_shape of (4, 1) drops whole rows."""
    x = np.ones(SHAPE, np.float32)
    with use(bk.name):
        out = ops.convert_to_numpy(random.dropout(ops.convert_to_tensor(x), 0.5, noise_shape=(4, 1), seed=3))
    keep = ref_unit((4, 1), 3) >= np.float32(0.5)
    np.testing.assert_allclose(out, np.where(keep, 2.0, 0.0) * x, rtol=1e-6)


def test_seed_generator_advances_and_matches(bk):
    with use(bk.name):
        gen = random.SeedGenerator(1234)
        first = ops.convert_to_numpy(random.uniform(SHAPE, seed=gen))
        second = ops.convert_to_numpy(random.uniform(SHAPE, seed=gen))
        third_bits = ops.convert_to_numpy(random.random_bits(SHAPE, seed=gen))
        state = ops.convert_to_numpy(gen.state.value)
    np.testing.assert_array_equal(first, ref_uniform(SHAPE, (1234, 0)))
    np.testing.assert_array_equal(second, ref_uniform(SHAPE, (1234, 1)))
    np.testing.assert_array_equal(third_bits, ref_bits(SHAPE, (1234, 2)))
    assert not np.array_equal(first, second)
    np.testing.assert_array_equal(state, [1234, 3])


def test_seed_generator_dropout_and_normal(bk):
    with use(bk.name):
        gen = random.SeedGenerator(99)
        normal = ops.convert_to_numpy(random.normal(SHAPE, seed=gen))
        dropped = ops.convert_to_numpy(random.dropout(ops.ones(SHAPE), 0.5, seed=gen))
    np.testing.assert_allclose(normal, ref_normal(SHAPE, (99, 0)), rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(dropped != 0, ref_unit(SHAPE, (99, 1)) >= np.float32(0.5))


def test_statistics(bk):
    with use(bk.name):
        normal = ops.convert_to_numpy(random.normal((10000,), seed=5))
        scaled = ops.convert_to_numpy(random.normal((10000,), mean=3.0, stddev=2.0, seed=6))
        uniform = ops.convert_to_numpy(random.uniform((10000,), seed=7))
        dropped = ops.convert_to_numpy(random.dropout(ops.ones((10000,)), 0.25, seed=8))
    assert abs(normal.mean()) < 0.05 and abs(normal.std() - 1.0) < 0.05
    assert abs(scaled.mean() - 3.0) < 0.1 and abs(scaled.std() - 2.0) < 0.1
    assert 0.0 <= uniform.min() and uniform.max() < 1.0
    assert abs(uniform.mean() - 0.5) < 0.02 and abs(uniform.std() - math.sqrt(1 / 12)) < 0.01
    assert abs((dropped == 0).mean() - 0.25) < 0.03
    np.testing.assert_allclose(dropped[dropped != 0], 1.0 / 0.75, rtol=1e-6)


def test_randint_shuffle_truncated_normal_identical(bk):
    """The other random ops are built on the same stream, so they agree with the reference too."""
    with use(bk.name):
        ints = ops.convert_to_numpy(random.randint(SHAPE, -3, 5, seed=21))
        shuffled = ops.convert_to_numpy(random.shuffle(ops.arange(20), seed=22))
        truncated = ops.convert_to_numpy(random.truncated_normal(SHAPE, seed=23))
    unit = ref_unit(SHAPE, 21)
    np.testing.assert_array_equal(ints, np.minimum(np.floor(unit * np.float32(8.0) + np.float32(-3.0)), 4.0))
    np.testing.assert_array_equal(shuffled, np.argsort(ref_unit((20,), 22), kind="stable"))
    draws = ref_normal((5,) + SHAPE, (23, 0))
    values = draws[0]
    for round_index in range(1, 5):
        values = np.where(np.abs(values) > 2.0, draws[round_index], values)
    np.testing.assert_allclose(truncated, np.clip(values, -2.0, 2.0), rtol=1e-6, atol=1e-6)
    assert np.abs(truncated).max() <= 2.0


def test_first_use_of_a_backend_leaves_numpys_global_rng_alone():
    """Importing jax draws from NumPy's global RNG; kbridge imports backends lazily, so a seed set
    before the first use must survive it (fit's shuffles are then the same on every backend)."""
    import subprocess
    import sys

    script = (
        "import numpy as np, kbridge\n"
        "kbridge.utils.set_random_seed(0)\n"
        "expected = np.random.RandomState(0).rand(3)\n"
        "for name in ('jax', 'torch', 'tensorflow'):\n"
        "    kbridge.backend.registry.get(name)\n"
        "assert 'jax' in __import__('sys').modules\n"
        "np.testing.assert_array_equal(np.random.rand(3), expected)\n"
        "print('ok')\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0 and result.stdout.strip().endswith("ok"), result.stderr[-2000:]
