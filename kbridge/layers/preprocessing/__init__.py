"""Preprocessing layers."""

from kbridge.layers.preprocessing.center_crop import CenterCrop
from kbridge.layers.preprocessing.random_contrast import RandomContrast
from kbridge.layers.preprocessing.random_flip import RandomFlip
from kbridge.layers.preprocessing.random_rotation import RandomRotation
from kbridge.layers.preprocessing.random_translation import RandomTranslation
from kbridge.layers.preprocessing.random_zoom import RandomZoom
from kbridge.layers.preprocessing.rescaling import Rescaling
from kbridge.layers.preprocessing.resizing import Resizing
from kbridge.layers.preprocessing.category_encoding import CategoryEncoding
from kbridge.layers.preprocessing.discretization import Discretization
from kbridge.layers.preprocessing.hashing import Hashing
from kbridge.layers.preprocessing.integer_lookup import IntegerLookup
from kbridge.layers.preprocessing.normalization import Normalization
from kbridge.layers.preprocessing.string_lookup import StringLookup
from kbridge.layers.preprocessing.text_vectorization import TextVectorization

__all__ = [
    "CenterCrop",
    "RandomContrast",
    "RandomFlip",
    "RandomRotation",
    "RandomTranslation",
    "RandomZoom",
    "Rescaling",
    "Resizing",
    "CategoryEncoding",
    "Discretization",
    "Hashing",
    "IntegerLookup",
    "Normalization",
    "StringLookup",
    "TextVectorization",
]
