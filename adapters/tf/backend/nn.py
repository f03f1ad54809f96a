"""Neural-network ops for TensorFlow: activations, one-hot, losses, normalization, attention."""

# ruff: noqa: A001, A002
import math

import numpy as np
import tensorflow as tf
from kbridge.adapters.tf.backend._common import (
    cast_to,
    axis_list,
    dims,
    pair,
    promote,
    reduce_axis,
    tensor,
    to_float,
)
from kbridge.adapters.tf.backend.math_ops import norm
from kbridge.adapters.tf.backend.numpy_shape import moveaxis

from kbridge import config
from kbridge.backend.dtypes import standardize_dtype

__all__ = [
    "batch_normalization",
    "binary_crossentropy",
    "categorical_crossentropy",
    "celu",
    "dot_product_attention",
    "elu",
    "gelu",
    "glu",
    "hard_sigmoid",
    "hard_silu",
    "hard_tanh",
    "leaky_relu",
    "log_sigmoid",
    "log_softmax",
    "moments",
    "multi_hot",
    "normalize",
    "one_hot",
    "relu",
    "relu6",
    "selu",
    "sigmoid",
    "silu",
    "softmax",
    "softplus",
    "softsign",
    "sparse_categorical_crossentropy",
    "sparse_plus",
    "squareplus",
]


def relu(x):
    """Rectified linear unit `max(x, 0)`."""
    return tf.nn.relu(tensor(x))


def relu6(x):
    """`min(max(x, 0), 6)`."""
    return tf.nn.relu6(tensor(x))


def sigmoid(x):
    """Logistic sigmoid."""
    return tf.math.sigmoid(to_float(x))


def softplus(x):
    """`log(exp(x) + 1)`, computed stably."""
    return tf.math.softplus(to_float(x))


def softsign(x):
    """`x / (abs(x) + 1)`."""
    return tf.nn.softsign(to_float(x))


def silu(x):
    """`x * sigmoid(x)`."""
    x = to_float(x)
    return x * tf.math.sigmoid(x)


def log_sigmoid(x):
    """`log(sigmoid(x))`, computed stably."""
    return tf.math.log_sigmoid(to_float(x))


def leaky_relu(x, negative_slope=0.2):
    """Leaky ReLU: `x` for positive inputs, `negative_slope * x` otherwise."""
    return tf.nn.leaky_relu(to_float(x), alpha=negative_slope)


def hard_sigmoid(x):
    """`relu6(x + 3) / 6`."""
    x = to_float(x)
    return tf.nn.relu6(x + 3.0) / 6.0


def hard_silu(x):
    """`x * hard_sigmoid(x)`."""
    x = to_float(x)
    return x * hard_sigmoid(x)


def elu(x, alpha=1.0):
    """Exponential linear unit."""
    x = to_float(x)
    if alpha == 1.0:
        return tf.nn.elu(x)
    return tf.where(x > 0, x, alpha * tf.math.expm1(tf.math.minimum(x, 0)))


def selu(x):
    """Scaled exponential linear unit."""
    return tf.nn.selu(to_float(x))


def gelu(x, approximate=True):
    """Gaussian error linear unit (tanh approximation by default)."""
    x = to_float(x)
    if approximate:
        inner = math.sqrt(2.0 / math.pi) * (x + 0.044715 * x * x * x)
        return 0.5 * x * (1.0 + tf.math.tanh(inner))
    return 0.5 * x * (1.0 + tf.math.erf(x / math.sqrt(2.0)))


def celu(x, alpha=1.0):
    """Continuously differentiable ELU: `max(x, 0) + min(0, alpha * (exp(x / alpha) - 1))`."""
    x = to_float(x)
    return tf.math.maximum(x, 0.0) + alpha * tf.math.expm1(tf.math.minimum(x, 0.0) / alpha)


def glu(x, axis=-1):
    """Gated linear unit: `a * sigmoid(b)` for the two halves of `x` along `axis`."""
    x = to_float(x)
    if x.shape[axis] is not None and x.shape[axis] % 2:
        raise ValueError(f"glu: the size of axis {axis} must be even, received shape {x.shape}")
    a, b = tf.split(x, 2, axis=axis)
    return a * tf.math.sigmoid(b)


