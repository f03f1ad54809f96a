"""Activation functions (Keras 3 `keras.activations`), written once with `kbridge.ops`."""

from kbridge import ops


def relu(x, negative_slope=0.0, max_value=None, threshold=0.0):
    """Rectified linear unit, optionally leaky, capped and thresholded.

    Args:
        x: input tensor.
        negative_slope: slope for values below `threshold`.
        max_value: saturation value (the largest output), or None.
        threshold: values below it are damped (or zeroed).
    """
    if negative_slope != 0.0 and max_value is None and threshold == 0:
        return ops.leaky_relu(x, negative_slope=negative_slope)
    negative_part = None
    if negative_slope != 0.0:
        negative_part = ops.relu(ops.add(ops.negative(x), threshold) if threshold != 0 else ops.negative(x))
    clip_max = max_value is not None
    if threshold != 0:
        x = ops.where(ops.greater(x, threshold), x, ops.zeros_like(x))
    elif max_value == 6:
        x = ops.relu6(x)
        clip_max = False
    else:
        x = ops.relu(x)
    if clip_max:
        x = ops.clip(x, 0.0, float(max_value))
    if negative_part is not None:
        x = ops.subtract(x, ops.multiply(negative_part, negative_slope))
    return x


def leaky_relu(x, negative_slope=0.2):
    """Leaky ReLU: `x` if `x >= 0` else `negative_slope * x`."""
    return ops.leaky_relu(x, negative_slope=negative_slope)


def relu6(x):
    """`min(max(x, 0), 6)`."""
    return ops.relu6(x)


def softmax(x, axis=-1):
    """Softmax along `axis` (outputs sum to 1)."""
    return ops.softmax(x, axis=axis)


def log_softmax(x, axis=-1):
    """Log of the softmax along `axis`."""
    return ops.log_softmax(x, axis=axis)


def elu(x, alpha=1.0):
    """Exponential linear unit: `x` if `x > 0` else `alpha * (exp(x) - 1)`."""
    return ops.elu(x, alpha=alpha)


def selu(x):
    """Scaled exponential linear unit (use with `lecun_normal`)."""
    return ops.selu(x)


def softplus(x):
    """`log(exp(x) + 1)`."""
    return ops.softplus(x)


def softsign(x):
    """`x / (abs(x) + 1)`."""
    return ops.softsign(x)


def soft_shrink(x, threshold=0.5):
    """`x - threshold` above `threshold`, `x + threshold` below `-threshold`, else 0."""
    zero = ops.zeros_like(x)
    shrunk_low = ops.where(ops.less(x, -threshold), ops.add(x, threshold), zero)
    return ops.where(ops.greater(x, threshold), ops.subtract(x, threshold), shrunk_low)


def sparse_plus(x):
    """0 for `x <= -1`, `(x + 1)**2 / 4` for `-1 < x < 1`, `x` above."""
    return ops.sparse_plus(x)


def silu(x):
    """Swish / SiLU: `x * sigmoid(x)`."""
    return ops.silu(x)


swish = silu


def squareplus(x, b=4):
    """`(x + sqrt(x**2 + b)) / 2`."""
    return ops.squareplus(x, b=b)


def gelu(x, approximate=False):
    """Gaussian error linear unit; exact (erf) unless `approximate=True` (tanh form)."""
    return ops.gelu(x, approximate=approximate)


def celu(x, alpha=1.0):
    """Continuously differentiable ELU."""
    return ops.celu(x, alpha=alpha)


def glu(x, axis=-1):
    """Gated linear unit: `a * sigmoid(b)` with `a, b` the halves of `x` along `axis`."""
    return ops.glu(x, axis=axis)


def tanh(x):
    """Hyperbolic tangent."""
    return ops.tanh(x)


def tanh_shrink(x):
    """`x - tanh(x)`."""
    return ops.subtract(x, ops.tanh(x))


def hard_tanh(x):
    """`clip(x, -1, 1)`."""
    return ops.hard_tanh(x)


def hard_shrink(x, threshold=0.5):
    """`x` where `abs(x) > threshold`, else 0."""
    return ops.where(ops.greater(ops.abs(x), threshold), x, ops.zeros_like(x))


def threshold(x, threshold, default_value):
    """`x` where `x > threshold`, else `default_value`."""
    return ops.where(ops.greater(x, threshold), x, ops.full_like(x, default_value))


def sigmoid(x):
    """Logistic sigmoid `1 / (1 + exp(-x))`."""
    return ops.sigmoid(x)


def exponential(x):
    """`exp(x)`."""
    return ops.exp(x)


def hard_sigmoid(x):
    """Piecewise-linear sigmoid: `clip(x / 6 + 0.5, 0, 1)`."""
    return ops.hard_sigmoid(x)


def log_sigmoid(x):
    """`log(sigmoid(x))`."""
    return ops.log_sigmoid(x)


def sparse_sigmoid(x):
    """0 for `x <= -1`, 1 for `x >= 1`, `(x + 1) / 2` between."""
    return ops.clip(ops.multiply(ops.add(x, 1.0), 0.5), 0.0, 1.0)


def hard_silu(x):
    """Hard SiLU / hard swish: `x * hard_sigmoid(x)`."""
    return ops.hard_silu(x)


hard_swish = hard_silu


def linear(x):
    """Identity (pass-through)."""
    return x


def mish(x):
    """`x * tanh(softplus(x))`."""
    return ops.multiply(x, ops.tanh(ops.softplus(x)))


def sparsemax(x, axis=-1):
    """Sparsemax: the Euclidean projection of `x` onto the probability simplex along `axis`."""
    rank = len(ops.shape(x))
    axis = axis % rank
    size = ops.shape(x)[axis]
    logits_sorted = ops.negative(ops.sort(ops.negative(x), axis=axis))
    cumsum = ops.cumsum(logits_sorted, axis=axis)
    r_shape = [1] * rank
    r_shape[axis] = size
    r = ops.reshape(ops.arange(1, size + 1, dtype=ops.dtype(x)), r_shape)
    support = ops.greater(logits_sorted, ops.divide(ops.subtract(cumsum, 1.0), r))
    k = ops.sum(ops.cast(support, ops.dtype(x)), axis=axis, keepdims=True)
    # The support is a prefix of the sorted logits, so their sum there is cumsum[k - 1].
    # (Keras 3.15 sums the cumsums instead, which is wrong once k > 1.)
    support_sum = ops.sum(ops.where(support, logits_sorted, ops.zeros_like(logits_sorted)), axis=axis, keepdims=True)
    tau = ops.divide(ops.subtract(support_sum, 1.0), k)
    return ops.maximum(ops.subtract(x, tau), 0.0)
