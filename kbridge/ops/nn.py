"""Neural-network ops: activations, convolution, pooling, losses, normalization (Keras 3 `keras.ops.nn`).

Each op forwards to the active backend (DESIGN.md invariant 3); the backends live in
`kbridge.adapters.<fw>.backend`. Keep signatures in step
with every backend (each backend's contract test compares them).
"""

# ruff: noqa: A001, A002
from kbridge.backend._state import state as _state

__all__ = ['relu', 'relu6', 'sigmoid', 'softplus', 'softsign', 'silu', 'log_sigmoid', 'leaky_relu', 'hard_sigmoid', 'hard_silu', 'elu', 'selu', 'gelu', 'celu', 'glu', 'hard_tanh', 'softmax', 'log_softmax', 'sparse_plus', 'squareplus', 'max_pool', 'average_pool', 'conv', 'depthwise_conv', 'separable_conv', 'conv_transpose', 'one_hot', 'multi_hot', 'categorical_crossentropy', 'sparse_categorical_crossentropy', 'binary_crossentropy', 'moments', 'batch_normalization', 'normalize', 'dot_product_attention']


def relu(x):
    """Rectified linear unit `max(x, 0)`."""
    return _state.ops.relu(x)


def relu6(x):
    """`min(max(x, 0), 6)`."""
    return _state.ops.relu6(x)


def sigmoid(x):
    """Logistic sigmoid."""
    return _state.ops.sigmoid(x)


def softplus(x):
    """`log(exp(x) + 1)`, computed stably."""
    return _state.ops.softplus(x)


def softsign(x):
    """`x / (abs(x) + 1)`."""
    return _state.ops.softsign(x)


def silu(x):
    """`x * sigmoid(x)`."""
    return _state.ops.silu(x)


def log_sigmoid(x):
    """`log(sigmoid(x))`, computed stably."""
    return _state.ops.log_sigmoid(x)


def leaky_relu(x, negative_slope=0.2):
    """Leaky ReLU."""
    return _state.ops.leaky_relu(x, negative_slope=negative_slope)


def hard_sigmoid(x):
    """`relu6(x + 3) / 6`."""
    return _state.ops.hard_sigmoid(x)


def hard_silu(x):
    """`x * hard_sigmoid(x)`."""
    return _state.ops.hard_silu(x)


def elu(x, alpha=1.0):
    """Exponential linear unit."""
    return _state.ops.elu(x, alpha=alpha)


def selu(x):
    """Scaled exponential linear unit."""
    return _state.ops.selu(x)


def gelu(x, approximate=True):
    """Gaussian error linear unit (tanh approximation by default)."""
    return _state.ops.gelu(x, approximate=approximate)


def celu(x, alpha=1.0):
    """Continuously differentiable ELU."""
    return _state.ops.celu(x, alpha=alpha)


def glu(x, axis=-1):
    """Gated linear unit."""
    return _state.ops.glu(x, axis=axis)


def hard_tanh(x):
    """`clip(x, -1, 1)`."""
    return _state.ops.hard_tanh(x)


def softmax(x, axis=-1):
    """Softmax along `axis`."""
    return _state.ops.softmax(x, axis=axis)


def log_softmax(x, axis=-1):
    """Log-softmax along `axis`."""
    return _state.ops.log_softmax(x, axis=axis)


def sparse_plus(x):
    """SparsePlus activation."""
    return _state.ops.sparse_plus(x)


def squareplus(x, b=4):
    """`(x + sqrt(x**2 + b)) / 2`."""
    return _state.ops.squareplus(x, b=b)


def max_pool(inputs, pool_size, strides=None, padding="valid", data_format=None):
    """N-D max pooling."""
    return _state.ops.max_pool(inputs, pool_size, strides=strides, padding=padding, data_format=data_format)


def average_pool(inputs, pool_size, strides=None, padding="valid", data_format=None):
    """N-D average pooling (padding excluded from the mean)."""
    return _state.ops.average_pool(inputs, pool_size, strides=strides, padding=padding, data_format=data_format)


