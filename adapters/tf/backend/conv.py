"""Convolution and pooling for TensorFlow: 1D/2D/3D, channels_last and channels_first.

Everything runs channels_last (TensorFlow's CPU kernels support only NHWC), with
explicit workarounds where the native kernels are missing: grouped convolutions
(split per group), strides combined with dilation (stride-1 convolution, then
subsampling), dilated transposed convolutions (zero insertion and an ordinary
convolution), and 3D pooling in float16/float64 (separable 2D pools).
"""

import tensorflow as tf
from kbridge.adapters.tf.backend._common import (
    ceil_div,
    dims,
    is_static,
    padding_arg,
    promote,
    tensor,
    to_float,
)

from kbridge import config
from kbridge.backend import conv_bias

__all__ = ["average_pool", "conv", "conv_transpose", "depthwise_conv", "max_pool", "separable_conv"]


def _data_format(data_format, op):
    data_format = config.image_data_format() if data_format is None else data_format
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(f"{op}: `data_format` must be 'channels_last' or 'channels_first', received {data_format!r}")
    return data_format


def _padding(padding, op):
    mode = padding.lower() if isinstance(padding, str) else padding
    if mode not in ("valid", "same"):
        raise ValueError(f"{op}: `padding` must be 'valid' or 'same', received {padding!r}")
    return mode


def _tuple(value, n, name, op):
    if isinstance(value, int):
        return (value,) * n
    value = tuple(int(v) for v in value)
    if len(value) == 1:
        return value * n
    if len(value) != n:
        raise ValueError(f"{op}: `{name}` must be an int or {n} ints, received {value!r}")
    return value


def _spatial_rank(x, op):
    rank = x.shape.rank
    if rank not in (3, 4, 5):
        raise ValueError(f"{op}: inputs must be 3-D, 4-D or 5-D (batch, *spatial, channels), received shape {x.shape}")
    return rank - 2


def _channels_last(x, data_format):
    if data_format == "channels_last":
        return x
    rank = x.shape.rank
    return tf.transpose(x, [0] + list(range(2, rank)) + [1])


def _restore(y, data_format):
    if data_format == "channels_last":
        return y
    rank = y.shape.rank
    return tf.transpose(y, [0, rank - 1] + list(range(1, rank - 1)))


