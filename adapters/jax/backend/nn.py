"""JAX backend: activations, encodings, losses, normalization and attention (`kbridge.ops.nn`)."""

import math

import jax
import jax.numpy as jnp

from kbridge import config
from kbridge.backend.dtypes import result_type

from .core import _HALF, _INEXACT, _INT32, _axis, _floatx, _jdt, _t, _to_float

_FLOAT32 = jnp.dtype("float32")


def _float_activation(function, name, doc):
    def op(x):
        return function(_to_float(_t(x)))

    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc
    return op


# -- activations -------------------------------------------------------------------------

sigmoid = _float_activation(jax.nn.sigmoid, "sigmoid", "Logistic sigmoid.")
softplus = _float_activation(jax.nn.softplus, "softplus", "`log(exp(x) + 1)`, computed stably.")
softsign = _float_activation(jax.nn.soft_sign, "softsign", "`x / (abs(x) + 1)`.")
silu = _float_activation(jax.nn.silu, "silu", "`x * sigmoid(x)`.")
log_sigmoid = _float_activation(jax.nn.log_sigmoid, "log_sigmoid", "`log(sigmoid(x))`, computed stably.")
hard_sigmoid = _float_activation(jax.nn.hard_sigmoid, "hard_sigmoid", "`relu6(x + 3) / 6`.")
hard_silu = _float_activation(jax.nn.hard_silu, "hard_silu", "`x * hard_sigmoid(x)`.")
selu = _float_activation(jax.nn.selu, "selu", "Scaled exponential linear unit.")
sparse_plus = _float_activation(jax.nn.sparse_plus, "sparse_plus", "SparsePlus: 0, `(x + 1)**2 / 4`, or x.")


def relu(x):
    """Rectified linear unit `max(x, 0)`."""
    return jax.nn.relu(_t(x))


def relu6(x):
    """`min(max(x, 0), 6)`."""
    return jax.nn.relu6(_t(x))


def hard_tanh(x):
    """`clip(x, -1, 1)`."""
    return jax.nn.hard_tanh(_t(x))


def leaky_relu(x, negative_slope=0.2):
    """Leaky ReLU: `x` if positive, else `negative_slope * x`."""
    return jax.nn.leaky_relu(_to_float(_t(x)), negative_slope=negative_slope)


def elu(x, alpha=1.0):
    """Exponential linear unit."""
    return jax.nn.elu(_to_float(_t(x)), alpha=alpha)


def celu(x, alpha=1.0):
    """Continuously differentiable ELU."""
    return jax.nn.celu(_to_float(_t(x)), alpha=alpha)


def gelu(x, approximate=True):
    """Gaussian error linear unit (tanh approximation by default)."""
    return jax.nn.gelu(_to_float(_t(x)), approximate=approximate)


def glu(x, axis=-1):
    """Gated linear unit: `a * sigmoid(b)` for the two halves of `x` along `axis`."""
    x = _to_float(_t(x))
    if x.shape[axis] % 2:
        raise ValueError(f"glu: axis {axis} must have an even size, received shape {x.shape}")
    return jax.nn.glu(x, axis=axis)


def squareplus(x, b=4):
    """`(x + sqrt(x**2 + b)) / 2`."""
    return jax.nn.squareplus(_to_float(_t(x)), b=b)


def softmax(x, axis=-1):
    """Softmax along `axis`."""
    return jax.nn.softmax(_to_float(_t(x)), axis=_axis(axis))


def log_softmax(x, axis=-1):
    """Log-softmax along `axis`."""
    return jax.nn.log_softmax(_to_float(_t(x)), axis=_axis(axis))


# -- encodings ---------------------------------------------------------------------------


def one_hot(x, num_classes, axis=-1, dtype=None, sparse=False):
    """One-hot encoding of integer `x`; out-of-range and negative values give all zeros."""
    if sparse:
        raise ValueError("one_hot: the jax backend does not support sparse=True.")
    x = _t(x)
    if x.dtype in _INEXACT:
        x = x.astype(_INT32)
    dtype = _jdt(config.floatx() if dtype is None else dtype)
    return jax.nn.one_hot(x, num_classes, dtype=dtype, axis=axis)


