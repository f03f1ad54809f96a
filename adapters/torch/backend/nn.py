"""Activations, losses, normalization and attention of the torch backend (Keras 3 `keras.ops.nn`)."""

# ruff: noqa: A001, A002
import numpy as np
import torch
import torch.nn.functional as F

from kbridge import config
from kbridge.adapters.torch.backend._common import INTLIKE, Tensor, convert, floatx, pair_tensors, to_torch_dtype

__all__ = [
    "relu", "relu6", "sigmoid", "softplus", "softsign", "silu", "log_sigmoid", "leaky_relu",
    "hard_sigmoid", "hard_silu", "elu", "selu", "gelu", "celu", "glu", "hard_tanh", "softmax",
    "log_softmax", "sparse_plus", "squareplus", "one_hot", "multi_hot", "categorical_crossentropy",
    "sparse_categorical_crossentropy", "binary_crossentropy", "moments", "batch_normalization",
    "normalize", "dot_product_attention",
]  # fmt: skip


def _f(x):
    if not isinstance(x, Tensor):
        x = convert(x)
    if x.dtype in INTLIKE:
        x = x.to(floatx())
    return x


# -- activations --------------------------------------------------------------------------


def relu(x):
    """Rectified linear unit `max(x, 0)`."""
    if not isinstance(x, Tensor):
        x = convert(x)
    return torch.relu(x)


def relu6(x):
    """`min(max(x, 0), 6)`."""
    return F.relu6(_f(x))


def sigmoid(x):
    """Logistic sigmoid."""
    if not isinstance(x, Tensor) or x.dtype in INTLIKE:
        x = _f(x)
    return torch.sigmoid(x)


def softplus(x):
    """`log(exp(x) + 1)`, computed stably."""
    x = _f(x)
    # F.softplus switches to the identity above a threshold; logaddexp is exact everywhere.
    return torch.logaddexp(x, torch.zeros((), dtype=x.dtype, device=x.device))


def softsign(x):
    """`x / (abs(x) + 1)`."""
    return F.softsign(_f(x))


def silu(x):
    """`x * sigmoid(x)`."""
    if not isinstance(x, Tensor) or x.dtype in INTLIKE:
        x = _f(x)
    return F.silu(x)


def log_sigmoid(x):
    """`log(sigmoid(x))`, computed stably."""
    return F.logsigmoid(_f(x))


def leaky_relu(x, negative_slope=0.2):
    """Leaky ReLU."""
    return F.leaky_relu(_f(x), negative_slope)


def hard_sigmoid(x):
    """`relu6(x + 3) / 6`."""
    return F.hardsigmoid(_f(x))


def hard_silu(x):
    """`x * hard_sigmoid(x)`."""
    return F.hardswish(_f(x))


def elu(x, alpha=1.0):
    """Exponential linear unit."""
    return F.elu(_f(x), alpha=alpha)


def selu(x):
    """Scaled exponential linear unit."""
    return F.selu(_f(x))


def gelu(x, approximate=True):
    """Gaussian error linear unit (tanh approximation by default)."""
    return F.gelu(_f(x), approximate="tanh" if approximate else "none")


def celu(x, alpha=1.0):
    """Continuously differentiable ELU."""
    return F.celu(_f(x), alpha=alpha)


def glu(x, axis=-1):
    """Gated linear unit: first half times sigmoid of the second half along `axis`."""
    x = _f(x)
    if x.shape[axis] % 2:
        raise ValueError(f"glu: axis {axis} must have an even size, received shape {tuple(x.shape)}")
    return F.glu(x, dim=axis)


def hard_tanh(x):
    """`clip(x, -1, 1)` (ints stay ints)."""
    if not isinstance(x, Tensor):
        x = convert(x)
    if x.dtype in INTLIKE:
        return torch.clamp(x, -1, 1)
    return F.hardtanh(x)


def _multi_axis(x, axis):
    # Softmax over several axes: move them last and flatten them into one.
    axes = sorted(a % x.ndim for a in axis)
    kept = [d for d in range(x.ndim) if d not in axes]
    moved = x.permute(kept + axes)
    flat = moved.reshape(tuple(moved.shape[: len(kept)]) + (-1,))
    return flat, moved.shape, kept + axes


def _restore(out, moved_shape, order):
    inverse = [0] * len(order)
    for position, dim in enumerate(order):
        inverse[dim] = position
    return out.reshape(moved_shape).permute(inverse)


