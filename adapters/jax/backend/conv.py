"""JAX backend: convolutions and pooling (`kbridge.ops.nn`), on lax.conv_general_dilated / reduce_window.

Layouts follow Keras 3: conv kernel `(*spatial, in // groups, out)`, depthwise kernel
`(*spatial, in, multiplier)`, transposed kernel `(*spatial, out, in)`. "same" padding
puts the odd pixel at the end, as TensorFlow and lax do.
"""

import math

import jax.numpy as jnp
import numpy as np
from jax import lax

from kbridge import config
from kbridge.backend import conv_bias
from kbridge.backend.dtypes import result_type

from .core import _INEXACT, _floatx, _jdt, _t


def _data_format(data_format, op):
    data_format = config.image_data_format() if data_format is None else data_format
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(f"{op}: `data_format` must be 'channels_last' or 'channels_first', received {data_format!r}")
    return data_format


def _padding(padding, op):
    name = padding.lower() if isinstance(padding, str) else padding
    if name not in ("valid", "same"):
        raise ValueError(f"{op}: `padding` must be 'valid' or 'same', received {padding!r}")
    return name.upper()


def _ntuple(value, n, name, op):
    if isinstance(value, int):
        return (value,) * n
    value = tuple(int(v) for v in value)
    if len(value) != n:
        raise ValueError(f"{op}: `{name}` must be an int or a tuple of {n} ints, received {value!r}")
    return value


def _spatial_rank(x, op):
    n = x.ndim - 2
    if n not in (1, 2, 3):
        raise ValueError(f"{op}: expected a 3D, 4D or 5D input (batch, *spatial, channels), received shape {x.shape}")
    return n


def _dimension_numbers(n, data_format, kernel_spec):
    spatial = "DHW"[3 - n :]
    lhs = "N" + spatial + "C" if data_format == "channels_last" else "NC" + spatial
    return (lhs, spatial + kernel_spec, lhs)


def _operands(inputs, kernel):
    inputs, kernel = _t(inputs), _t(kernel)
    if inputs.dtype != kernel.dtype:
        dtype = _jdt(result_type(inputs.dtype, kernel.dtype))
        inputs, kernel = inputs.astype(dtype), kernel.astype(dtype)
    return inputs, kernel


def _channels(x, data_format):
    return x.shape[-1] if data_format == "channels_last" else x.shape[1]


def _spatial_shape(x, data_format):
    return x.shape[1:-1] if data_format == "channels_last" else x.shape[2:]


