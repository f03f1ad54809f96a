"""Preprocessing layers."""

from kbridge.layers.preprocessing.rescaling import Rescaling

__all__ = ["Rescaling"]
