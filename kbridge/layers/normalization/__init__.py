"""Normalization layers."""

from kbridge.layers.normalization.batch_normalization import BatchNormalization
from kbridge.layers.normalization.layer_normalization import LayerNormalization

__all__ = ["BatchNormalization", "LayerNormalization"]
