"""NumPy backend: activations, one-hot encodings, losses, normalization and attention (`kbridge.ops.nn`).

Convolution and pooling live in `conv.py`.
"""

import math

import numpy as np

from kbridge import config

from .core import as_dtype, axis_arg, float_dtype, np_dtype, promote, tensor, to_float
from .math_ops import erf

_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def _zero(x):
    return np.zeros((), x.dtype)


# -- activations -----------------------------------------------------------------------------------


def relu(x):
    """Rectified linear unit `max(x, 0)`."""
    x = tensor(x)
    return np.maximum(x, _zero(x))


def relu6(x):
    """`min(max(x, 0), 6)` (ints give `floatx()`)."""
    x = to_float(x)
    return np.clip(x, _zero(x), np.asarray(6, x.dtype))


def sigmoid(x):
    """Logistic sigmoid, exact in both tails."""
    x = to_float(x)
    with np.errstate(all="ignore"):
        e = np.exp(-np.abs(x))
        return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


def softplus(x):
    """`log(exp(x) + 1)`, computed stably."""
    x = to_float(x)
    return np.logaddexp(x, _zero(x))


def softsign(x):
    """`x / (abs(x) + 1)`."""
    x = to_float(x)
    return x / (np.abs(x) + 1)


def silu(x):
    """`x * sigmoid(x)`."""
    x = to_float(x)
    return x * sigmoid(x)


def log_sigmoid(x):
    """`log(sigmoid(x))`, computed stably."""
    x = to_float(x)
    return -np.logaddexp(-x, _zero(x))


def leaky_relu(x, negative_slope=0.2):
    """Leaky ReLU: `x` where positive, `negative_slope * x` elsewhere."""
    x = to_float(x)
    return np.where(x >= 0, x, x * negative_slope)


def hard_sigmoid(x):
    """`relu6(x + 3) / 6`."""
    x = to_float(x)
    return np.clip(x / 6 + 0.5, 0, 1).astype(x.dtype)


def hard_silu(x):
    """`x * hard_sigmoid(x)`."""
    x = to_float(x)
    return x * hard_sigmoid(x)


def elu(x, alpha=1.0):
    """Exponential linear unit."""
    x = to_float(x)
    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, _zero(x))))


def selu(x):
    """Scaled exponential linear unit."""
    x = to_float(x)
    negative = _SELU_ALPHA * np.expm1(np.minimum(x, _zero(x)))
    return (_SELU_SCALE * np.where(x > 0, x, negative)).astype(x.dtype)


def gelu(x, approximate=True):
    """Gaussian error linear unit (tanh approximation by default)."""
    x = to_float(x)
    if approximate:
        inner = _SQRT_2_OVER_PI * (x + 0.044715 * (x * x * x))
        return (0.5 * x * (1 + np.tanh(inner))).astype(x.dtype)
    return (0.5 * x * (1 + erf(x / math.sqrt(2.0)))).astype(x.dtype)


def celu(x, alpha=1.0):
    """Continuously differentiable ELU: `max(x, 0) + alpha * expm1(min(x, 0) / alpha)`."""
    x = to_float(x)
    return np.maximum(x, _zero(x)) + alpha * np.expm1(np.minimum(x, _zero(x)) / alpha)


def glu(x, axis=-1):
    """Gated linear unit: first half times the sigmoid of the second half along `axis`."""
    x = to_float(x)
    if x.shape[axis] % 2:
        raise ValueError(f"glu: axis {axis} must have an even size, received shape {x.shape}")
    a, b = np.split(x, 2, axis=axis)
    return a * sigmoid(b)


def hard_tanh(x):
    """`clip(x, -1, 1)` (keeps integer dtypes; bools give int32)."""
    x = tensor(x)
    if x.dtype.kind == "b":
        x = x.astype(np.int32)
    return np.clip(x, np.asarray(-1).astype(x.dtype) if x.dtype.kind != "u" else _zero(x), np.ones((), x.dtype))


def sparse_plus(x):
    """0 below -1, `x` above 1, `(x + 1)^2 / 4` between."""
    x = to_float(x)
    middle = (x + 1) * (x + 1) / 4
    return np.where(x <= -1, _zero(x), np.where(x >= 1, x, middle))


def squareplus(x, b=4):
    """`(x + sqrt(x**2 + b)) / 2`."""
    x = to_float(x)
    return ((x + np.sqrt(x * x + b)) / 2).astype(x.dtype)


def softmax(x, axis=-1):
    """Softmax along `axis` (an int or a tuple of ints)."""
    x = to_float(x)
    axis = axis_arg(axis)
    with np.errstate(all="ignore"):
        shifted = np.exp(x - np.max(x, axis=axis, keepdims=True))
        return shifted / np.sum(shifted, axis=axis, keepdims=True)