def hard_tanh(x):
    """`clip(x, -1, 1)`."""
    x = to_float(x)
    return tf.clip_by_value(x, -1.0, 1.0)


def softmax(x, axis=-1):
    """Softmax along `axis` (an int or a tuple of ints)."""
    x = to_float(x)
    if isinstance(axis, int):
        return tf.nn.softmax(x, axis=axis)
    shifted = x - tf.stop_gradient(tf.math.reduce_max(x, axis=reduce_axis(axis), keepdims=True))
    exps = tf.math.exp(shifted)
    return exps / tf.math.reduce_sum(exps, axis=reduce_axis(axis), keepdims=True)


def log_softmax(x, axis=-1):
    """Log-softmax along `axis` (an int or a tuple of ints)."""
    x = to_float(x)
    if isinstance(axis, int):
        return tf.nn.log_softmax(x, axis=axis)
    return x - tf.math.reduce_logsumexp(x, axis=reduce_axis(axis), keepdims=True)


def sparse_plus(x):
    """SparsePlus: 0 below -1, `x` above 1, `(x + 1)**2 / 4` between."""
    x = to_float(x)
    between = tf.math.square(x + 1.0) / 4.0
    return tf.where(x <= -1.0, tf.zeros_like(x), tf.where(x >= 1.0, x, between))


def squareplus(x, b=4):
    """`(x + sqrt(x**2 + b)) / 2`."""
    x = to_float(x)
    return (x + tf.math.sqrt(tf.math.square(x) + cast_to(b, x.dtype))) / 2.0


# -- encodings ----------------------------------------------------------------------------------


def one_hot(x, num_classes, axis=-1, dtype=None, sparse=False):
    """One-hot encoding of integer `x` (out-of-range values give all zeros)."""
    x = tensor(x)
    if x.dtype.name not in ("int32", "int64", "uint8"):
        x = tf.cast(x, "int32")
    dtype = config.floatx() if dtype is None else standardize_dtype(dtype)
    result = tf.one_hot(x, num_classes, axis=axis, dtype=dtype)
    return tf.sparse.from_dense(result) if sparse else result


def multi_hot(inputs, num_classes, axis=-1, dtype=None, sparse=False):
    """Multi-hot encoding of integer `inputs`, whose last axis is the set of indices."""
    inputs = tensor(inputs)
    rank = inputs.shape.rank
    dtype = config.floatx() if dtype is None else standardize_dtype(dtype)
    encoded = one_hot(inputs, num_classes, axis=axis, dtype="int32")
    position = axis if axis >= 0 else axis + rank + 1
    set_axis = max(rank - 1, 0) if position > rank - 1 else rank
    result = tf.cast(tf.math.reduce_max(encoded, axis=set_axis), dtype)
    return tf.sparse.from_dense(result) if sparse else result


# -- losses -----------------------------------------------------------------------------------


def _loss_operands(target, output, op):
    target, output = pair(target, output)
    if not output.dtype.is_floating:
        dtype = promote(output.dtype.name, float)
        target, output = tf.cast(target, dtype), tf.cast(output, dtype)
    if target.shape.rank != output.shape.rank:
        raise ValueError(
            f"{op}: `target` and `output` must have the same rank, "
            f"received target.shape={target.shape}, output.shape={output.shape}"
        )
    for a, b in zip(target.shape, output.shape):
        if a is not None and b is not None and a != b:
            raise ValueError(
                f"{op}: `target` and `output` must have the same shape, "
                f"received target.shape={target.shape}, output.shape={output.shape}"
            )
    return target, output


def _clip_probabilities(output):
    eps = config.epsilon()
    return tf.clip_by_value(output, tf.constant(eps, output.dtype), tf.constant(1.0 - eps, output.dtype))


def categorical_crossentropy(target, output, from_logits=False, axis=-1):
    """Crossentropy between one-hot (or soft) `target` and `output` along `axis`."""
    target, output = _loss_operands(target, output, "categorical_crossentropy")
    if target.shape.rank < 1:
        raise ValueError(f"categorical_crossentropy: inputs must be at least 1-D, received shape {target.shape}")
    if from_logits:
        return tf.nn.softmax_cross_entropy_with_logits(labels=target, logits=output, axis=axis)
    output = output / tf.math.reduce_sum(output, axis=axis, keepdims=True)
    return -tf.math.reduce_sum(target * tf.math.log(_clip_probabilities(output)), axis=axis)


