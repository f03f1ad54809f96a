"""NumPy backend: convolutions and pooling (1-D, 2-D and 3-D), vectorized.

Every op works channels_last inside: a sliding-window view of the padded input
(`sliding_window_view`, subsampled for strides and dilation) is contracted with the
kernel by `tensordot` / `einsum` (im2col), or reduced for pooling. "same" padding
puts the odd pixel at the end, as TensorFlow does.
"""

import math

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from kbridge import config
from kbridge.backend import conv_bias

from .core import float_dtype, promote, tensor

_FORMATS = ("channels_last", "channels_first")


def _data_format(data_format, name):
    data_format = config.image_data_format() if data_format is None else data_format
    if data_format not in _FORMATS:
        raise ValueError(f"{name}: data_format must be one of {_FORMATS}, received {data_format!r}")
    return data_format


def _padding(padding, name):
    mode = padding.lower() if isinstance(padding, str) else padding
    if mode not in ("valid", "same"):
        raise ValueError(f"{name}: padding must be 'valid' or 'same', received {padding!r}")
    return mode


def _tuple(value, rank, name, argument):
    if isinstance(value, (int, np.integer)):
        return (int(value),) * rank
    value = tuple(int(v) for v in value)
    if len(value) == 1 and rank > 1:
        value = value * rank
    if len(value) != rank:
        raise ValueError(f"{name}: {argument} must be an int or {rank} ints, received {value}")
    if any(v < 1 for v in value):
        raise ValueError(f"{name}: {argument} must be positive, received {value}")
    return value


def _channels_last(x, data_format):
    return np.moveaxis(x, 1, -1) if data_format == "channels_first" else x


def _restore_format(y, data_format):
    return np.moveaxis(y, -1, 1) if data_format == "channels_first" else y


def _check_rank(x, rank, name, what="inputs"):
    if x.ndim != rank + 2:
        raise ValueError(
            f"{name}: {what} must be {rank + 2}-D (batch, {rank} spatial dims, channels) to match the kernel, "
            f"received shape {x.shape}"
        )


