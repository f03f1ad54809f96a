"""Core layers."""

from kbridge.layers.core.activation import Activation
from kbridge.layers.core.dense import Dense
from kbridge.layers.core.einsum_dense import EinsumDense
from kbridge.layers.core.embedding import Embedding
from kbridge.layers.core.identity import Identity
from kbridge.layers.core.lambda_layer import Lambda
from kbridge.layers.core.wrapper import Wrapper

__all__ = ["Activation", "Dense", "EinsumDense", "Embedding", "Identity", "Lambda", "Wrapper"]
