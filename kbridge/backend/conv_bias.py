"""The shape rule of `ops.conv(..., bias=...)`, shared by every backend."""


def broadcast_shape(bias_shape, out_channels, out_ndim, data_format):
    """Checks a convolution bias and returns the shape that broadcasts it over the output.

    Args:
        bias_shape: the bias's shape; must be `(out_channels,)`.
        out_channels: the convolution's output channels (`kernel.shape[-1]`).
        out_ndim: the output's rank (batch, spatial dims, channels).
        data_format: "channels_last" or "channels_first" (already resolved).
    """
    bias_shape = tuple(bias_shape)
    if len(bias_shape) != 1 or (bias_shape[0] is not None and out_channels is not None and bias_shape[0] != out_channels):
        raise ValueError(
            f"conv: bias must have shape ({out_channels},) (one value per output channel), "
            f"received shape {bias_shape}"
        )
    if data_format == "channels_first":
        return (-1,) + (1,) * (out_ndim - 2)
    return (-1,)
