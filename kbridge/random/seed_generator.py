"""`SeedGenerator`: random-number state held in a variable, so random layers stay pure."""

import random as _py_random

from kbridge.tracking import Trackable
from kbridge.variables import Variable

_INT32_MAX = 2**31 - 1
_global = _py_random.Random()


def set_global_seed(seed):
    """Seeds the generator that picks seeds for `seed=None` (see `kbridge.utils.set_random_seed`)."""
    _global.seed(seed)


def make_default_seed():
    """Returns a fresh int seed from the global Python generator."""
    return _global.randint(0, _INT32_MAX)


class SeedGenerator(Trackable):
    """Random state: an int32 variable `[seed, counter]`; each `next()` returns it and bumps the counter.

    The variable is non-trainable model state (path `<attr>.state`), so a
    `stateless_call` takes it in and returns the advanced value: the same state gives
    the same random numbers on every backend.

    Args:
        seed: int seed; None draws one from the global generator.
        name: accepted for Keras compatibility.
    """

    _HOLDS_WEIGHTS = False

    def __init__(self, seed=None, name=None, **kwargs):
        if seed is None:
            seed = make_default_seed()
        if not isinstance(seed, int) or isinstance(seed, bool):
            raise TypeError(f"SeedGenerator: `seed` must be an int or None, received {type(seed).__name__}: {seed!r}")
        self.name = name or "seed_generator"
        self._initial_seed = seed
        self.state = Variable([seed & _INT32_MAX, 0], dtype="int32", trainable=False, name="state")

    def next(self, ordered=True):
        """Returns the current `[seed, counter]` tensor and advances the counter."""
        from kbridge import ops

        # A copy: torch and tf assign in place, which would advance the returned seed too.
        value = ops.copy(self.state.value)
        self.state.assign(ops.add(value, ops.convert_to_tensor([0, 1], dtype="int32")))
        return value

    def get_config(self):
        """Returns {"seed": ...}."""
        return {"seed": self._initial_seed}

    @classmethod
    def from_config(cls, config):
        """Creates a generator from `get_config()` output."""
        return cls(**config)
