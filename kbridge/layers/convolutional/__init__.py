"""Convolution layers (1-D to 3-D, transposed, depthwise, separable)."""

from kbridge.layers.convolutional.base_conv import BaseConv
from kbridge.layers.convolutional.conv import Conv1D, Conv2D, Conv3D, Convolution1D, Convolution2D, Convolution3D
from kbridge.layers.convolutional.conv_transpose import (
    Conv1DTranspose,
    Conv2DTranspose,
    Conv3DTranspose,
    Convolution1DTranspose,
    Convolution2DTranspose,
    Convolution3DTranspose,
)
from kbridge.layers.convolutional.depthwise_conv import DepthwiseConv1D, DepthwiseConv2D
from kbridge.layers.convolutional.separable_conv import (
    SeparableConv1D,
    SeparableConv2D,
    SeparableConvolution1D,
    SeparableConvolution2D,
)

__all__ = [
    "BaseConv", "Conv1D", "Conv1DTranspose", "Conv2D", "Conv2DTranspose", "Conv3D", "Conv3DTranspose",
    "Convolution1D", "Convolution1DTranspose", "Convolution2D", "Convolution2DTranspose", "Convolution3D",
    "Convolution3DTranspose", "DepthwiseConv1D", "DepthwiseConv2D", "SeparableConv1D", "SeparableConv2D",
    "SeparableConvolution1D", "SeparableConvolution2D",
]  # fmt: skip