def softmax(x, axis=-1):
    """Softmax along `axis` (an int, None for all axes, or a tuple)."""
    if not isinstance(x, Tensor) or x.dtype in INTLIKE:
        x = _f(x)
    if type(axis) is int:
        return torch.softmax(x, axis)
    axis = range(x.ndim) if axis is None else axis
    flat, moved_shape, order = _multi_axis(x, axis)
    return _restore(torch.softmax(flat, dim=-1), moved_shape, order)


def log_softmax(x, axis=-1):
    """Log-softmax along `axis` (an int, None for all axes, or a tuple)."""
    if not isinstance(x, Tensor) or x.dtype in INTLIKE:
        x = _f(x)
    if type(axis) is int:
        return torch.log_softmax(x, axis)
    axis = range(x.ndim) if axis is None else axis
    flat, moved_shape, order = _multi_axis(x, axis)
    return _restore(torch.log_softmax(flat, dim=-1), moved_shape, order)


def sparse_plus(x):
    """SparsePlus: 0 for x <= -1, x for x >= 1, else (x + 1)^2 / 4."""
    x = _f(x)
    return torch.where(x <= -1, torch.zeros_like(x), torch.where(x >= 1, x, (x + 1) ** 2 / 4))


def squareplus(x, b=4):
    """`(x + sqrt(x**2 + b)) / 2`."""
    x = _f(x)
    return (x + torch.sqrt(x * x + b)) / 2


# -- encodings ----------------------------------------------------------------------------


def one_hot(x, num_classes, axis=-1, dtype=None, sparse=False):
    """One-hot encoding of integer `x` (out-of-range values give all zeros)."""
    if sparse:
        raise ValueError("one_hot: the torch backend does not support sparse=True.")
    x = x if isinstance(x, Tensor) else convert(x)
    classes = torch.arange(num_classes, device=x.device)
    out = (x.long().unsqueeze(-1) == classes).to(floatx() if dtype is None else to_torch_dtype(dtype))
    if axis != -1 and axis != out.ndim - 1:
        out = torch.movedim(out, -1, axis)
    return out


def multi_hot(inputs, num_classes, axis=-1, dtype=None, sparse=False):
    """Multi-hot encoding: the union of the one-hot rows of each sample (the last input axis)."""
    if sparse:
        raise ValueError("multi_hot: the torch backend does not support sparse=True.")
    inputs = inputs if isinstance(inputs, Tensor) else convert(inputs)
    reduce_axis = 1 if inputs.ndim > 1 else 0
    encoded = one_hot(inputs, num_classes, axis=axis, dtype="bool")
    return torch.any(encoded, dim=reduce_axis).to(floatx() if dtype is None else to_torch_dtype(dtype))


# -- losses -------------------------------------------------------------------------------


def _check_same_shape(name, target, output):
    if target.shape != output.shape:
        raise ValueError(
            f"{name}: `target` and `output` must have the same shape, "
            f"received target.shape={tuple(target.shape)}, output.shape={tuple(output.shape)}"
        )


def categorical_crossentropy(target, output, from_logits=False, axis=-1):
    """Crossentropy between a one-hot (or soft) `target` and `output` along `axis`."""
    target, output = pair_tensors(target, output)
    target, output = _f(target), _f(output)
    _check_same_shape("categorical_crossentropy", target, output)
    if from_logits:
        log_prob = torch.log_softmax(output, dim=axis)
    else:
        output = output / torch.sum(output, dim=axis, keepdim=True)
        eps = config.epsilon()
        log_prob = torch.log(torch.clamp(output, eps, 1.0 - eps))
    return -torch.sum(target * log_prob, dim=axis)


_NO_LABEL = -(2**63)


