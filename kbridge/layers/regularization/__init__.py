"""Regularization layers."""

from kbridge.layers.regularization.activity_regularization import ActivityRegularization
from kbridge.layers.regularization.alpha_dropout import AlphaDropout
from kbridge.layers.regularization.dropout import Dropout
from kbridge.layers.regularization.gaussian_noise import GaussianDropout, GaussianNoise
from kbridge.layers.regularization.spatial_dropout import SpatialDropout1D, SpatialDropout2D, SpatialDropout3D

__all__ = ["ActivityRegularization", "AlphaDropout", "Dropout", "GaussianDropout", "GaussianNoise", "SpatialDropout1D",
           "SpatialDropout2D", "SpatialDropout3D"]  # fmt: skip
