"""Convolution and pooling of the torch backend, with Keras 3 / TF layouts and padding.

Kernels come in Keras layout (`(*spatial, in // groups, out)`) and are permuted to torch's
`(out, in // groups, *spatial)`. "same" padding follows TF: when the total padding is odd
the extra pixel goes at the end, which torch's own `padding="same"` does not do for strides
above 1, so the padding is computed here and applied explicitly when asymmetric.
"""

import torch
import torch.nn.functional as F

from kbridge import config
from kbridge.backend import conv_bias
from kbridge.adapters.torch.backend._common import (
    INTLIKE,
    Tensor,
    convert,
    data_format_of,
    floatx,
    int_tuple,
    promote,
)

__all__ = ["conv", "depthwise_conv", "separable_conv", "conv_transpose", "max_pool", "average_pool"]

_CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}
_CONV_T = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}
_MAX_POOL = {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}
_AVG_POOL = {1: F.avg_pool1d, 2: F.avg_pool2d, 3: F.avg_pool3d}


def _to_channels_first(x, data_format):
    if data_format == "channels_last":
        return x.movedim(-1, 1)
    return x


def _from_channels_first(x, data_format):
    if data_format == "channels_last":
        return x.movedim(1, -1)
    return x


def _same_pads(sizes, kernel, strides, dilation):
    """TF "same" padding per spatial dim as (before, after) pairs."""
    pads = []
    for size, k, s, d in zip(sizes, kernel, strides, dilation):
        effective = (k - 1) * d + 1
        out = -(-size // s)
        total = max((out - 1) * s + effective - size, 0)
        pads.append((total // 2, total - total // 2))
    return pads


def _pad_spatial(x, pads, value=0.0):
    flat = []
    for before, after in reversed(pads):
        flat += [before, after]
    return F.pad(x, flat, value=value)


def _operands(inputs, kernel):
    if isinstance(inputs, Tensor) and isinstance(kernel, Tensor):
        dtype = inputs.dtype
        if dtype is kernel.dtype and dtype not in INTLIKE:
            return inputs, kernel
    inputs = inputs if isinstance(inputs, Tensor) else convert(inputs)
    kernel = kernel if isinstance(kernel, Tensor) else convert(kernel, device=inputs.device)
    if inputs.dtype in INTLIKE:
        inputs = inputs.to(floatx())
    if kernel.dtype is not inputs.dtype:
        dtype = promote(inputs.dtype, kernel.dtype)
        inputs, kernel = inputs.to(dtype), kernel.to(dtype)
    return inputs, kernel


def _prepare(inputs, kernel, data_format):
    inputs, kernel = _operands(inputs, kernel)
    nd = inputs.ndim - 2
    if nd not in _CONV:
        raise ValueError(f"conv: inputs must be 3-D, 4-D or 5-D, received shape {tuple(inputs.shape)}")
    return _to_channels_first(inputs, data_format_of(data_format)), kernel, nd


def _conv_plan(depthwise, x_shape, k_shape, strides, padding, data_format, dilation_rate):
    """Everything about a (depthwise) convolution that depends only on shapes and arguments."""
    name = "depthwise_conv" if depthwise else "conv"
    nd = len(x_shape) - 2
    if nd not in _CONV:
        raise ValueError(f"{name}: inputs must be 3-D, 4-D or 5-D, received shape {tuple(x_shape)}")
    if len(k_shape) != nd + 2:
        raise ValueError(f"{name}: kernel must be {nd + 2}-D for {nd}-D inputs, received shape {tuple(k_shape)}")
    channels_last = data_format_of(data_format) == "channels_last"
    spatial = tuple(x_shape[1:-1] if channels_last else x_shape[2:])
    channels = x_shape[-1] if channels_last else x_shape[1]
    strides = int_tuple(strides, nd, "strides")
    dilation = int_tuple(dilation_rate, nd, "dilation_rate")
    window = tuple(k_shape[:nd])
    if depthwise:
        if k_shape[-2] != channels:
            raise ValueError(
                f"depthwise_conv: kernel input channels ({k_shape[-2]}) must equal the input channels ({channels})"
            )
        groups = channels
    else:
        groups = channels // k_shape[-2]
        if groups * k_shape[-2] != channels:
            raise ValueError(
                f"conv: input channels ({channels}) must be a multiple of the kernel's input channels "
                f"({k_shape[-2]}); kernel shape {tuple(k_shape)}"
            )
    padding = padding.lower()
    explicit = None
    if padding == "valid":
        torch_padding = 0
    elif padding == "same":
        pads = _same_pads(spatial, window, strides, dilation)
        if all(before == after for before, after in pads):
            torch_padding = tuple(before for before, _ in pads)
        else:
            torch_padding = 0
            explicit = []
            for before, after in reversed(pads):
                explicit += [before, after]
    else:
        raise ValueError(f"{name}: `padding` must be 'valid' or 'same', received {padding!r}")
    to_first = (0, nd + 1) + tuple(range(1, nd + 1)) if channels_last else None
    to_last = (0,) + tuple(range(2, nd + 2)) + (1,) if channels_last else None
    if depthwise:
        # (*spatial, in, multiplier) -> (in * multiplier, 1, *spatial): output channel c * m + j.
        weight_order = (nd,) + tuple(range(nd))
    else:
        weight_order = (nd + 1, nd) + tuple(range(nd))
    return _CONV[nd], to_first, to_last, explicit, window, weight_order, strides, torch_padding, dilation, groups


_PLANS = {}


def _cached_plan(depthwise, x, kernel, strides, padding, data_format, dilation_rate):
    if data_format is None:
        data_format = config.image_data_format()
    if torch.compiler.is_compiling():
        return _conv_plan(depthwise, x.shape, kernel.shape, strides, padding, data_format, dilation_rate)
    key = (depthwise, x.shape, kernel.shape, strides, padding, data_format, dilation_rate)
    try:
        plan = _PLANS.get(key)
    except TypeError:  # list-valued arguments
        return _conv_plan(depthwise, x.shape, kernel.shape, strides, padding, data_format, dilation_rate)
    if plan is None:
        plan = _conv_plan(depthwise, x.shape, kernel.shape, strides, padding, data_format, dilation_rate)
        if len(_PLANS) > 4096:
            _PLANS.clear()
        _PLANS[key] = plan
    return plan


def _run_conv(plan, x, kernel, depthwise, back=True, bias=None):
    conv_fn, to_first, to_last, explicit, window, weight_order, strides, torch_padding, dilation, groups = plan
    if to_first is not None:
        x = x.permute(to_first)
    if explicit is not None:
        x = F.pad(x, explicit)
    if depthwise:
        weight = kernel.reshape(window + (-1,)).permute(weight_order).unsqueeze(1)
    else:
        weight = kernel.permute(weight_order)
    out = conv_fn(x, weight, bias, strides, torch_padding, dilation, groups)
    if back and to_last is not None:
        out = out.permute(to_last)
    return out


def conv(inputs, kernel, strides=1, padding="valid", data_format=None, dilation_rate=1, bias=None):
    """N-D convolution; `kernel` is (*spatial, in_channels // groups, out_channels); `bias` per output channel."""
    x, kernel = _operands(inputs, kernel)
    plan = _cached_plan(False, x, kernel, strides, padding, data_format, dilation_rate)
    if bias is None:
        return _run_conv(plan, x, kernel, False)
    if not isinstance(bias, Tensor):
        bias = convert(bias, device=x.device)
    if bias.ndim != 1 or bias.shape[0] != kernel.shape[-1]:
        conv_bias.broadcast_shape(bias.shape, kernel.shape[-1], x.ndim, "channels_last")  # raises
    if bias.dtype is x.dtype:
        # Fused: torch adds the bias inside the convolution (and sums its gradient there).
        return _run_conv(plan, x, kernel, False, bias=bias)
    from .numpy_math import add  # other dtypes promote as `ops.add` does

    out = _run_conv(plan, x, kernel, False)
    channels_first = plan[1] is None
    return add(out, bias.reshape(conv_bias.broadcast_shape(bias.shape, kernel.shape[-1], out.ndim,
                                                           "channels_first" if channels_first else "channels_last")))


def depthwise_conv(inputs, kernel, strides=1, padding="valid", data_format=None, dilation_rate=1):
    """N-D depthwise convolution; `kernel` is (*spatial, in_channels, multiplier)."""
    x, kernel = _operands(inputs, kernel)
    plan = _cached_plan(True, x, kernel, strides, padding, data_format, dilation_rate)
    return _run_conv(plan, x, kernel, True)


def separable_conv(
    inputs, depthwise_kernel, pointwise_kernel, strides=1, padding="valid", data_format=None, dilation_rate=1
):
    """Depthwise convolution followed by a 1x1 pointwise convolution."""
    x, depthwise_kernel = _operands(inputs, depthwise_kernel)
    pointwise = (
        pointwise_kernel if isinstance(pointwise_kernel, Tensor) else convert(pointwise_kernel, x.dtype, x.device)
    )
    plan = _cached_plan(True, x, depthwise_kernel, strides, padding, data_format, dilation_rate)
    depthwise = _run_conv(plan, x, depthwise_kernel, True, back=False)
    nd = x.ndim - 2
    weight = pointwise.to(x.dtype).permute((nd + 1, nd) + tuple(range(nd)))
    out = _CONV[nd](depthwise, weight)
    to_last = plan[2]
    return out if to_last is None else out.permute(to_last)


def _transpose_length(size, k, stride, dilation, padding, output_padding):
    """Keras/TF output length and leading crop of a transposed convolution along one dim."""
    effective = (k - 1) * dilation + 1
    if output_padding is None:
        length = size * stride if padding == "same" else size * stride + max(effective - stride, 0)
    else:
        pad = effective // 2 if padding == "same" else 0
        length = (size - 1) * stride + effective - 2 * pad + output_padding
    if padding == "same":
        # The padding of the forward "same" convolution that maps `length` to `size`.
        total = max((size - 1) * stride + effective - length, 0)
        before = total // 2
    else:
        before = 0
    return length, before


def conv_transpose(inputs, kernel, strides=1, padding="valid", output_padding=None, data_format=None, dilation_rate=1):
    """N-D transposed convolution; `kernel` is (*spatial, out_channels, in_channels)."""
    data_format = data_format_of(data_format)
    padding = padding.lower()
    if padding not in ("valid", "same"):
        raise ValueError(f"conv_transpose: `padding` must be 'valid' or 'same', received {padding!r}")
    x, kernel, nd = _prepare(inputs, kernel, data_format)
    strides = int_tuple(strides, nd, "strides")
    dilation = int_tuple(dilation_rate, nd, "dilation_rate")
    out_pads = (None,) * nd if output_padding is None else int_tuple(output_padding, nd, "output_padding")
    weight = kernel.permute((nd + 1, nd) + tuple(range(nd)))  # (in, out, *spatial)
    torch_pads, torch_out_pads, crops = [], [], []
    direct = True
    for size, k, s, d, op in zip(x.shape[2:], kernel.shape[:nd], strides, dilation, out_pads):
        length, before = _transpose_length(size, k, s, d, padding, op)
        full = (size - 1) * s + (k - 1) * d + 1
        extra = length - (full - 2 * before)
        # torch computes full[before : full - before + extra] when 0 <= extra < max(stride, dilation).
        if not 0 <= extra < max(s, d):
            direct = False
        torch_pads.append(before)
        torch_out_pads.append(extra)
        crops.append((before, length, full))
    if direct:
        out = _CONV_T[nd](x, weight, None, strides, tuple(torch_pads), tuple(torch_out_pads), 1, dilation)
    else:
        out = _CONV_T[nd](x, weight, None, strides, 0, 0, 1, dilation)
        for dim, (before, length, full) in enumerate(crops):
            axis = dim + 2
            take = min(length, full - before)
            out = out.narrow(axis, before, take)
            if take < length:
                widths = [0, 0] * (nd - dim - 1) + [0, length - take]
                out = F.pad(out, widths)
    return _from_channels_first(out, data_format)


def _pool_args(inputs, pool_size, strides, data_format):
    inputs = inputs if isinstance(inputs, Tensor) else convert(inputs)
    data_format = data_format_of(data_format)
    nd = inputs.ndim - 2
    if nd not in _MAX_POOL:
        raise ValueError(f"pooling: inputs must be 3-D, 4-D or 5-D, received shape {tuple(inputs.shape)}")
    pool_size = int_tuple(pool_size, nd, "pool_size")
    strides = pool_size if strides is None else int_tuple(strides, nd, "strides")
    return _to_channels_first(inputs, data_format), nd, pool_size, strides, data_format


def max_pool(inputs, pool_size, strides=None, padding="valid", data_format=None):
    """N-D max pooling ("same" pads with -inf, so padding never wins)."""
    x, nd, pool_size, strides, data_format = _pool_args(inputs, pool_size, strides, data_format)
    padding = padding.lower()
    if padding == "valid":
        out = _MAX_POOL[nd](x, pool_size, strides)
    elif padding == "same":
        pads = _same_pads(x.shape[2:], pool_size, strides, (1,) * nd)
        symmetric = all(b == a and 2 * b <= k for (b, a), k in zip(pads, pool_size))
        if symmetric:
            out = _MAX_POOL[nd](x, pool_size, strides, tuple(b for b, _ in pads))
        else:
            lowest = float("-inf") if x.is_floating_point() else torch.iinfo(x.dtype).min
            out = _MAX_POOL[nd](_pad_spatial(x, pads, lowest), pool_size, strides)
    else:
        raise ValueError(f"max_pool: `padding` must be 'valid' or 'same', received {padding!r}")
    return _from_channels_first(out, data_format)


def average_pool(inputs, pool_size, strides=None, padding="valid", data_format=None):
    """N-D average pooling; with "same" padding the padded positions are excluded from the mean."""
    x, nd, pool_size, strides, data_format = _pool_args(inputs, pool_size, strides, data_format)
    if x.dtype in INTLIKE:
        x = x.to(floatx())
    padding = padding.lower()
    if padding == "valid":
        out = _AVG_POOL[nd](x, pool_size, strides)
    elif padding == "same":
        pads = _same_pads(x.shape[2:], pool_size, strides, (1,) * nd)
        symmetric = all(b == a and 2 * b <= k for (b, a), k in zip(pads, pool_size))
        if symmetric:
            out = _AVG_POOL[nd](x, pool_size, strides, tuple(b for b, _ in pads), count_include_pad=False)
        else:
            # Sum over the zero-padded window, divided by the number of real pixels in it.
            window_mean = _AVG_POOL[nd](_pad_spatial(x, pads), pool_size, strides)
            ones = torch.ones((1, 1) + tuple(x.shape[2:]), dtype=x.dtype, device=x.device)
            fraction = _AVG_POOL[nd](_pad_spatial(ones, pads), pool_size, strides)
            out = window_mean / fraction
    else:
        raise ValueError(f"average_pool: `padding` must be 'valid' or 'same', received {padding!r}")
    return _from_channels_first(out, data_format)