def log_softmax(x, axis=-1):
    """Log-softmax along `axis`."""
    x = to_float(x)
    axis = axis_arg(axis)
    with np.errstate(all="ignore"):
        shifted = x - np.max(x, axis=axis, keepdims=True)
        return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


# -- encodings -------------------------------------------------------------------------------------


def one_hot(x, num_classes, axis=-1, dtype=None, sparse=False):
    """One-hot encoding of integer `x`; out-of-range entries (e.g. -1) give all zeros."""
    if sparse:
        raise ValueError("one_hot: sparse=True is not supported by the numpy backend.")
    x = tensor(x)
    num_classes = int(num_classes)
    dtype = np_dtype(config.floatx() if dtype is None else dtype)
    flat = x.reshape(-1).astype(np.int64)
    out = np.zeros((flat.shape[0], num_classes), dtype=dtype)
    valid = (flat >= 0) & (flat < num_classes)
    out[np.nonzero(valid)[0], flat[valid]] = 1
    out = out.reshape(x.shape + (num_classes,))
    return out if axis == -1 else np.moveaxis(out, -1, axis)


def multi_hot(inputs, num_classes, axis=-1, dtype=None, sparse=False):
    """Multi-hot encoding: for (batch, k) ints, shape (batch, num_classes) with ones at the listed classes."""
    inputs = tensor(inputs)
    encoded = one_hot(inputs, num_classes, axis=axis, dtype=dtype, sparse=sparse)
    return np.max(encoded, axis=1 if inputs.ndim > 1 else 0)


# -- losses ----------------------------------------------------------------------------------------


def _clipped_log(probabilities):
    eps = config.epsilon()
    with np.errstate(all="ignore"):
        return np.log(np.clip(probabilities, eps, 1.0 - eps))


def categorical_crossentropy(target, output, from_logits=False, axis=-1):
    """Crossentropy between one-hot (or soft) `target` and `output` along `axis`."""
    (target, output), _ = promote(target, output, extra=(float,))
    if target.shape != output.shape or target.ndim < 1:
        raise ValueError(
            "categorical_crossentropy: target and output must have the same shape of rank >= 1, "
            f"received target.shape={target.shape}, output.shape={output.shape}"
        )
    if from_logits:
        log_prob = log_softmax(output, axis=axis)
    else:
        with np.errstate(all="ignore"):
            log_prob = _clipped_log(output / np.sum(output, axis=axis, keepdims=True))
    return -np.sum(target * log_prob, axis=axis)


def sparse_categorical_crossentropy(target, output, from_logits=False, axis=-1):
    """Crossentropy between integer class `target` and `output` along `axis`."""
    output = to_float(output)
    target = tensor(target)
    if target.ndim == output.ndim and target.shape[-1] == 1:
        target = np.squeeze(target, axis=-1)
    if output.ndim < 1 or target.shape != output.shape[:axis % output.ndim] + output.shape[axis % output.ndim + 1 :]:
        raise ValueError(
            "sparse_categorical_crossentropy: target must have the shape of output without the class axis, "
            f"received target.shape={target.shape}, output.shape={output.shape}"
        )
    if from_logits:
        log_prob = log_softmax(output, axis=axis)
    else:
        with np.errstate(all="ignore"):
            log_prob = _clipped_log(output / np.sum(output, axis=axis, keepdims=True))
    picked = np.take_along_axis(log_prob, np.expand_dims(target.astype(np.int64), axis), axis=axis)
    return -np.squeeze(picked, axis=axis)


def binary_crossentropy(target, output, from_logits=False):
    """Element-wise binary crossentropy."""
    (target, output), _ = promote(target, output, extra=(float,))
    if target.shape != output.shape:
        raise ValueError(
            f"binary_crossentropy: target and output must have the same shape, received target.shape={target.shape}, "
            f"output.shape={output.shape}"
        )
    if from_logits:
        # max(x, 0) - x * t + log(1 + exp(-|x|)): never overflows.
        with np.errstate(all="ignore"):
            return np.maximum(output, _zero(output)) - output * target + np.log1p(np.exp(-np.abs(output)))
    eps = config.epsilon()
    output = np.clip(output, eps, 1.0 - eps)
    return -(target * np.log(output) + (1 - target) * np.log(1 - output))


# -- normalization ---------------------------------------------------------------------------------