def conv(inputs, kernel, strides=1, padding="valid", data_format=None, dilation_rate=1, bias=None):
    """N-D convolution; `kernel` is (*spatial, in_channels // groups, out_channels).

    `bias` (a kbridge extension; Keras 3's `ops.conv` has no such argument) is an optional
    `(out_channels,)` vector added over the channel axis, fused into the convolution where the
    framework can (torch), which saves a pass over the output and its gradient.
    """
    return _state.ops.conv(inputs, kernel, strides=strides, padding=padding, data_format=data_format, dilation_rate=dilation_rate, bias=bias)


def depthwise_conv(inputs, kernel, strides=1, padding="valid", data_format=None, dilation_rate=1):
    """N-D depthwise convolution; `kernel` is (*spatial, in_channels, multiplier)."""
    return _state.ops.depthwise_conv(inputs, kernel, strides=strides, padding=padding, data_format=data_format, dilation_rate=dilation_rate)


def separable_conv(inputs, depthwise_kernel, pointwise_kernel, strides=1, padding="valid", data_format=None, dilation_rate=1):
    """Depthwise then pointwise convolution."""
    return _state.ops.separable_conv(inputs, depthwise_kernel, pointwise_kernel, strides=strides, padding=padding, data_format=data_format, dilation_rate=dilation_rate)


def conv_transpose(inputs, kernel, strides=1, padding="valid", output_padding=None, data_format=None, dilation_rate=1):
    """N-D transposed convolution; `kernel` is (*spatial, out_channels, in_channels)."""
    return _state.ops.conv_transpose(inputs, kernel, strides=strides, padding=padding, output_padding=output_padding, data_format=data_format, dilation_rate=dilation_rate)


def one_hot(x, num_classes, axis=-1, dtype=None, sparse=False):
    """One-hot encoding of integer `x`."""
    return _state.ops.one_hot(x, num_classes, axis=axis, dtype=dtype, sparse=sparse)


def multi_hot(inputs, num_classes, axis=-1, dtype=None, sparse=False):
    """Multi-hot encoding of integer `inputs` (last axis is the set)."""
    return _state.ops.multi_hot(inputs, num_classes, axis=axis, dtype=dtype, sparse=sparse)


def categorical_crossentropy(target, output, from_logits=False, axis=-1):
    """Crossentropy between one-hot `target` and `output`."""
    return _state.ops.categorical_crossentropy(target, output, from_logits=from_logits, axis=axis)


def sparse_categorical_crossentropy(target, output, from_logits=False, axis=-1):
    """Crossentropy between integer `target` and `output`."""
    return _state.ops.sparse_categorical_crossentropy(target, output, from_logits=from_logits, axis=axis)


def binary_crossentropy(target, output, from_logits=False):
    """Element-wise binary crossentropy."""
    return _state.ops.binary_crossentropy(target, output, from_logits=from_logits)


def moments(x, axes, keepdims=False, synchronized=False):
    """Mean and variance of `x` over `axes`."""
    return _state.ops.moments(x, axes, keepdims=keepdims, synchronized=synchronized)


def batch_normalization(x, mean, variance, axis, offset=None, scale=None, epsilon=1e-3):
    """Normalizes `x` with the given statistics along feature `axis`."""
    return _state.ops.batch_normalization(x, mean, variance, axis, offset=offset, scale=scale, epsilon=epsilon)


def normalize(x, axis=-1, order=2, epsilon=None):
    """Scales `x` to unit `order`-norm along `axis`."""
    return _state.ops.normalize(x, axis=axis, order=order, epsilon=epsilon)


def dot_product_attention(query, key, value, bias=None, mask=None, scale=None, is_causal=False):
    """Scaled dot-product attention on (batch, seq, heads, dim) tensors."""
    return _state.ops.dot_product_attention(query, key, value, bias=bias, mask=mask, scale=scale, is_causal=is_causal)