def sparse_categorical_crossentropy(target, output, from_logits=False, axis=-1):
    """Crossentropy between integer `target` and `output` whose class axis is `axis`."""
    output = to_float(output)
    target = tensor(target)
    if target.dtype.name not in ("int32", "int64"):
        target = tf.cast(target, "int32")
    rank = output.shape.rank
    if rank < 1:
        raise ValueError(f"sparse_categorical_crossentropy: `output` must be at least 1-D, received {output.shape}")
    axis = axis % rank
    if axis != rank - 1:
        output = moveaxis(output, axis, -1)
    if target.shape.rank == rank and target.shape[-1] == 1:
        target = tf.squeeze(target, axis=-1)
    if target.shape.rank != rank - 1:
        raise ValueError(
            "sparse_categorical_crossentropy: `target` must have one axis fewer than `output`, "
            f"received target.shape={target.shape}, output.shape={output.shape}"
        )
    if from_logits:
        return tf.nn.sparse_softmax_cross_entropy_with_logits(labels=target, logits=output)
    output = _clip_probabilities(output / tf.math.reduce_sum(output, axis=-1, keepdims=True))
    picked = tf.gather(output, target, axis=-1, batch_dims=rank - 1)
    return -tf.math.log(picked)


def binary_crossentropy(target, output, from_logits=False):
    """Element-wise binary crossentropy."""
    target, output = _loss_operands(target, output, "binary_crossentropy")
    if from_logits:
        return tf.nn.sigmoid_cross_entropy_with_logits(labels=target, logits=output)
    output = _clip_probabilities(output)
    return -(target * tf.math.log(output) + (1.0 - target) * tf.math.log(1.0 - output))


# -- normalization ----------------------------------------------------------------------------


def moments(x, axes, keepdims=False, synchronized=False):
    """Mean and variance of `x` over `axes` (all-reduced across replicas when `synchronized`)."""
    x = to_float(x)
    source = x.dtype.name
    if source in ("float16", "bfloat16"):
        # Half precision overflows in the squared sums: compute in float32.
        x = tf.cast(x, "float32")
    axes = axis_list(axes, x.shape.rank, "moments")
    replica = tf.distribute.get_replica_context() if synchronized else None
    if replica is not None and replica.num_replicas_in_sync > 1:
        total = tf.math.reduce_sum(x, axis=axes, keepdims=True)
        total_sq = tf.math.reduce_sum(tf.math.square(x), axis=axes, keepdims=True)
        count = tf.cast(tf.math.reduce_prod(tf.gather(tf.shape(x), axes)), x.dtype)
        total, total_sq, count = replica.all_reduce(tf.distribute.ReduceOp.SUM, [total, total_sq, count])
        mean = total / count
        variance = tf.math.maximum(total_sq / count - tf.math.square(mean), 0.0)
    else:
        mean = tf.math.reduce_mean(x, axis=axes, keepdims=True)
        variance = tf.math.reduce_mean(tf.math.squared_difference(x, tf.stop_gradient(mean)), axis=axes, keepdims=True)
    if not keepdims:
        mean = tf.squeeze(mean, axis=axes)
        variance = tf.squeeze(variance, axis=axes)
    if source in ("float16", "bfloat16"):
        limit = float(tf.as_dtype(source).max)
        mean = tf.cast(tf.clip_by_value(mean, -limit, limit), source)
        variance = tf.cast(tf.clip_by_value(variance, -limit, limit), source)
    return mean, variance


