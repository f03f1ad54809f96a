"""`kbridge.layers`: Keras 3's layers, written once with `kbridge.ops`."""

from kbridge.layers.core import Activation, Dense, EinsumDense, Embedding, Identity, Lambda
from kbridge.layers.input_layer import Input, InputLayer
from kbridge.layers.input_spec import InputSpec
from kbridge.layers.layer import Layer
from kbridge.layers.merging import (
    Add,
    Average,
    Concatenate,
    Dot,
    Maximum,
    Merge,
    Minimum,
    Multiply,
    Subtract,
    add,
    average,
    concatenate,
    dot,
    maximum,
    minimum,
    multiply,
    subtract,
)
from kbridge.layers.normalization import BatchNormalization, LayerNormalization
from kbridge.layers.preprocessing import Rescaling
from kbridge.layers.regularization import Dropout
from kbridge.layers.reshaping import Flatten, Permute, RepeatVector, Reshape

__all__ = [
    "Activation", "Add", "Average", "BatchNormalization", "Concatenate", "Dense", "Dot", "Dropout",
    "EinsumDense", "Embedding", "Flatten", "Identity", "Input", "InputLayer", "InputSpec", "Lambda",
    "Layer", "LayerNormalization", "Maximum", "Merge", "Minimum", "Multiply", "Permute", "RepeatVector",
    "Rescaling", "Reshape", "Subtract", "add", "average", "concatenate", "dot", "maximum", "minimum",
    "multiply", "subtract",
]  # fmt: skip
