"""Normalization layers."""

from kbridge.layers.normalization.batch_normalization import BatchNormalization
from kbridge.layers.normalization.group_normalization import GroupNormalization
from kbridge.layers.normalization.layer_normalization import LayerNormalization
from kbridge.layers.normalization.spectral_normalization import SpectralNormalization
from kbridge.layers.normalization.unit_normalization import UnitNormalization

__all__ = [
    "BatchNormalization",
    "GroupNormalization",
    "LayerNormalization",
    "SpectralNormalization",
    "UnitNormalization",
]