def moments(x, axes, keepdims=False, synchronized=False):
    """Mean and variance of `x` over `axes` (float16 statistics are computed in float32)."""
    x = tensor(x)
    dtype = float_dtype(x.dtype)
    compute = np.dtype(np.float32) if dtype.itemsize < 4 else dtype
    axes = axis_arg(axes)
    values = x.astype(compute)
    with np.errstate(all="ignore"):
        mean = np.mean(values, axis=axes, keepdims=True)
        variance = np.mean(np.square(values - mean), axis=axes, keepdims=True)
    if not keepdims:
        mean, variance = np.squeeze(mean, axis=axes), np.squeeze(variance, axis=axes)
    if compute != dtype:
        info = np.finfo(np.float16) if dtype == np.float16 else None
        if info is not None:
            mean = np.clip(mean, info.min, info.max)
            variance = np.clip(variance, info.min, info.max)
        mean, variance = mean.astype(dtype), variance.astype(dtype)
    return mean, variance


def batch_normalization(x, mean, variance, axis, offset=None, scale=None, epsilon=1e-3):
    """`(x - mean) / sqrt(variance + epsilon) * scale + offset`, statistics laid along `axis`."""
    x = to_float(x)
    shape = [1] * x.ndim
    shape[axis] = x.shape[axis]

    def laid_out(value):
        value = as_dtype(tensor(value), x.dtype)
        return value.reshape(shape) if value.ndim == 1 else value

    with np.errstate(all="ignore"):
        inverse = 1 / np.sqrt(laid_out(variance) + epsilon)
        if scale is not None:
            inverse = inverse * laid_out(scale)
        shift = -laid_out(mean) * inverse
        if offset is not None:
            shift = shift + laid_out(offset)
        return (x * inverse + shift).astype(x.dtype)


def normalize(x, axis=-1, order=2, epsilon=None):
    """Scales `x` to unit `order`-norm along `axis` (norms below `epsilon` count as `epsilon`)."""
    if not isinstance(order, int) or order < 1:
        raise ValueError(f"normalize: order must be an int >= 1, received {order!r}")
    x = to_float(x)
    epsilon = config.epsilon() if epsilon is None else epsilon
    axis = axis_arg(axis)
    with np.errstate(all="ignore"):
        if order == 2:
            inverse = 1 / np.sqrt(np.sum(x * x, axis=axis, keepdims=True))
            return x * np.minimum(inverse, np.asarray(1 / epsilon, x.dtype))
        norms = np.linalg.norm(x, ord=order, axis=axis if isinstance(axis, tuple) else (axis,), keepdims=True)
        return (x / np.maximum(norms, epsilon)).astype(x.dtype)


# -- attention -------------------------------------------------------------------------------------


def dot_product_attention(query, key, value, bias=None, mask=None, scale=None, is_causal=False):
    """Scaled dot-product attention on (batch, seq, heads, head_dim) tensors.

    Query heads may be a multiple of key/value heads (grouped-query attention).
    `mask` (True = attend) and `bias` broadcast to (batch, heads, q_seq, kv_seq).
    The softmax runs in float32 at least.
    """
    (query, key, value), dtype = promote(query, key, value, extra=(float,))
    if query.ndim != 4 or key.ndim != 4 or value.ndim != 4:
        raise ValueError(
            "dot_product_attention: query, key and value must be 4-D (batch, seq, heads, head_dim), received "
            f"{query.shape}, {key.shape}, {value.shape}"
        )
    heads, kv_heads = query.shape[2], key.shape[2]
    if heads % kv_heads or value.shape[2] != kv_heads:
        raise ValueError(
            f"dot_product_attention: query heads ({heads}) must be a multiple of key/value heads "
            f"({kv_heads}, {value.shape[2]})"
        )
    if kv_heads != heads:
        key = np.repeat(key, heads // kv_heads, axis=2)
        value = np.repeat(value, heads // kv_heads, axis=2)
    if scale is None:
        scale = 1.0 / math.sqrt(query.shape[-1])
    else:  # a Python number stays exact (tensor() would round it to floatx)
        scale = float(scale) if isinstance(scale, (int, float, np.number)) else float(tensor(scale))
    compute = np.promote_types(dtype, np.float32) if dtype.kind == "f" else np.dtype(np.float32)
    logits = np.einsum("btnh,bsnh->bnts", query.astype(compute), key.astype(compute), optimize=True) * compute.type(scale)
    if bias is not None:
        logits = logits + as_dtype(tensor(bias), compute)
    keep = None
    if mask is not None:
        keep = tensor(mask).astype(bool)
    if is_causal:
        causal = np.tril(np.ones(logits.shape[-2:], dtype=bool))
        keep = causal if keep is None else keep & causal
    if keep is not None:
        # A large finite negative (not -inf) keeps fully masked rows finite, as JAX does.
        logits = np.where(keep, logits, compute.type(-0.7 * np.finfo(dtype if dtype.kind == "f" else compute).max))
    probabilities = softmax(logits, axis=-1).astype(dtype)
    out = np.einsum("bnts,bsnh->btnh", probabilities.astype(compute), value.astype(compute), optimize=True)
    return out.astype(dtype)