def multi_hot(inputs, num_classes, axis=-1, dtype=None, sparse=False):
    """Multi-hot encoding of integer `inputs` (the last axis of a 2-D input is the set)."""
    if sparse:
        raise ValueError("multi_hot: the jax backend does not support sparse=True.")
    inputs = _t(inputs)
    encoded = one_hot(inputs, num_classes, axis=axis, dtype=dtype)
    return jnp.max(encoded, axis=1 if inputs.ndim > 1 else 0)


# -- losses ------------------------------------------------------------------------------


def _log_probs(output, from_logits, axis):
    if from_logits:
        return jax.nn.log_softmax(output, axis=axis)
    output = output / jnp.sum(output, axis=axis, keepdims=True)
    epsilon = config.epsilon()
    return jnp.log(jnp.clip(output, epsilon, 1.0 - epsilon))


def categorical_crossentropy(target, output, from_logits=False, axis=-1):
    """Crossentropy between one-hot (or soft) `target` and `output` along `axis`."""
    output = _to_float(_t(output))
    target = _t(target).astype(output.dtype)
    if target.shape != output.shape:
        raise ValueError(
            "categorical_crossentropy: `target` and `output` must have the same shape, "
            f"received target.shape={target.shape}, output.shape={output.shape}"
        )
    if output.ndim < 1:
        raise ValueError(f"categorical_crossentropy: expected rank >= 1, received shape {output.shape}")
    return -jnp.sum(target * _log_probs(output, from_logits, axis), axis=axis)


def sparse_categorical_crossentropy(target, output, from_logits=False, axis=-1):
    """Crossentropy between integer `target` and `output`; out-of-range targets give 0."""
    output = _to_float(_t(output))
    target = _t(target).astype(_INT32)
    if output.ndim < 1:
        raise ValueError(f"sparse_categorical_crossentropy: expected rank >= 1, received shape {output.shape}")
    class_axis = axis % output.ndim
    if target.ndim == output.ndim and target.shape[class_axis] == 1:
        target = jnp.squeeze(target, axis=class_axis)
    expected = output.shape[:class_axis] + output.shape[class_axis + 1 :]
    if target.shape != expected:
        raise ValueError(
            "sparse_categorical_crossentropy: `target` must have the shape of `output` without its class axis, "
            f"received target.shape={target.shape}, output.shape={output.shape}, axis={axis}"
        )
    labels = jax.nn.one_hot(target, output.shape[axis], dtype=output.dtype, axis=axis)
    return -jnp.sum(labels * _log_probs(output, from_logits, axis), axis=axis)


def binary_crossentropy(target, output, from_logits=False):
    """Element-wise binary crossentropy."""
    output = _to_float(_t(output))
    target = _t(target).astype(output.dtype)
    if target.shape != output.shape:
        raise ValueError(
            "binary_crossentropy: `target` and `output` must have the same shape, "
            f"received target.shape={target.shape}, output.shape={output.shape}"
        )
    if from_logits:
        return -target * jax.nn.log_sigmoid(output) - (1.0 - target) * jax.nn.log_sigmoid(-output)
    epsilon = config.epsilon()
    output = jnp.clip(output, epsilon, 1.0 - epsilon)
    return -(target * jnp.log(output) + (1.0 - target) * jnp.log(1.0 - output))


# -- normalization -----------------------------------------------------------------------


def moments(x, axes, keepdims=False, synchronized=False):
    """Mean and variance of `x` over `axes` (float16/bfloat16 computed in float32).

    `synchronized` has no effect: under pmap/sharding, JAX reduces over the global array.
    """
    x = _to_float(_t(x))
    axes = tuple(axes) if isinstance(axes, (list, tuple)) else (axes,)
    dtype = x.dtype
    if dtype in _HALF:
        x = x.astype(_FLOAT32)
    mean = jnp.mean(x, axis=axes, keepdims=True)
    variance = jnp.mean(jnp.square(x - mean), axis=axes, keepdims=True)
    if not keepdims:
        mean, variance = jnp.squeeze(mean, axes), jnp.squeeze(variance, axes)
    if dtype in _HALF:
        limit = float(jnp.finfo(dtype).max)
        mean = jnp.clip(mean, -limit, limit).astype(dtype)
        variance = jnp.clip(variance, -limit, limit).astype(dtype)
    return mean, variance


