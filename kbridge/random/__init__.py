"""`kbridge.random`: seeded random ops, identical on every backend (Keras 3 `keras.random`)."""

from kbridge.random.random import (
    categorical,
    dropout,
    normal,
    randint,
    random_bits,
    shuffle,
    truncated_normal,
    uniform,
)
from kbridge.random.seed_generator import SeedGenerator

__all__ = [
    "SeedGenerator",
    "categorical",
    "dropout",
    "normal",
    "randint",
    "random_bits",
    "shuffle",
    "truncated_normal",
    "uniform",
]
