"""Preprocessing layers."""

from kbridge.layers.preprocessing.center_crop import CenterCrop
from kbridge.layers.preprocessing.random_contrast import RandomContrast
from kbridge.layers.preprocessing.random_flip import RandomFlip
from kbridge.layers.preprocessing.random_rotation import RandomRotation
from kbridge.layers.preprocessing.random_translation import RandomTranslation
from kbridge.layers.preprocessing.random_zoom import RandomZoom
from kbridge.layers.preprocessing.rescaling import Rescaling
from kbridge.layers.preprocessing.resizing import Resizing

__all__ = [
    "CenterCrop",
    "RandomContrast",
    "RandomFlip",
    "RandomRotation",
    "RandomTranslation",
    "RandomZoom",
    "Rescaling",
    "Resizing",
]