def same_padding(size, window, stride):
    """(before, after) padding giving `ceil(size / stride)` outputs; the odd pixel goes after."""
    out = -(-size // stride)
    total = max((out - 1) * stride + window - size, 0)
    return total // 2, total - total // 2


def _pad_spatial(x, pads, value):
    if not any(before or after for before, after in pads):
        return x
    return np.pad(x, [(0, 0), *pads, (0, 0)], mode="constant", constant_values=value)


def _windows(x, window, strides, dilation, name):
    """View of shape (batch, *out, channels, *window) over channels_last `x` (already padded)."""
    rank = len(window)
    spans = tuple((k - 1) * d + 1 for k, d in zip(window, dilation))
    spatial = x.shape[1 : rank + 1]
    if any(span > size for span, size in zip(spans, spatial)):
        raise ValueError(
            f"{name}: the window (size {tuple(window)}, dilation {tuple(dilation)}) does not fit the "
            f"(padded) input of spatial shape {tuple(spatial)}"
        )
    view = sliding_window_view(x, spans, axis=tuple(range(1, rank + 1)))
    index = (
        (slice(None),)
        + tuple(slice(None, None, s) for s in strides)
        + (slice(None),)
        + tuple(slice(None, None, d) for d in dilation)
    )
    return view[index]


def _padded(x, window, strides, dilation, padding, value):
    if padding == "valid":
        return x
    pads = [
        same_padding(size, (k - 1) * d + 1, s)
        for size, k, s, d in zip(x.shape[1:-1], window, strides, dilation)
    ]
    return _pad_spatial(x, pads, value)


def _conv_channels_last(x, kernel, strides, padding, dilation, name):
    """Grouped N-D convolution of channels_last `x` with a (*window, in/groups, out) kernel."""
    rank = kernel.ndim - 2
    window = kernel.shape[:rank]
    channels, per_group, filters = x.shape[-1], kernel.shape[-2], kernel.shape[-1]
    if per_group == 0 or channels % per_group:
        raise ValueError(
            f"{name}: the input has {channels} channels, which is not a multiple of the kernel's "
            f"{per_group} input channels (kernel shape {kernel.shape})"
        )
    groups = channels // per_group
    if filters % groups:
        raise ValueError(f"{name}: {filters} output channels cannot be split into {groups} groups")
    x = _padded(x, window, strides, dilation, padding, 0)
    windows = _windows(x, window, strides, dilation, name)
    # windows axes: 0 batch, 1..rank out, rank+1 channel, rank+2.. window.
    window_axes = list(range(rank + 2, 2 * rank + 2))
    contract = ([rank + 1, *window_axes], [rank, *range(rank)])
    if groups == 1:
        return np.tensordot(windows, kernel, axes=contract)
    per_out = filters // groups
    parts = [
        np.tensordot(
            windows[(Ellipsis, slice(g * per_group, (g + 1) * per_group)) + (slice(None),) * rank],
            kernel[..., g * per_out : (g + 1) * per_out],
            axes=contract,
        )
        for g in range(groups)
    ]
    return np.concatenate(parts, axis=-1)


def _conv_args(inputs, kernel, strides, padding, data_format, dilation_rate, name):
    (x, kernel), _ = promote(inputs, kernel)
    rank = kernel.ndim - 2
    if rank not in (1, 2, 3):
        raise ValueError(f"{name}: the kernel must be 3-D, 4-D or 5-D, received shape {kernel.shape}")
    _check_rank(x, rank, name)
    data_format = _data_format(data_format, name)
    strides = _tuple(strides, rank, name, "strides")
    dilation = _tuple(dilation_rate, rank, name, "dilation_rate")
    return _channels_last(x, data_format), kernel, strides, _padding(padding, name), data_format, dilation


def conv(inputs, kernel, strides=1, padding="valid", data_format=None, dilation_rate=1, bias=None):
    """N-D convolution; `kernel` is (*spatial, in_channels // groups, out_channels); `bias` per output channel."""
    x, kernel, strides, padding, data_format, dilation = _conv_args(
        inputs, kernel, strides, padding, data_format, dilation_rate, "conv"
    )
    out = _restore_format(_conv_channels_last(x, kernel, strides, padding, dilation, "conv"), data_format)
    if bias is None:
        return out
    from .numpy_ops import add  # Keras promotion rules, as `ops.add`

    bias = tensor(bias)
    return add(out, bias.reshape(conv_bias.broadcast_shape(bias.shape, kernel.shape[-1], out.ndim, data_format)))


def _depthwise_channels_last(x, kernel, strides, padding, dilation, name):
    rank = kernel.ndim - 2
    window = kernel.shape[:rank]
    channels, multiplier = kernel.shape[-2], kernel.shape[-1]
    if x.shape[-1] != channels:
        raise ValueError(
            f"{name}: the input has {x.shape[-1]} channels but the depthwise kernel expects {channels} "
            f"(kernel shape {kernel.shape})"
        )
    x = _padded(x, window, strides, dilation, padding, 0)
    windows = _windows(x, window, strides, dilation, name)
    letters = "xyz"[:rank]
    out = np.einsum(f"n{letters}c{letters.upper()},{letters.upper()}cm->n{letters}cm", windows, kernel, optimize=True)
    return out.reshape(out.shape[:-2] + (channels * multiplier,))


def depthwise_conv(inputs, kernel, strides=1, padding="valid", data_format=None, dilation_rate=1):
    """N-D depthwise convolution; `kernel` is (*spatial, in_channels, multiplier)."""
    x, kernel, strides, padding, data_format, dilation = _conv_args(
        inputs, kernel, strides, padding, data_format, dilation_rate, "depthwise_conv"
    )
    return _restore_format(_depthwise_channels_last(x, kernel, strides, padding, dilation, "depthwise_conv"), data_format)


def separable_conv(
    inputs, depthwise_kernel, pointwise_kernel, strides=1, padding="valid", data_format=None, dilation_rate=1
):
    """Depthwise convolution, then a 1x1 convolution with `pointwise_kernel` (*ones, in*multiplier, out)."""
    name = "separable_conv"
    x, depthwise_kernel, strides, padding, data_format, dilation = _conv_args(
        inputs, depthwise_kernel, strides, padding, data_format, dilation_rate, name
    )
    (pointwise_kernel,), _ = promote(pointwise_kernel)
    rank = depthwise_kernel.ndim - 2
    if pointwise_kernel.ndim != rank + 2 or any(k != 1 for k in pointwise_kernel.shape[:rank]):
        raise ValueError(f"{name}: the pointwise kernel must have shape (*[1]*{rank}, in, out), received {pointwise_kernel.shape}")
    depthwise = _depthwise_channels_last(x, depthwise_kernel, strides, padding, dilation, name)
    (depthwise, pointwise), _ = promote(depthwise, pointwise_kernel.reshape(pointwise_kernel.shape[-2:]))
    if depthwise.shape[-1] != pointwise.shape[0]:
        raise ValueError(
            f"{name}: the depthwise output has {depthwise.shape[-1]} channels but the pointwise kernel expects "
            f"{pointwise.shape[0]}"
        )
    return _restore_format(np.tensordot(depthwise, pointwise, axes=1), data_format)


def transpose_padding(window, stride, padding, output_padding):
    """(before, after) padding of the stride-dilated input for a transposed convolution (Keras 3 rules).

    Args:
        window: kernel size after dilation.
        stride: the stride.
        padding: "valid" or "same".
        output_padding: extra size at the end, or None.
    """
    if padding == "valid":
        extra = max(window, stride) - window if output_padding is None else output_padding
        return window - 1, window - 1 + extra
    if output_padding is None:
        total = stride + window - 2
    else:
        total = window + window % 2 - 2 + output_padding
    before = min(total // 2 + total % 2, window - 1)
    return before, total - before


def conv_transpose(inputs, kernel, strides=1, padding="valid", output_padding=None, data_format=None, dilation_rate=1):
    """N-D transposed convolution; `kernel` is (*spatial, out_channels, in_channels).

    Implemented as the gradient of `conv`: the input is dilated by the strides, padded,
    and correlated with the spatially flipped kernel.
    """
    name = "conv_transpose"
    x, kernel, strides, padding, data_format, dilation = _conv_args(
        inputs, kernel, strides, padding, data_format, dilation_rate, name
    )
    rank = kernel.ndim - 2
    if x.shape[-1] != kernel.shape[-1]:
        raise ValueError(
            f"{name}: the input has {x.shape[-1]} channels but the kernel (*spatial, out, in) expects "
            f"{kernel.shape[-1]} (kernel shape {kernel.shape})"
        )
    if output_padding is None:
        extras = (None,) * rank
    else:
        extras = tuple(int(v) for v in ((output_padding,) * rank if isinstance(output_padding, int) else output_padding))
        if len(extras) != rank or any(e < 0 for e in extras):
            raise ValueError(f"{name}: output_padding must be a non-negative int or {rank} of them, received {output_padding}")
    batch, spatial = x.shape[0], x.shape[1:-1]
    dilated = np.zeros((batch, *((n - 1) * s + 1 for n, s in zip(spatial, strides)), x.shape[-1]), dtype=x.dtype)
    dilated[(slice(None), *(slice(None, None, s) for s in strides))] = x
    pads = [
        transpose_padding((k - 1) * d + 1, s, padding, extra)
        for k, d, s, extra in zip(kernel.shape[:rank], dilation, strides, extras)
    ]
    padded = _pad_spatial(dilated, pads, 0)
    flipped = np.swapaxes(kernel[(slice(None, None, -1),) * rank], -1, -2)
    out = _conv_channels_last(padded, flipped, (1,) * rank, "valid", dilation, name)
    return _restore_format(out, data_format)


# -- pooling -------------------------------------------------------------------------------------


def _pool_args(inputs, pool_size, strides, padding, data_format, name):
    x = tensor(inputs)
    rank = x.ndim - 2
    if rank not in (1, 2, 3):
        raise ValueError(f"{name}: inputs must be 3-D, 4-D or 5-D (batch, spatial..., channels), received shape {x.shape}")
    data_format = _data_format(data_format, name)
    pool = _tuple(pool_size, rank, name, "pool_size")
    strides = pool if strides is None else _tuple(strides, rank, name, "strides")
    return _channels_last(x, data_format), pool, strides, _padding(padding, name), data_format


def _lowest(dtype):
    if dtype.kind == "b":
        return False
    if dtype.kind in "iu":
        return np.iinfo(dtype).min
    return -np.inf


def max_pool(inputs, pool_size, strides=None, padding="valid", data_format=None):
    """N-D max pooling (`strides` default to `pool_size`)."""
    name = "max_pool"
    x, pool, strides, padding, data_format = _pool_args(inputs, pool_size, strides, padding, data_format, name)
    rank = len(pool)
    x = _padded(x, pool, strides, (1,) * rank, padding, _lowest(x.dtype))
    windows = _windows(x, pool, strides, (1,) * rank, name)
    out = windows.max(axis=tuple(range(rank + 2, 2 * rank + 2)))
    return _restore_format(out, data_format)


def average_pool(inputs, pool_size, strides=None, padding="valid", data_format=None):
    """N-D average pooling; with "same" padding the padded pixels are left out of each mean."""
    name = "average_pool"
    x, pool, strides, padding, data_format = _pool_args(inputs, pool_size, strides, padding, data_format, name)
    rank = len(pool)
    dtype = float_dtype(x.dtype)
    ones_dims = (1,) * rank
    window_axes = tuple(range(rank + 2, 2 * rank + 2))
    if padding == "valid":
        sums = _windows(x, pool, strides, ones_dims, name).sum(axis=window_axes, dtype=dtype)
        return _restore_format(np.divide(sums, math.prod(pool), dtype=dtype), data_format)
    padded = _padded(x, pool, strides, ones_dims, padding, 0)
    sums = _windows(padded, pool, strides, ones_dims, name).sum(axis=window_axes, dtype=dtype)
    # The same windows over a mask of real pixels count the pixels each mean covers.
    mask = _padded(np.ones((1, *x.shape[1:-1], 1), dtype=dtype), pool, strides, ones_dims, padding, 0)
    counts = _windows(mask, pool, strides, ones_dims, name).sum(axis=window_axes)
    return _restore_format(np.divide(sums, counts, dtype=dtype), data_format)