def sparse_categorical_crossentropy(target, output, from_logits=False, axis=-1):
    """Crossentropy between integer `target` and `output` along `axis`."""
    output = _f(output)
    target = target if isinstance(target, Tensor) else convert(target, device=output.device)
    if target.ndim == output.ndim and target.shape[-1] == 1:
        target = target.squeeze(-1)
    if target.ndim != output.ndim - 1:
        raise ValueError(
            "sparse_categorical_crossentropy: `target` must have one axis fewer than `output`, "
            f"received target.shape={tuple(target.shape)}, output.shape={tuple(output.shape)}"
        )
    axis = axis % output.ndim
    if from_logits:
        # One fused kernel (log-softmax + pick) forward and backward; classes go on dim 1.
        classes_first = output if axis == 1 else torch.movedim(output, axis, 1)
        # No label is ignored here (torch skips -100 by default; kbridge's losses handle ignore_class).
        return torch.nn.functional.cross_entropy(classes_first, target.long(), reduction="none", ignore_index=_NO_LABEL)
    output = output / torch.sum(output, dim=axis, keepdim=True)
    eps = config.epsilon()
    log_prob = torch.log(torch.clamp(output, eps, 1.0 - eps))
    picked = torch.gather(log_prob, axis, target.long().unsqueeze(axis))
    return -picked.squeeze(axis)


def fused_sparse_crossentropy_mean(target, output, from_logits, axis):
    """Mean crossentropy of integer `target` and logits `output` (batch, classes) as one
    `F.cross_entropy` (what `sparse_categorical_crossentropy` + sum / batch size compute), or
    None when the operands are not that case."""
    if not from_logits or not isinstance(output, Tensor) or output.ndim != 2 or axis not in (-1, 1):
        return None
    if not output.is_floating_point():
        return None
    if not isinstance(target, Tensor):
        if not isinstance(target, np.ndarray):
            return None
        target = convert(target, device=output.device)
    if target.ndim == 2 and target.shape[1] == 1:
        target = target.squeeze(1)
    if target.ndim != 1 or target.shape[0] != output.shape[0] or target.is_complex():
        return None
    return F.cross_entropy(output, target.long(), ignore_index=_NO_LABEL)


def binary_crossentropy(target, output, from_logits=False):
    """Element-wise binary crossentropy."""
    target, output = pair_tensors(target, output)
    target, output = _f(target), _f(output)
    _check_same_shape("binary_crossentropy", target, output)
    if from_logits:
        # max(x, 0) - x * t + log(1 + exp(-|x|)), stable for large |x|.
        return torch.relu(output) - output * target + torch.log1p(torch.exp(-torch.abs(output)))
    eps = config.epsilon()
    output = torch.clamp(output, eps, 1.0 - eps)
    return -(target * torch.log(output) + (1.0 - target) * torch.log(1.0 - output))


# -- normalization ------------------------------------------------------------------------


def moments(x, axes, keepdims=False, synchronized=False):
    """Mean and (population) variance of `x` over `axes`; float16 is computed in float32."""
    if synchronized:
        raise NotImplementedError("moments: synchronized=True is not supported by the torch backend.")
    if not isinstance(x, Tensor):
        x = convert(x)
    dtype = x.dtype
    if dtype in INTLIKE:
        x = x.to(floatx())
        dtype = x.dtype
    elif dtype is torch.float16 or dtype is torch.bfloat16:
        x = x.float()
    dims = axes if isinstance(axes, int) else tuple(axes)
    variance, mean = torch.var_mean(x, dim=dims, correction=0, keepdim=keepdims)
    if x.dtype is not dtype:
        # Large half-precision values can overflow the variance; clamp before casting back.
        info = torch.finfo(dtype)
        mean = mean.to(dtype)
        variance = torch.clamp(variance, max=info.max).to(dtype)
    return mean, variance


def _like(value, x):
    return value if isinstance(value, Tensor) else convert(value, x.dtype, x.device)


def batch_normalization(x, mean, variance, axis, offset=None, scale=None, epsilon=1e-3):
    """`(x - mean) / sqrt(variance + epsilon) * scale + offset`, statistics given along feature `axis`."""
    if not isinstance(x, Tensor):
        x = convert(x)
    mean = _like(mean, x)
    variance = _like(variance, x)
    ndim = x.ndim
    axis = axis % ndim
    scale = None if scale is None else _like(scale, x)
    offset = None if offset is None else _like(offset, x)
    if (
        mean.ndim == 1
        and ndim >= 2
        and (axis == 1 or axis == ndim - 1)
        and not (mean.requires_grad or variance.requires_grad)
        and mean.dtype is x.dtype
        and variance.dtype is x.dtype
        and (scale is None or scale.dtype is x.dtype)
        and (offset is None or offset.dtype is x.dtype)
    ):
        # Fixed statistics (inference): torch's fused kernel. It gives no gradient to
        # mean/variance, hence only when they need none.
        if axis == 1:
            return F.batch_norm(x, mean, variance, scale, offset, False, 0.0, epsilon)
        out = F.batch_norm(x.movedim(-1, 1), mean, variance, scale, offset, False, 0.0, epsilon)
        return out.movedim(1, -1)
    inv = torch.rsqrt(variance + epsilon)
    if scale is not None:
        inv = inv * scale
    shift = -mean * inv if offset is None else offset - mean * inv
    if inv.ndim == 1 and axis != ndim - 1:
        shape = [1] * ndim
        shape[axis] = -1
        inv = inv.reshape(shape)
        shift = shift.reshape(shape)
    return torch.addcmul(shift, x, inv)


