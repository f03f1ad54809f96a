"""Symbolic backend: `kbridge.ops.nn` and `kbridge.ops.math` (activations, conv/pool, losses, attention)."""

# ruff: noqa: A001, A002
from kbridge import config
from kbridge.backend import conv_bias
from kbridge.backend.dtypes import standardize_dtype
from kbridge.symbolic._infer import (
    as_int,
    broadcast_shapes,
    canonical_axis,
    floating,
    merge_dim,
    merge_shapes,
    out,
    promoted,
    reduced_shape,
    spec,
    window_output,
)

_FORMATS = ("channels_last", "channels_first")


def _float(x):
    x = spec(x)
    return out(x.shape, floating(x.dtype))


# -- activations -----------------------------------------------------------------------------------


def relu(x):
    """Same shape and dtype."""
    x = spec(x)
    return out(x.shape, x.dtype)


def hard_tanh(x):
    """Same shape and dtype (bools give int32)."""
    x = spec(x)
    return out(x.shape, "int32" if x.dtype == "bool" else x.dtype)


def relu6(x):
    """Same shape; ints give `floatx()`."""
    return _float(x)


def sigmoid(x):
    """Same shape; ints give `floatx()`."""
    return _float(x)


def softplus(x):
    """Same shape; ints give `floatx()`."""
    return _float(x)


def softsign(x):
    """Same shape; ints give `floatx()`."""
    return _float(x)


def silu(x):
    """Same shape; ints give `floatx()`."""
    return _float(x)


def log_sigmoid(x):
    """Same shape; ints give `floatx()`."""
    return _float(x)


def leaky_relu(x, negative_slope=0.2):
    """Same shape; ints give `floatx()`."""
    return _float(x)


def hard_sigmoid(x):
    """Same shape; ints give `floatx()`."""
    return _float(x)


def hard_silu(x):
    """Same shape; ints give `floatx()`."""
    return _float(x)


def elu(x, alpha=1.0):
    """Same shape; ints give `floatx()`."""
    return _float(x)


def selu(x):
    """Same shape; ints give `floatx()`."""
    return _float(x)


def gelu(x, approximate=True):
    """Same shape; ints give `floatx()`."""
    return _float(x)


def celu(x, alpha=1.0):
    """Same shape; ints give `floatx()`."""
    return _float(x)


def sparse_plus(x):
    """Same shape; ints give `floatx()`."""
    return _float(x)


def squareplus(x, b=4):
    """Same shape; ints give `floatx()`."""
    return _float(x)


def softmax(x, axis=-1):
    """Same shape; ints give `floatx()`."""
    return _float(x)


def log_softmax(x, axis=-1):
    """Same shape; ints give `floatx()`."""
    return _float(x)


def glu(x, axis=-1):
    """`axis` halved."""
    x = spec(x)
    axis = canonical_axis(axis, x.ndim, "glu")
    size = x.shape[axis]
    if size is not None and size % 2:
        raise ValueError(f"glu: axis {axis} of {x} must have an even size.")
    shape = list(x.shape)
    shape[axis] = None if size is None else size // 2
    return out(shape, floating(x.dtype))


# -- convolution and pooling -----------------------------------------------------------------------


def _format(data_format, name):
    data_format = config.image_data_format() if data_format is None else data_format
    if data_format not in _FORMATS:
        raise ValueError(f"{name}: data_format must be one of {_FORMATS}, received {data_format!r}")
    return data_format


def _ints(value, rank, name, argument):
    values = (int(value),) * rank if isinstance(value, int) else tuple(int(v) for v in value)
    if len(values) == 1 and rank > 1:
        values *= rank
    if len(values) != rank or any(v < 1 for v in values):
        raise ValueError(f"{name}: {argument} must be a positive int or {rank} of them, received {value}")
    return values


def _padding(padding, name):
    mode = padding.lower() if isinstance(padding, str) else padding
    if mode not in ("valid", "same"):
        raise ValueError(f"{name}: padding must be 'valid' or 'same', received {padding!r}")
    return mode


def _split_format(x, rank, data_format, name):
    if x.ndim != rank + 2:
        raise ValueError(f"{name}: inputs must be {rank + 2}-D (batch, {rank} spatial dims, channels), received {x}")
    if data_format == "channels_last":
        return x.shape[0], x.shape[1:-1], x.shape[-1]
    return x.shape[0], x.shape[2:], x.shape[1]


