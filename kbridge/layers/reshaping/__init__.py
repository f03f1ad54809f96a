"""Reshaping layers."""

from kbridge.layers.reshaping.cropping import Cropping1D, Cropping2D, Cropping3D
from kbridge.layers.reshaping.flatten import Flatten
from kbridge.layers.reshaping.permute import Permute
from kbridge.layers.reshaping.repeat_vector import RepeatVector
from kbridge.layers.reshaping.reshape import Reshape
from kbridge.layers.reshaping.up_sampling import UpSampling1D, UpSampling2D, UpSampling3D
from kbridge.layers.reshaping.zero_padding import ZeroPadding1D, ZeroPadding2D, ZeroPadding3D

__all__ = [
    "Cropping1D", "Cropping2D", "Cropping3D", "Flatten", "Permute", "RepeatVector", "Reshape", "UpSampling1D",
    "UpSampling2D", "UpSampling3D", "ZeroPadding1D", "ZeroPadding2D", "ZeroPadding3D",
]  # fmt: skip
