"""`kbridge.utils`: seeding and structure helpers."""

import random as _py_random

import numpy as _np

from kbridge.random.seed_generator import set_global_seed as _set_global_seed
from kbridge.trainers.data_adapters import pack_x_y_sample_weight, unpack_x_y_sample_weight
from kbridge.trainers.data_adapters.py_dataset import PyDataset


def set_random_seed(seed):
    """Seeds Python's `random`, NumPy, and kbridge's generator of default seeds.

    Layers created afterwards with `seed=None` (Dropout, initializers) then draw the
    same numbers on every run and every backend. Framework generators (torch, tf)
    are not touched: kbridge does not use them.
    """
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise TypeError(f"set_random_seed: `seed` must be an int, received {type(seed).__name__}: {seed!r}")
    _py_random.seed(seed)
    _np.random.seed(seed)
    _set_global_seed(seed)


__all__ = ["PyDataset", "pack_x_y_sample_weight", "set_random_seed", "unpack_x_y_sample_weight"]
