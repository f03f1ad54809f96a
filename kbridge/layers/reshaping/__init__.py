"""Reshaping layers."""

from kbridge.layers.reshaping.flatten import Flatten
from kbridge.layers.reshaping.permute import Permute
from kbridge.layers.reshaping.repeat_vector import RepeatVector
from kbridge.layers.reshaping.reshape import Reshape

__all__ = ["Flatten", "Permute", "RepeatVector", "Reshape"]