def _same_pads(sizes, kernel, strides, dilation):
    """TensorFlow's "same" padding (extra pixel at the end) per spatial dim."""
    pads = []
    for size, k, s, d in zip(sizes, kernel, strides, dilation):
        effective = (k - 1) * d + 1
        total = (ceil_div(size, s) - 1) * s + effective - size
        total = max(total, 0) if is_static(total) else tf.maximum(total, 0)
        pads.append((total // 2, total - total // 2))
    return pads


def _pad_spatial(x, pads):
    return tf.pad(x, padding_arg([(0, 0)] + list(pads) + [(0, 0)]))


def _subsample(y, strides):
    if all(s == 1 for s in strides):
        return y
    return y[(slice(None),) + tuple(slice(None, None, s) for s in strides)]


def _native_conv(x, kernel, strides, padding, dilation):
    if len(strides) == 3:
        # tf.nn.convolution's 3D op records no data_format in eager mode, which
        # breaks its gradient under GradientTape (TF 2.21): call conv3d directly.
        return tf.nn.conv3d(
            x, kernel, [1, *strides, 1], padding.upper(), data_format="NDHWC", dilations=[1, *dilation, 1]
        )
    return tf.nn.convolution(x, kernel, strides=list(strides), padding=padding.upper(), dilations=list(dilation))


def _conv_channels_last(x, kernel, strides, padding, dilation, groups):
    n = len(strides)
    if any(s > 1 for s in strides) and any(d > 1 for d in dilation):
        # TensorFlow refuses strides with dilation: pad as "same" would, run at
        # stride 1, then keep every stride-th output.
        if padding == "same":
            x = _pad_spatial(x, _same_pads(dims(x)[1:-1], kernel.shape[:n], strides, dilation))
        y = _conv_channels_last(x, kernel, (1,) * n, "valid", dilation, groups)
        return _subsample(y, strides)
    if groups == 1:
        return _native_conv(x, kernel, strides, padding, dilation)
    if n <= 2 and kernel.shape[-2] == 1:
        # One input channel per group is a depthwise convolution.
        depthwise = tf.reshape(kernel, list(kernel.shape[:n]) + [groups, kernel.shape[-1] // groups])
        return _depthwise_channels_last(x, depthwise, strides, padding, dilation)
    # Native grouped kernels exist only on some builds (and lack gradients on
    # others): convolve each group and concatenate.
    parts = zip(tf.split(x, groups, axis=-1), tf.split(kernel, groups, axis=-1))
    return tf.concat([_native_conv(xi, ki, strides, padding, dilation) for xi, ki in parts], axis=-1)


def _depthwise_channels_last(x, kernel, strides, padding, dilation):
    n = len(strides)
    if n == 3:
        channels, multiplier = kernel.shape[-2], kernel.shape[-1]
        grouped = tf.reshape(kernel, list(kernel.shape[:3]) + [1, channels * multiplier])
        return _conv_channels_last(x, grouped, strides, padding, dilation, channels)
    strided_and_dilated = any(s > 1 for s in strides) and any(d > 1 for d in dilation)
    if strided_and_dilated or (n == 2 and strides[0] != strides[1]):
        # Unsupported by the depthwise kernel (unequal strides fail under
        # GradientTape): pad as "same" would, run at stride 1, then subsample.
        if padding == "same":
            x = _pad_spatial(x, _same_pads(dims(x)[1:-1], kernel.shape[:n], strides, dilation))
        y = _depthwise_channels_last(x, kernel, (1,) * n, "valid", dilation)
        return _subsample(y, strides)
    if n == 1:
        # The added axis has size 1, so striding it too keeps the strides equal.
        y = tf.nn.depthwise_conv2d(
            x[:, None], kernel[None], strides=[1, strides[0], strides[0], 1], padding=padding.upper(),
            dilations=[1, dilation[0]],
        )  # fmt: skip
        return y[:, 0]
    return tf.nn.depthwise_conv2d(
        x, kernel, strides=[1, strides[0], strides[1], 1], padding=padding.upper(), dilations=list(dilation)
    )


def _conv_inputs(inputs, kernel):
    inputs = to_float(inputs)
    kernel = tensor(kernel)
    if kernel.dtype != inputs.dtype:
        dtype = promote(inputs.dtype.name, kernel.dtype.name)
        inputs, kernel = tf.cast(inputs, dtype), tf.cast(kernel, dtype)
    return inputs, kernel


def conv(inputs, kernel, strides=1, padding="valid", data_format=None, dilation_rate=1, bias=None):
    """N-D convolution; `kernel` is `(*spatial, in_channels // groups, out_channels)`; `bias` per output channel."""
    inputs, kernel = _conv_inputs(inputs, kernel)
    n = _spatial_rank(inputs, "conv")
    data_format = _data_format(data_format, "conv")
    padding = _padding(padding, "conv")
    strides = _tuple(strides, n, "strides", "conv")
    dilation = _tuple(dilation_rate, n, "dilation_rate", "conv")
    if kernel.shape.rank != n + 2:
        raise ValueError(f"conv: kernel must be {n + 2}-D for {n}D inputs, received shape {kernel.shape}")
    x = _channels_last(inputs, data_format)
    channels, per_group = x.shape[-1], kernel.shape[-2]
    if channels is None or per_group is None:
        # Unknown while tracing: assume an ordinary convolution (TensorFlow checks at run time).
        channels = per_group = 1
    if channels % per_group or kernel.shape[-1] % (channels // per_group):
        raise ValueError(
            f"conv: input channels ({channels}) must be a multiple of the kernel's input channels ({per_group}), "
            f"and output channels ({kernel.shape[-1]}) a multiple of the groups; received inputs {inputs.shape}, "
            f"kernel {kernel.shape}"
        )
    y = _conv_channels_last(x, kernel, strides, padding, dilation, channels // per_group)
    if bias is not None:
        from .numpy_elementwise import add  # Keras promotion rules, as `ops.add`

        bias = tensor(bias)
        y = add(y, tf.reshape(bias, conv_bias.broadcast_shape(bias.shape, kernel.shape[-1], y.shape.rank, "channels_last")))
    return _restore(y, data_format)


def depthwise_conv(inputs, kernel, strides=1, padding="valid", data_format=None, dilation_rate=1):
    """N-D depthwise convolution; `kernel` is `(*spatial, in_channels, multiplier)`."""
    inputs, kernel = _conv_inputs(inputs, kernel)
    n = _spatial_rank(inputs, "depthwise_conv")
    data_format = _data_format(data_format, "depthwise_conv")
    padding = _padding(padding, "depthwise_conv")
    strides = _tuple(strides, n, "strides", "depthwise_conv")
    dilation = _tuple(dilation_rate, n, "dilation_rate", "depthwise_conv")
    if kernel.shape.rank != n + 2:
        raise ValueError(f"depthwise_conv: kernel must be {n + 2}-D for {n}D inputs, received shape {kernel.shape}")
    x = _channels_last(inputs, data_format)
    y = _depthwise_channels_last(x, kernel, strides, padding, dilation)
    return _restore(y, data_format)


def separable_conv(
    inputs, depthwise_kernel, pointwise_kernel, strides=1, padding="valid", data_format=None, dilation_rate=1
):
    """Depthwise convolution followed by a pointwise (1x1) convolution."""
    data_format = _data_format(data_format, "separable_conv")
    depthwise = depthwise_conv(inputs, depthwise_kernel, strides, padding, data_format, dilation_rate)
    return conv(depthwise, pointwise_kernel, 1, "valid", data_format, 1)


def _transpose_length(size, kernel, stride, padding, output_padding, dilation):
    effective = (kernel - 1) * dilation + 1
    if output_padding is None:
        if padding == "valid":
            return size * stride + max(effective - stride, 0)
        return size * stride
    pad = effective // 2 if padding == "same" else 0
    return (size - 1) * stride + effective - 2 * pad + output_padding


def conv_transpose(inputs, kernel, strides=1, padding="valid", output_padding=None, data_format=None, dilation_rate=1):
    """N-D transposed convolution; `kernel` is `(*spatial, out_channels, in_channels)`.

    The output size follows Keras: `size * stride` for "same" and
    `size * stride + max(kernel - stride, 0)` for "valid", adjusted by `output_padding`.
    """
    inputs, kernel = _conv_inputs(inputs, kernel)
    n = _spatial_rank(inputs, "conv_transpose")
    data_format = _data_format(data_format, "conv_transpose")
    padding = _padding(padding, "conv_transpose")
    strides = _tuple(strides, n, "strides", "conv_transpose")
    dilation = _tuple(dilation_rate, n, "dilation_rate", "conv_transpose")
    extra = (None,) * n if output_padding is None else _tuple(output_padding, n, "output_padding", "conv_transpose")
    x = _channels_last(inputs, data_format)
    shape = dims(x)
    ksize = kernel.shape.as_list()[:n]
    out_sizes = [
        _transpose_length(size, k, s, padding, p, d)
        for size, k, s, p, d in zip(shape[1:-1], ksize, strides, extra, dilation)
    ]
    if all(d == 1 for d in dilation):
        out_shape = [shape[0]] + out_sizes + [kernel.shape[-2]]
        out_shape = out_shape if all(is_static(v) for v in out_shape) else tf.stack(out_shape)
        y = tf.nn.conv_transpose(x, kernel, out_shape, strides=list(strides), padding=padding.upper())
    else:
        y = _dilated_transpose(x, kernel, strides, padding, dilation, out_sizes)
    return _restore(y, data_format)


def _dilated_transpose(x, kernel, strides, padding, dilation, out_sizes):
    # A transposed convolution is an ordinary one over the input with
    # (stride - 1) zeros between samples, using the flipped kernel.
    n = len(strides)
    sizes = dims(x)[1:-1]
    for axis, s in enumerate(strides, start=1):
        if s > 1:
            x = _insert_zeros(x, axis, s)
    flipped = tf.transpose(tf.reverse(kernel, list(range(n))), list(range(n)) + [n + 1, n])
    pads = []
    for size, k, s, d, out in zip(sizes, kernel.shape.as_list()[:n], strides, dilation, out_sizes):
        effective = (k - 1) * d + 1
        before = 0
        if padding == "same":
            total = (size - 1) * s + effective - out
            total = max(total, 0) if is_static(total) else tf.maximum(total, 0)
            before = total // 2
        pads.append((effective - 1 - before, out + before - (size - 1) * s - 1))
    x = _pad_spatial(x, pads)
    return _native_conv(x, flipped, (1,) * n, "valid", dilation)


def _insert_zeros(x, axis, stride):
    shape = dims(x)
    size = shape[axis]
    expanded = tf.expand_dims(x, axis + 1)
    pads = [(0, 0)] * (len(shape) + 1)
    pads[axis + 1] = (0, stride - 1)
    expanded = tf.pad(expanded, pads)
    merged = shape[:axis] + [size * stride] + shape[axis + 1 :]
    merged = merged if all(is_static(v) for v in merged) else tf.stack(merged)
    x = tf.reshape(expanded, merged)
    index = [slice(None)] * len(shape)
    index[axis] = slice(0, (size - 1) * stride + 1)
    return x[tuple(index)]


# -- pooling ----------------------------------------------------------------------------------


def _pool(inputs, pool_size, strides, padding, data_format, op, pooling):
    inputs = to_float(inputs)
    n = _spatial_rank(inputs, op)
    data_format = _data_format(data_format, op)
    padding = _padding(padding, op)
    window = _tuple(pool_size, n, "pool_size", op)
    strides = window if strides is None else _tuple(strides, n, "strides", op)
    x = _channels_last(inputs, data_format)
    dtype = x.dtype.name
    if n == 3 and dtype == "float16":
        # No 3D pooling kernels for float16 on CPU: pool in float32.
        y = tf.cast(_pool_native(tf.cast(x, "float32"), window, strides, padding, pooling), dtype)
    elif n == 3 and dtype == "float64":
        y = _pool3d_separable(x, window, strides, padding, pooling)
    else:
        y = _pool_native(x, window, strides, padding, pooling)
    return _restore(y, data_format)


def _pool_native(x, window, strides, padding, pooling):
    fn = tf.nn.max_pool if pooling == "max" else tf.nn.avg_pool
    return fn(x, list(window), list(strides), padding.upper())


def _pool3d_separable(x, window, strides, padding, pooling):
    # Max pooling and padding-excluding average pooling both factor over axes:
    # pool (depth, height) with width folded into channels, then pool width.
    batch, depth, height, width, channels = dims(x)
    folded = tf.reshape(x, _shape([batch, depth, height, width * channels]))
    folded = _pool_native(folded, window[:2], strides[:2], padding, pooling)
    _, out_depth, out_height, _ = dims(folded)
    rows = tf.reshape(folded, _shape([batch, out_depth * out_height, width, channels]))
    rows = _pool_native(rows, (1, window[2]), (1, strides[2]), padding, pooling)
    out_width = dims(rows)[2]
    return tf.reshape(rows, _shape([batch, out_depth, out_height, out_width, channels]))


def _shape(values):
    return values if all(is_static(v) for v in values) else tf.stack(values)


def max_pool(inputs, pool_size, strides=None, padding="valid", data_format=None):
    """N-D max pooling (`strides` default to `pool_size`)."""
    return _pool(inputs, pool_size, strides, padding, data_format, "max_pool", "max")


def average_pool(inputs, pool_size, strides=None, padding="valid", data_format=None):
    """N-D average pooling; "same" padding is excluded from each mean."""
    return _pool(inputs, pool_size, strides, padding, data_format, "average_pool", "avg")