def _join_format(batch, spatial, channels, data_format):
    if data_format == "channels_last":
        return (batch, *spatial, channels)
    return (batch, channels, *spatial)


def _windowed(inputs, kernel, strides, padding, data_format, dilation_rate, name):
    x, kernel = spec(inputs), spec(kernel)
    rank = kernel.ndim - 2
    if rank not in (1, 2, 3):
        raise ValueError(f"{name}: the kernel must be 3-D, 4-D or 5-D, received {kernel}")
    data_format = _format(data_format, name)
    batch, spatial, channels = _split_format(x, rank, data_format, name)
    strides = _ints(strides, rank, name, "strides")
    dilation = _ints(dilation_rate, rank, name, "dilation_rate")
    padding = _padding(padding, name)
    sizes = [
        window_output(size, window, stride, rate, padding)
        for size, window, stride, rate in zip(spatial, kernel.shape[:rank], strides, dilation)
    ]
    return x, kernel, batch, sizes, channels, data_format


def conv(inputs, kernel, strides=1, padding="valid", data_format=None, dilation_rate=1, bias=None):
    """Channels become `kernel.shape[-1]`; spatial sizes follow the window arithmetic."""
    x, k, batch, sizes, channels, data_format = _windowed(
        inputs, kernel, strides, padding, data_format, dilation_rate, "conv"
    )
    if channels is not None and k.shape[-2] is not None and channels % k.shape[-2]:
        raise ValueError(f"conv: {channels} input channels is not a multiple of the kernel's {k.shape[-2]} ({k}).")
    if bias is None:
        return out(_join_format(batch, sizes, k.shape[-1], data_format), promoted(inputs, kernel))
    conv_bias.broadcast_shape(spec(bias).shape, k.shape[-1], len(sizes) + 2, data_format)
    return out(_join_format(batch, sizes, k.shape[-1], data_format), promoted(inputs, kernel, bias))


def depthwise_conv(inputs, kernel, strides=1, padding="valid", data_format=None, dilation_rate=1):
    """Channels become in_channels * multiplier."""
    x, k, batch, sizes, channels, data_format = _windowed(
        inputs, kernel, strides, padding, data_format, dilation_rate, "depthwise_conv"
    )
    merge_dim(channels, k.shape[-2], "depthwise_conv", f"input channels of {x} and kernel {k}")
    filters = None if k.shape[-2] is None or k.shape[-1] is None else k.shape[-2] * k.shape[-1]
    return out(_join_format(batch, sizes, filters, data_format), promoted(inputs, kernel))


def separable_conv(
    inputs, depthwise_kernel, pointwise_kernel, strides=1, padding="valid", data_format=None, dilation_rate=1
):
    """Channels become `pointwise_kernel.shape[-1]`."""
    x, k, batch, sizes, channels, data_format = _windowed(
        inputs, depthwise_kernel, strides, padding, data_format, dilation_rate, "separable_conv"
    )
    merge_dim(channels, k.shape[-2], "separable_conv", f"input channels of {x} and kernel {k}")
    pointwise = spec(pointwise_kernel)
    return out(
        _join_format(batch, sizes, pointwise.shape[-1], data_format),
        promoted(inputs, depthwise_kernel, pointwise_kernel),
    )


def _transpose_length(size, window, stride, dilation, padding, extra):
    if size is None:
        return None
    span = (window - 1) * dilation + 1
    if extra is None:
        return size * stride if padding == "same" else size * stride + max(span - stride, 0)
    crop = span // 2 if padding == "same" else 0
    return (size - 1) * stride + span - 2 * crop + extra


def conv_transpose(inputs, kernel, strides=1, padding="valid", output_padding=None, data_format=None, dilation_rate=1):
    """Channels become `kernel.shape[-2]`; sizes grow by the strides (Keras 3 output-length rules)."""
    name = "conv_transpose"
    x, k = spec(inputs), spec(kernel)
    rank = k.ndim - 2
    if rank not in (1, 2, 3):
        raise ValueError(f"{name}: the kernel must be 3-D, 4-D or 5-D, received {k}")
    data_format = _format(data_format, name)
    batch, spatial, channels = _split_format(x, rank, data_format, name)
    merge_dim(channels, k.shape[-1], name, f"input channels of {x} and kernel {k} (*spatial, out, in)")
    strides = _ints(strides, rank, name, "strides")
    dilation = _ints(dilation_rate, rank, name, "dilation_rate")
    padding = _padding(padding, name)
    extras = (None,) * rank if output_padding is None else _ints_allow_zero(output_padding, rank, name)
    sizes = [
        _transpose_length(size, window, stride, rate, padding, extra)
        for size, window, stride, rate, extra in zip(spatial, k.shape[:rank], strides, dilation, extras)
    ]
    return out(_join_format(batch, sizes, k.shape[-2], data_format), promoted(inputs, kernel))