def normalize(x, axis=-1, order=2, epsilon=None):
    """Scales `x` to unit `order`-norm along `axis`."""
    if not isinstance(order, int) or isinstance(order, bool) or order < 1:
        raise ValueError(f"normalize: `order` must be an int >= 1, received order={order!r}")
    x = _f(x)
    if x.ndim == 0:
        x = x.unsqueeze(0)
    if epsilon is None:
        epsilon = config.epsilon()
    if order == 2:
        inv_norm = torch.rsqrt(torch.sum(x * x, dim=axis, keepdim=True))
        return x * torch.clamp_max(inv_norm, 1.0 / epsilon)
    norm = torch.linalg.vector_norm(x, ord=order, dim=axis, keepdim=True)
    return x / torch.clamp_min(norm, epsilon)


# -- attention ----------------------------------------------------------------------------


def dot_product_attention(query, key, value, bias=None, mask=None, scale=None, is_causal=False):
    """Scaled dot-product attention on (batch, seq, heads, head_dim) tensors.

    `bias` is added to and `mask` (True = attend) applied to the (batch, heads, q_seq, kv_seq)
    logits; key/value may have fewer heads than query (grouped-query attention).
    """
    query, key = pair_tensors(query, key)
    value = value if isinstance(value, Tensor) else convert(value, query.dtype, query.device)
    if query.ndim != 4 or key.ndim != 4 or value.ndim != 4:
        raise ValueError(
            "dot_product_attention: query, key and value must be 4-D (batch, seq, heads, dim), received "
            f"{tuple(query.shape)}, {tuple(key.shape)}, {tuple(value.shape)}"
        )
    q = query.transpose(1, 2)
    k = key.transpose(1, 2)
    v = value.transpose(1, 2)
    heads, kv_heads = q.shape[1], k.shape[1]
    if heads != kv_heads:
        if heads % kv_heads:
            raise ValueError(f"dot_product_attention: {heads} query heads are not a multiple of {kv_heads} key heads")
        k = k.repeat_interleave(heads // kv_heads, dim=1)
        v = v.repeat_interleave(heads // kv_heads, dim=1)
    attn_mask = None
    if bias is not None:
        attn_mask = bias if isinstance(bias, Tensor) else convert(bias, q.dtype, q.device)
        attn_mask = attn_mask.to(q.dtype)
    if mask is not None or (is_causal and attn_mask is not None):
        allowed = None
        if mask is not None:
            allowed = (mask if isinstance(mask, Tensor) else convert(mask, device=q.device)).to(torch.bool)
        if is_causal:
            q_len, kv_len = q.shape[2], k.shape[2]
            causal = torch.ones((q_len, kv_len), dtype=torch.bool, device=q.device).tril()
            allowed = causal if allowed is None else allowed & causal
        # Keras gives a fully masked row uniform weights (its logits all become one huge negative).
        # Here such a row attends everywhere with a zeroed query instead: the same uniform weights,
        # and zero gradients to that query and to the keys through it, as the other backends'
        # `where` gives (SDPA's backward mis-normalizes rows of huge logits: exp(c - lse) = 1).
        row_any = allowed.any(-1, keepdim=True)
        q = q * row_any.to(q.dtype)
        allowed = allowed | ~row_any
        if attn_mask is None:
            attn_mask = allowed
        else:
            # Masked bias entries are replaced, not added to, so they pass no gradient to `bias`.
            big = -0.7 * torch.finfo(q.dtype).max
            attn_mask = attn_mask.masked_fill(~row_any, 0.0).masked_fill(~allowed, big)
        is_causal = False
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=attn_mask, is_causal=is_causal, scale=scale)
    return out.transpose(1, 2)