def _conv(inputs, kernel, strides, padding, data_format, dilation_rate, op):
    inputs, kernel = _operands(inputs, kernel)
    n = _spatial_rank(inputs, op)
    data_format = _data_format(data_format, op)
    if kernel.ndim != n + 2:
        raise ValueError(f"{op}: kernel must have rank {n + 2} for input shape {inputs.shape}, received {kernel.shape}")
    channels, per_group, out_channels = _channels(inputs, data_format), kernel.shape[-2], kernel.shape[-1]
    if per_group == 0 or channels % per_group or out_channels % (channels // per_group):
        raise ValueError(
            f"{op}: input channels ({channels}) must be a multiple of the kernel's input channels ({per_group}), "
            f"and output channels ({out_channels}) a multiple of the groups. Received input shape "
            f"{inputs.shape} and kernel shape {kernel.shape}"
        )
    return lax.conv_general_dilated(
        inputs,
        kernel,
        window_strides=_ntuple(strides, n, "strides", op),
        padding=_padding(padding, op),
        rhs_dilation=_ntuple(dilation_rate, n, "dilation_rate", op),
        dimension_numbers=_dimension_numbers(n, data_format, "IO"),
        feature_group_count=channels // per_group,
    )


def conv(inputs, kernel, strides=1, padding="valid", data_format=None, dilation_rate=1, bias=None):
    """N-D convolution; `kernel` is (*spatial, in_channels // groups, out_channels); `bias` per output channel."""
    out = _conv(inputs, kernel, strides, padding, data_format, dilation_rate, "conv")
    if bias is None:
        return out
    from .numpy_ops import add  # Keras promotion rules, as `ops.add`

    bias, data_format = _t(bias), _data_format(data_format, "conv")
    return add(out, bias.reshape(conv_bias.broadcast_shape(bias.shape, _channels(out, data_format), out.ndim, data_format)))


def _depthwise_as_grouped(inputs, kernel, data_format, op):
    inputs, kernel = _operands(inputs, kernel)
    n = _spatial_rank(inputs, op)
    data_format = _data_format(data_format, op)
    if kernel.ndim != n + 2 or kernel.shape[-2] != _channels(inputs, data_format):
        raise ValueError(
            f"{op}: kernel must be (*spatial, in_channels, multiplier); received kernel shape {kernel.shape} "
            f"for input shape {inputs.shape}"
        )
    # Output channel c * multiplier + m, as TensorFlow orders them.
    return inputs, kernel.reshape(kernel.shape[:-2] + (1, kernel.shape[-2] * kernel.shape[-1])), data_format


def depthwise_conv(inputs, kernel, strides=1, padding="valid", data_format=None, dilation_rate=1):
    """N-D depthwise convolution; `kernel` is (*spatial, in_channels, multiplier)."""
    inputs, kernel, data_format = _depthwise_as_grouped(inputs, kernel, data_format, "depthwise_conv")
    return _conv(inputs, kernel, strides, padding, data_format, dilation_rate, "depthwise_conv")


def separable_conv(
    inputs, depthwise_kernel, pointwise_kernel, strides=1, padding="valid", data_format=None, dilation_rate=1
):
    """Depthwise convolution, then a 1x1 convolution with `pointwise_kernel` (*ones, in * multiplier, out)."""
    inputs, kernel, data_format = _depthwise_as_grouped(inputs, depthwise_kernel, data_format, "separable_conv")
    depthwise = _conv(inputs, kernel, strides, padding, data_format, dilation_rate, "separable_conv")
    return _conv(depthwise, pointwise_kernel, 1, "valid", data_format, 1, "separable_conv")


def _transpose_padding(size, kernel_size, stride, dilation, padding, output_padding):
    """(low, high) padding of the stride-dilated input that gives Keras/TF's transposed-conv output."""
    span = (kernel_size - 1) * dilation + 1
    if output_padding is None:
        length = size * stride if padding == "SAME" else size * stride + max(span - stride, 0)
    else:
        length = (size - 1) * stride + span + output_padding - (2 * (span // 2) if padding == "SAME" else 0)
    # Cropped at the start of the full output: the forward "same" conv's leading pad.
    before = max((size - 1) * stride + span - length, 0) // 2 if padding == "SAME" else 0
    return span - 1 - before, length - (size - 1) * stride - 1 + before


def conv_transpose(inputs, kernel, strides=1, padding="valid", output_padding=None, data_format=None, dilation_rate=1):
    """N-D transposed convolution; `kernel` is (*spatial, out_channels, in_channels)."""
    op = "conv_transpose"
    inputs, kernel = _operands(inputs, kernel)
    n = _spatial_rank(inputs, op)
    data_format = _data_format(data_format, op)
    if kernel.ndim != n + 2 or kernel.shape[-1] != _channels(inputs, data_format):
        raise ValueError(
            f"{op}: kernel must be (*spatial, out_channels, in_channels); received kernel shape {kernel.shape} "
            f"for input shape {inputs.shape}"
        )
    strides = _ntuple(strides, n, "strides", op)
    dilation = _ntuple(dilation_rate, n, "dilation_rate", op)
    pad_mode = _padding(padding, op)
    extra = (None,) * n if output_padding is None else _ntuple(output_padding, n, "output_padding", op)
    pads = [
        _transpose_padding(size, kernel.shape[i], strides[i], dilation[i], pad_mode, extra[i])
        for i, size in enumerate(_spatial_shape(inputs, data_format))
    ]
    flipped = jnp.flip(kernel, axis=tuple(range(n)))
    return lax.conv_general_dilated(
        inputs,
        flipped,
        window_strides=(1,) * n,
        padding=pads,
        lhs_dilation=strides,
        rhs_dilation=dilation,
        dimension_numbers=_dimension_numbers(n, data_format, "OI"),
    )


def _window(inputs, pool_size, strides, data_format, op):
    n = _spatial_rank(inputs, op)
    pool = _ntuple(pool_size, n, "pool_size", op)
    strides = pool if strides is None else _ntuple(strides, n, "strides", op)
    if _data_format(data_format, op) == "channels_last":
        return (1, *pool, 1), (1, *strides, 1)
    return (1, 1, *pool), (1, 1, *strides)


def max_pool(inputs, pool_size, strides=None, padding="valid", data_format=None):
    """N-D max pooling."""
    inputs = _t(inputs)
    window, strides = _window(inputs, pool_size, strides, data_format, "max_pool")
    # NumPy (concrete) init values: JAX recognizes the max monoid and can differentiate the
    # window reduction; a jnp init value makes `jax.grad` under `jax.jit` fail ("Linearization failed").
    if inputs.dtype in _INEXACT:
        init = np.array(-np.inf, inputs.dtype)
    else:
        init = np.array(jnp.iinfo(inputs.dtype).min, inputs.dtype)
    return lax.reduce_window(inputs, init, lax.max, window, strides, _padding(padding, "max_pool"))


def average_pool(inputs, pool_size, strides=None, padding="valid", data_format=None):
    """N-D average pooling; padded positions are excluded from each window's mean."""
    inputs = _t(inputs)
    if inputs.dtype not in _INEXACT:
        inputs = inputs.astype(_floatx())
    window, strides = _window(inputs, pool_size, strides, data_format, "average_pool")
    pad = _padding(padding, "average_pool")
    zero = np.array(0, inputs.dtype)  # concrete, so `jax.grad` works (see max_pool)
    sums = lax.reduce_window(inputs, zero, lax.add, window, strides, pad)
    if pad == "VALID":
        return sums / jnp.array(math.prod(window), inputs.dtype)
    # Count the real (unpadded) inputs of each window on a ones map of the spatial shape.
    ones_shape = tuple(inputs.shape[i] if window[i] > 1 or strides[i] > 1 else 1 for i in range(inputs.ndim))
    counts = lax.reduce_window(jnp.ones(ones_shape, inputs.dtype), zero, lax.add, window, strides, pad)
    return sums / counts