def _ints_allow_zero(value, rank, name):
    values = (int(value),) * rank if isinstance(value, int) else tuple(int(v) for v in value)
    if len(values) != rank or any(v < 0 for v in values):
        raise ValueError(f"{name}: output_padding must be a non-negative int or {rank} of them, received {value}")
    return values


def _pooled(inputs, pool_size, strides, padding, data_format, name, float_result):
    x = spec(inputs)
    rank = x.ndim - 2
    if rank not in (1, 2, 3):
        raise ValueError(f"{name}: inputs must be 3-D, 4-D or 5-D, received {x}")
    data_format = _format(data_format, name)
    batch, spatial, channels = _split_format(x, rank, data_format, name)
    pool = _ints(pool_size, rank, name, "pool_size")
    strides = pool if strides is None else _ints(strides, rank, name, "strides")
    padding = _padding(padding, name)
    sizes = [window_output(size, w, s, 1, padding) for size, w, s in zip(spatial, pool, strides)]
    return out(_join_format(batch, sizes, channels, data_format), floating(x.dtype) if float_result else x.dtype)


def max_pool(inputs, pool_size, strides=None, padding="valid", data_format=None):
    """Spatial sizes follow the window arithmetic; same dtype."""
    return _pooled(inputs, pool_size, strides, padding, data_format, "max_pool", False)


def average_pool(inputs, pool_size, strides=None, padding="valid", data_format=None):
    """Spatial sizes follow the window arithmetic; ints give `floatx()`."""
    return _pooled(inputs, pool_size, strides, padding, data_format, "average_pool", True)


# -- encodings and losses --------------------------------------------------------------------------


def one_hot(x, num_classes, axis=-1, dtype=None, sparse=False):
    """A class axis of size `num_classes` inserted at `axis`."""
    x = spec(x)
    axis = canonical_axis(axis, x.ndim + 1, "one_hot")
    shape = x.shape[:axis] + (as_int(num_classes),) + x.shape[axis:]
    return out(shape, config.floatx() if dtype is None else standardize_dtype(dtype))


def multi_hot(inputs, num_classes, axis=-1, dtype=None, sparse=False):
    """One-hot encoded, then reduced over the set axis (1 for batched input, 0 otherwise)."""
    x = spec(inputs)
    encoded = one_hot(x, num_classes, axis=axis, dtype=dtype)
    return out(reduced_shape(encoded.shape, 1 if x.ndim > 1 else 0, False, "multi_hot"), encoded.dtype)


def categorical_crossentropy(target, output, from_logits=False, axis=-1):
    """The output's shape without `axis`."""
    t, o = spec(target), spec(output)
    shape = merge_shapes(t.shape, o.shape, "categorical_crossentropy")
    return out(reduced_shape(shape, axis, False, "categorical_crossentropy"), promoted(target, output, extra=(float,)))


def sparse_categorical_crossentropy(target, output, from_logits=False, axis=-1):
    """The output's shape without `axis`."""
    o = spec(output)
    return out(reduced_shape(o.shape, axis, False, "sparse_categorical_crossentropy"), floating(o.dtype))


def binary_crossentropy(target, output, from_logits=False):
    """The common shape of target and output."""
    shape = merge_shapes(spec(target).shape, spec(output).shape, "binary_crossentropy")
    return out(shape, promoted(target, output, extra=(float,)))


# -- normalization and attention -------------------------------------------------------------------


def moments(x, axes, keepdims=False, synchronized=False):
    """(mean, variance), each of the reduced shape."""
    x = spec(x)
    shape = reduced_shape(x.shape, axes, keepdims, "moments")
    dtype = floating(x.dtype)
    return out(shape, dtype), out(shape, dtype)


def batch_normalization(x, mean, variance, axis, offset=None, scale=None, epsilon=1e-3):
    """The shape of `x`; ints give `floatx()`."""
    x = spec(x)
    canonical_axis(axis, x.ndim, "batch_normalization")
    return out(x.shape, floating(x.dtype))


