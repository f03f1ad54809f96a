"""Argument and shape helpers shared by the convolution, pooling and spatial reshaping layers."""

import numpy as np

_PADDINGS = ("valid", "same")


def normalize_tuple(value, n, name, layer, allow_zero=False):
    """An int or `n` ints -> a tuple of `n` ints, each > 0 (>= 0 with `allow_zero`).

    Args:
        value: the argument as given.
        n: the number of spatial dimensions.
        name: the argument's name, for messages.
        layer: the layer's class name, for messages.
        allow_zero: whether 0 is valid.
    """
    if _is_int(value):
        values = (value,) * n
    else:
        try:
            values = tuple(value)
        except TypeError:
            values = None
        if values is None or len(values) != n or not all(_is_int(v) for v in values):
            raise ValueError(
                f"{layer}: the `{name}` argument must be an int or a tuple of {n} integers. Received: {name}={value}"
            )
    low = 0 if allow_zero else 1
    if any(v < low for v in values):
        raise ValueError(
            f"{layer}: the `{name}` argument must contain only integers {'>= 0' if allow_zero else '> 0'}. "
            f"Received: {name}={value}"
        )
    return tuple(int(v) for v in values)


def normalize_padding(padding, layer, allow_causal=False):
    """Lower-cased "valid"/"same" (and "causal" where allowed); anything else raises ValueError."""
    allowed = _PADDINGS + (("causal",) if allow_causal else ())
    mode = padding.lower() if isinstance(padding, str) else None
    if mode not in allowed:
        raise ValueError(f"{layer}: the `padding` argument must be one of {allowed}. Received: padding={padding!r}")
    return mode


def check_strides_dilation(strides, dilation_rate, layer):
    """Keras 3 rejects strides > 1 together with dilation_rate > 1."""
    if any(s > 1 for s in strides) and any(d > 1 for d in dilation_rate):
        raise ValueError(
            f"{layer}: `strides > 1` is not supported in conjunction with `dilation_rate > 1`. "
            f"Received: strides={strides} and dilation_rate={dilation_rate}"
        )


def split_shape(shape, data_format):
    """(batch, spatial dims, channels) of a channels_last or channels_first shape."""
    shape = tuple(shape)
    if data_format == "channels_last":
        return shape[0], shape[1:-1], shape[-1]
    return shape[0], shape[2:], shape[1]


def join_shape(batch, spatial, channels, data_format):
    """The inverse of `split_shape`."""
    if data_format == "channels_last":
        return (batch, *spatial, channels)
    return (batch, channels, *spatial)


def spatial_axes(rank, data_format):
    """Axes of the spatial dimensions of a rank-`rank + 2` tensor."""
    start = 1 if data_format == "channels_last" else 2
    return tuple(range(start, start + rank))


def window_length(size, window, stride, dilation, padding):
    """Output length of a strided window op (conv or pooling); None stays None."""
    if size is None:
        return None
    if padding in ("same", "causal"):
        return -(-size // stride)
    span = (window - 1) * dilation + 1
    return (size - span) // stride + 1


def transpose_length(size, window, stride, dilation, padding, output_padding):
    """Output length of a transposed convolution (Keras 3's rule); None stays None."""
    if size is None:
        return None
    span = (window - 1) * dilation + 1
    if output_padding is None:
        return size * stride if padding == "same" else size * stride + max(span - stride, 0)
    crop = span // 2 if padding == "same" else 0
    return (size - 1) * stride + span - 2 * crop + output_padding


def check_positive_lengths(layer, input_shape, lengths, details):
    """Raises ValueError naming the layer when a computed spatial length is zero or negative."""
    if any(n is not None and n <= 0 for n in lengths):
        raise ValueError(
            f"{layer}: computed output size would be zero or negative. Received input shape {tuple(input_shape)}, "
            f"{details}."
        )


def normalize_pairs(value, rank, name, layer):
    """`(before, after)` per spatial axis from an int, `rank` ints or `rank` pairs (Keras 3's forms).

    Rank 1 reads a pair as `(before, after)`; higher ranks read `rank` ints as symmetric amounts.
    """
    if rank == 1:
        return (normalize_tuple(value, 2, name, layer, allow_zero=True),)
    if _is_int(value):
        value = (value,) * rank
    try:
        items = tuple(value)
    except TypeError:
        items = ()
    if len(items) != rank:
        raise ValueError(
            f"{layer}: `{name}` should be an int, a tuple of {rank} ints or a tuple of {rank} tuples of 2 ints. "
            f"Received: {name}={value}"
        )
    return tuple(normalize_tuple(item, 2, name, layer, allow_zero=True) for item in items)


def _is_int(value):
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)
