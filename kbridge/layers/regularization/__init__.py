"""Regularization layers."""

from kbridge.layers.regularization.dropout import Dropout

__all__ = ["Dropout"]