def normalize(x, axis=-1, order=2, epsilon=None):
    """The shape of `x`; ints give `floatx()`."""
    return _float(x)


def dot_product_attention(query, key, value, bias=None, mask=None, scale=None, is_causal=False):
    """(batch, q_seq, heads, value_dim)."""
    q, k, v = spec(query), spec(key), spec(value)
    if q.ndim != 4 or k.ndim != 4 or v.ndim != 4:
        raise ValueError(f"dot_product_attention: query, key and value must be 4-D, received {q}, {k}, {v}")
    merge_dim(q.shape[-1], k.shape[-1], "dot_product_attention", "head_dim of query and key")
    merge_dim(k.shape[1], v.shape[1], "dot_product_attention", "sequence length of key and value")
    heads, kv_heads = q.shape[2], k.shape[2]
    if heads is not None and kv_heads is not None and heads % kv_heads:
        raise ValueError(f"dot_product_attention: {heads} query heads is not a multiple of {kv_heads} key heads.")
    batch = broadcast_shapes((q.shape[0],), (k.shape[0],), (v.shape[0],), name="dot_product_attention")[0]
    return out((batch, q.shape[1], heads, v.shape[-1]), promoted(query, key, value, extra=(float,)))


# -- math ------------------------------------------------------------------------------------------


def logsumexp(x, axis=None, keepdims=False):
    """Reduced shape; ints give `floatx()`."""
    x = spec(x)
    return out(reduced_shape(x.shape, axis, keepdims, "logsumexp"), floating(x.dtype))


def top_k(x, k, sorted=True):
    """(values, int32 indices), the last axis of size `k`."""
    x = spec(x)
    if x.ndim == 0:
        raise ValueError(f"top_k: expected a tensor of rank >= 1, received {x}")
    count = as_int(k)
    if count is not None and x.shape[-1] is not None and count > x.shape[-1]:
        raise ValueError(f"top_k: k={count} exceeds the last dimension of {x}")
    shape = x.shape[:-1] + (count,)
    return out(shape, x.dtype), out(shape, "int32")


def in_top_k(targets, predictions, k):
    """The targets' shape, bool."""
    t, p = spec(targets), spec(predictions)
    merge_dim(t.shape[0] if t.ndim else None, p.shape[0] if p.ndim else None, "in_top_k", "batch size")
    return out(t.shape, "bool")


def _segmented(data, segment_ids, num_segments, name):
    data, ids = spec(data), spec(segment_ids)
    if ids.ndim != 1 or data.ndim == 0:
        raise ValueError(f"{name}: segment_ids must be 1-D and data at least 1-D, received {ids} and {data}")
    merge_dim(ids.shape[0], data.shape[0], name, "number of rows of data and segment_ids")
    return out((as_int(num_segments),) + data.shape[1:], data.dtype)


def segment_sum(data, segment_ids, num_segments=None, sorted=False):
    """(num_segments, *data.shape[1:]); unknown without `num_segments`."""
    return _segmented(data, segment_ids, num_segments, "segment_sum")


def segment_max(data, segment_ids, num_segments=None, sorted=False):
    """(num_segments, *data.shape[1:]); unknown without `num_segments`."""
    return _segmented(data, segment_ids, num_segments, "segment_max")


def erf(x):
    """Same shape; ints give `floatx()`."""
    return _float(x)


def erfinv(x):
    """Same shape; ints give `floatx()`."""
    return _float(x)


def rsqrt(x):
    """Same shape; ints give `floatx()`."""
    return _float(x)


def extract_sequences(x, sequence_length, sequence_stride):
    """(..., num_frames, sequence_length)."""
    x = spec(x)
    length, stride = int(sequence_length), int(sequence_stride)
    if x.ndim == 0 or length < 1 or stride < 1:
        raise ValueError(f"extract_sequences: invalid arguments for {x}: {sequence_length}, {sequence_stride}")
    size = x.shape[-1]
    frames = None if size is None else max((size - length) // stride + 1, 0)
    return out(x.shape[:-1] + (frames, length), x.dtype)


def norm(x, ord=None, axis=None, keepdims=False):
    """Reduced over `axis` (all axes when None); ints give `floatx()`."""
    x = spec(x)
    return out(reduced_shape(x.shape, axis, keepdims, "norm"), floating(x.dtype))