def batch_normalization(x, mean, variance, axis, offset=None, scale=None, epsilon=1e-3):
    """`(x - mean) / sqrt(variance + epsilon) * scale + offset`, statistics along feature `axis`."""
    x = _t(x)
    shape = [1] * x.ndim
    shape[axis] = x.shape[axis]

    def reshaped(value):
        value = _t(value)
        return value.reshape(shape) if value.ndim == 1 else value

    mean, variance = reshaped(mean), reshaped(variance)
    inverse = jax.lax.rsqrt(variance + epsilon)
    if scale is not None:
        inverse = inverse * reshaped(scale)
    shift = -mean * inverse
    if offset is not None:
        shift = shift + reshaped(offset)
    return x * inverse + shift


def normalize(x, axis=-1, order=2, epsilon=None):
    """Scales `x` to unit `order`-norm along `axis`."""
    x = _to_float(_t(x))
    if epsilon is None:
        epsilon = config.epsilon()
    if order == 2:
        if x.ndim == 0:
            x = x[None]
        squares = jnp.sum(jnp.square(x), axis=axis, keepdims=True)
        return x * jnp.minimum(jax.lax.rsqrt(squares), 1.0 / epsilon)
    norm = jnp.linalg.norm(x, ord=order, axis=axis, keepdims=True)
    return x / jnp.maximum(norm, epsilon)


# -- attention ---------------------------------------------------------------------------


def dot_product_attention(query, key, value, bias=None, mask=None, scale=None, is_causal=False):
    """Scaled dot-product attention on (batch, seq, heads, dim) tensors.

    `bias` is added to and boolean `mask` (True = attend) applied to the logits, both
    broadcastable to (batch, heads, query_seq, key_seq). Key/value heads may divide the
    query heads (grouped-query attention).
    """
    query, key, value = _t(query), _t(key), _t(value)
    if query.ndim != 4 or key.ndim != 4 or value.ndim != 4:
        raise ValueError(
            "dot_product_attention: expected 4D (batch, seq, heads, dim) inputs, received "
            f"query.shape={query.shape}, key.shape={key.shape}, value.shape={value.shape}"
        )
    dtype = _jdt(result_type(query.dtype, key.dtype, value.dtype))
    if dtype not in _INEXACT:
        dtype = _floatx()
    query, key, value = query.astype(dtype), key.astype(dtype), value.astype(dtype)
    heads, kv_heads = query.shape[2], key.shape[2]
    if heads != kv_heads:
        if kv_heads == 0 or heads % kv_heads:
            raise ValueError(
                f"dot_product_attention: query heads ({heads}) must be a multiple of key heads ({kv_heads})"
            )
        key = jnp.repeat(key, heads // kv_heads, axis=2)
        value = jnp.repeat(value, heads // kv_heads, axis=2)
    logits_dtype = _FLOAT32 if dtype in _HALF else dtype
    if scale is None:
        scale = 1.0 / math.sqrt(query.shape[-1])
    if logits_dtype == dtype:
        # The query scaled, not the logits: a (batch, seq, heads, dim) pass instead of a
        # (batch, heads, seq, seq) one (as Keras's einsum attention and hand-written code do).
        query = query * jnp.asarray(scale, dtype)
        logits = jnp.einsum("btnh,bsnh->bnts", query, key, preferred_element_type=logits_dtype)
    else:  # half precision: scaled after the float32 product, where it cannot overflow
        logits = jnp.einsum("btnh,bsnh->bnts", query, key, preferred_element_type=logits_dtype)
        logits = logits * jnp.asarray(scale, logits_dtype)
    if bias is not None:
        logits = logits + _t(bias).astype(logits_dtype)
    keep = None
    if mask is not None:
        keep = _t(mask).astype(bool)
    if is_causal:
        causal = jnp.tril(jnp.ones((query.shape[1], key.shape[1]), bool))
        keep = causal if keep is None else jnp.logical_and(keep, causal)
    if keep is not None:
        # A large finite negative keeps fully masked rows finite (uniform), as Keras.
        logits = jnp.where(keep, logits, jnp.asarray(-0.7 * jnp.finfo(logits_dtype).max, logits_dtype))
    probs = jax.nn.softmax(logits, axis=-1).astype(dtype)
    return jnp.einsum("bnts,bsnh->btnh", probs, value)