def batch_normalization(x, mean, variance, axis, offset=None, scale=None, epsilon=1e-3):
    """Normalizes `x` with the given statistics along feature `axis`."""
    x = to_float(x)
    dtype = x.dtype.name
    rank = x.shape.rank
    axis = axis % rank

    def prepare(value):
        value = tensor(value, dtype)
        if value.shape.rank == 1 and axis != rank - 1:
            shape = [1] * rank
            shape[axis] = -1
            value = tf.reshape(value, shape)
        return value

    inv = tf.math.rsqrt(prepare(variance) + tf.constant(epsilon, dtype))
    if scale is not None:
        inv = inv * prepare(scale)
    shift = -prepare(mean) * inv
    if offset is not None:
        shift = shift + prepare(offset)
    return x * inv + shift


def normalize(x, axis=-1, order=2, epsilon=None):
    """Scales `x` to unit `order`-norm along `axis`."""
    if not isinstance(order, int) or order < 1:
        raise ValueError(f"normalize: `order` must be an int >= 1, received {order!r}")
    x = to_float(x)
    if x.shape.rank == 0:
        x = x[None]
    epsilon = config.epsilon() if epsilon is None else epsilon
    if order == 2:
        square_sum = tf.math.reduce_sum(tf.math.square(x), axis=axis, keepdims=True)
        inv_norm = tf.math.minimum(tf.math.rsqrt(square_sum), cast_to(1.0 / epsilon, x.dtype))
        return x * inv_norm
    denom = tf.math.maximum(norm(x, ord=order, axis=axis, keepdims=True), tf.constant(epsilon, x.dtype))
    return x / denom


# -- attention --------------------------------------------------------------------------------


def dot_product_attention(query, key, value, bias=None, mask=None, scale=None, is_causal=False):
    """Scaled dot-product attention on `(batch, seq, heads, head_dim)` tensors.

    Key/value may have fewer heads than the query (grouped-query attention) when
    they divide it. `bias` is added to and `mask` (True = attend) applied to the
    `(batch, heads, query_seq, key_seq)` logits; `is_causal` masks future keys.
    """
    query, key, value = [to_float(v) for v in (query, key, value)]
    dtype = promote(promote(query.dtype.name, key.dtype.name), value.dtype.name)
    query, key, value = [tf.cast(v, dtype) for v in (query, key, value)]
    for name, v in (("query", query), ("key", key), ("value", value)):
        if v.shape.rank != 4:
            raise ValueError(
                f"dot_product_attention: `{name}` must be 4-D (batch, seq, heads, head_dim), received {v.shape}"
            )
    query_heads, kv_heads = query.shape[2], key.shape[2]
    if query_heads is None or kv_heads is None:
        groups = tf.shape(query)[2] // tf.shape(key)[2]
        key, value = tf.repeat(key, groups, axis=2), tf.repeat(value, groups, axis=2)
    elif query_heads != kv_heads:
        if query_heads % kv_heads:
            raise ValueError(
                f"dot_product_attention: query heads ({query_heads}) must be a multiple of key heads ({kv_heads})"
            )
        key = tf.repeat(key, query_heads // kv_heads, axis=2)
        value = tf.repeat(value, query_heads // kv_heads, axis=2)
    # Logits and softmax run in at least float32.
    logits_dtype = promote(dtype, "float32")
    logits = tf.cast(tf.einsum("btnh,bsnh->bnts", query, key), logits_dtype)
    if scale is None:
        head_dim = dims(query)[-1]
        scale = (
            1.0 / math.sqrt(head_dim) if isinstance(head_dim, int) else tf.math.rsqrt(tf.cast(head_dim, logits_dtype))
        )
    logits = logits * cast_to(scale, logits_dtype)
    if bias is not None:
        logits = logits + tensor(bias, logits_dtype)
    if mask is not None or is_causal:
        keep = tf.ones_like(logits, dtype="bool")
        if mask is not None:
            keep = tf.math.logical_and(keep, tensor(mask, "bool"))
        if is_causal:
            sizes = dims(logits)
            causal = tf.range(sizes[3])[None, :] <= tf.range(sizes[2])[:, None]
            keep = tf.math.logical_and(keep, causal)
        very_negative = tf.constant(-0.7 * float(np.finfo(np.dtype(logits_dtype)).max), logits_dtype)
        logits = tf.where(keep, logits, very_negative)
    probs = tf.cast(tf.nn.softmax(logits, axis=-1), dtype)
    return tf.einsum("bnts,bsnh->btnh", probs, value)
