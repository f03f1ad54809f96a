"""`kbridge.ops.nn` without convolutions: activations, softmax, one-hot, losses, moments, attention."""

import math

import numpy as np
import pytest

rng = np.random.default_rng(5)
F = np.float32
EPS = 1e-7  # kbridge.config.epsilon()

X = np.linspace(-7.0, 7.0, 36).astype(F).reshape(6, 6)
X3 = rng.uniform(-3.0, 3.0, (2, 3, 4)).astype(F)
_erf = np.vectorize(math.erf, otypes=[np.float64])


def case(id, op, args, ref, kwargs=None, **opts):
    """One test: `op(*args, **kwargs)` against the NumPy reference `ref`."""
    return pytest.param(op, args, kwargs or {}, ref, opts, id=id)


def _f(fn):
    """Reference computed in float64, returned as float32."""
    return lambda x, **kw: fn(x.astype(np.float64), **kw).astype(F)


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _softmax(x, axis=-1):
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def _log_softmax(x, axis=-1):
    m = np.max(x, axis=axis, keepdims=True)
    return x - m - np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True))


def _elu(x, alpha=1.0):
    return np.where(x > 0, x, alpha * np.expm1(x))


def _gelu(x, approximate=True):
    if approximate:
        return 0.5 * x * (1.0 + np.tanh(np.sqrt(2.0 / np.pi) * (x + 0.044715 * x**3)))
    return 0.5 * x * (1.0 + _erf(x / np.sqrt(2.0)))


def _glu(x, axis=-1):
    a, b = np.split(x, 2, axis=axis)
    return a * _sigmoid(b)


def _sparse_plus(x):
    return np.where(x <= -1, 0.0, np.where(x >= 1, x, (x + 1) ** 2 / 4))


SELU_ALPHA, SELU_SCALE = 1.6732632423543772, 1.0507009873554805

ACTIVATIONS = [
    case("relu", "relu", (X,), _f(lambda x: np.maximum(x, 0))),
    case("relu6", "relu6", (X,), _f(lambda x: np.clip(x, 0, 6))),
    case("sigmoid", "sigmoid", (X,), _f(_sigmoid)),
    case("softplus", "softplus", (X * 3,), _f(lambda x: np.logaddexp(0, x))),
    case("softsign", "softsign", (X,), _f(lambda x: x / (1 + np.abs(x)))),
    case("silu", "silu", (X,), _f(lambda x: x * _sigmoid(x))),
    case("log_sigmoid", "log_sigmoid", (X * 3,), _f(lambda x: -np.logaddexp(0, -x))),
    case("leaky_relu", "leaky_relu", (X,), _f(lambda x: np.where(x > 0, x, 0.2 * x))),
    case(
        "leaky_relu-slope",
        "leaky_relu",
        (X,),
        _f(lambda x, negative_slope: np.where(x > 0, x, negative_slope * x)),
        {"negative_slope": 0.05},
    ),
    case("hard_sigmoid", "hard_sigmoid", (X,), _f(lambda x: np.clip(x + 3, 0, 6) / 6)),
    case("hard_silu", "hard_silu", (X,), _f(lambda x: x * np.clip(x + 3, 0, 6) / 6)),
    case("elu", "elu", (X,), _f(_elu)),
    case("elu-alpha", "elu", (X,), _f(_elu), {"alpha": 0.5}),
    case("selu", "selu", (X,), _f(lambda x: SELU_SCALE * _elu(x, SELU_ALPHA))),
    case("gelu-approximate", "gelu", (X,), _f(_gelu)),
    case("gelu-exact", "gelu", (X,), _f(_gelu), {"approximate": False}),
    case("celu", "celu", (X,), _f(lambda x, alpha=1.0: np.maximum(x, 0) + np.minimum(0, alpha * np.expm1(x / alpha)))),
    case(
        "celu-alpha",
        "celu",
        (X,),
        _f(lambda x, alpha: np.maximum(x, 0) + np.minimum(0, alpha * np.expm1(x / alpha))),
        {"alpha": 2.0},
    ),
    case("glu", "glu", (X,), _f(_glu)),
    case("glu-axis0", "glu", (X,), _f(_glu), {"axis": 0}),
    case("hard_tanh", "hard_tanh", (X,), _f(lambda x: np.clip(x, -1, 1))),
    case("sparse_plus", "sparse_plus", (X / 3,), _f(_sparse_plus)),
    case("squareplus", "squareplus", (X,), _f(lambda x: (x + np.sqrt(x**2 + 4)) / 2)),
    case("squareplus-b", "squareplus", (X,), _f(lambda x, b: (x + np.sqrt(x**2 + b)) / 2), {"b": 1}),
    case("softmax", "softmax", (X3,), _f(_softmax)),
    case("softmax-axis0", "softmax", (X3,), _f(_softmax), {"axis": 0}),
    case("softmax-axis1", "softmax", (X3,), _f(_softmax), {"axis": 1}),
    case("softmax-axis_tuple", "softmax", (X3,), _f(_softmax), {"axis": (1, 2)}),
    case("softmax-large_logits", "softmax", (X3 * 100,), _f(_softmax)),
    case("log_softmax", "log_softmax", (X3,), _f(_log_softmax)),
    case("log_softmax-axis1", "log_softmax", (X3,), _f(_log_softmax), {"axis": 1}),
]


# -- encodings ----------------------------------------------------------------------------------
def _one_hot(x, num_classes, axis=-1, dtype=None):
    out = (x[..., None] == np.arange(num_classes)).astype(dtype or F)
    return np.moveaxis(out, -1, axis)


def _multi_hot(x, num_classes, axis=-1, dtype=None):
    hot = _one_hot(x, num_classes, dtype=dtype)
    return hot.max(axis=1 if x.ndim > 1 else 0)


IDS = np.array([[0, 2, 1], [1, 3, -1]], np.int32)  # 3 and -1 are out of range for 3 classes
ENCODINGS = [
    case("one_hot", "one_hot", (np.array([0, 2, 1, 1], np.int32), 3), _one_hot),
    case("one_hot-out_of_range_is_zero", "one_hot", (IDS, 3), _one_hot),
    case("one_hot-axis0", "one_hot", (IDS, 4), _one_hot, {"axis": 0}),
    case("one_hot-axis1", "one_hot", (IDS, 4), _one_hot, {"axis": 1}),
    case("one_hot-dtype", "one_hot", (IDS, 4), _one_hot, {"dtype": "int32"}),
    case("multi_hot", "multi_hot", (np.array([[0, 2], [1, 1], [3, 0]], np.int32), 4), _multi_hot),
    case("multi_hot-1d", "multi_hot", (np.array([0, 3, 3], np.int32), 5), _multi_hot),
    case("multi_hot-dtype", "multi_hot", (np.array([[0, 2], [1, 1]], np.int32), 3), _multi_hot, {"dtype": "int32"}),
]


# -- losses -------------------------------------------------------------------------------------
def _cce(target, output, from_logits=False, axis=-1):
    output = output.astype(np.float64)
    if from_logits:
        log_prob = _log_softmax(output, axis=axis)
    else:
        output = output / np.sum(output, axis=axis, keepdims=True)
        log_prob = np.log(np.clip(output, EPS, 1 - EPS))
    return (-np.sum(target * log_prob, axis=axis)).astype(F)


def _scce(target, output, from_logits=False, axis=-1):
    classes = output.shape[axis]
    return _cce(_one_hot(target, classes), output, from_logits=from_logits, axis=axis)


def _bce(target, output, from_logits=False):
    output = output.astype(np.float64)
    if from_logits:
        return (target * np.logaddexp(0, -output) + (1 - target) * np.logaddexp(0, output)).astype(F)
    output = np.clip(output, EPS, 1 - EPS)
    return (-(target * np.log(output) + (1 - target) * np.log(1 - output))).astype(F)


LABELS = np.array([0, 3, 1], np.int32)
TARGET = _one_hot(LABELS, 4)
SOFT_TARGET = _softmax(rng.uniform(-1, 1, (3, 4))).astype(F)
PROBS = rng.uniform(0.05, 1.0, (3, 4)).astype(F)  # not normalized: the op normalizes
PROBS_EDGE = _one_hot(np.array([1, 3, 2]), 4)  # zero probability at the target: clipped to eps
LOGITS = rng.uniform(-3, 3, (3, 4)).astype(F)
LOGITS3 = rng.uniform(-3, 3, (2, 4, 5)).astype(F)  # (batch, classes, time) for axis=1
TARGET3 = _one_hot(rng.integers(0, 4, (2, 5)), 4, axis=1)
SEQ_LOGITS = rng.uniform(-3, 3, (2, 5, 4)).astype(F)
SEQ_LABELS = rng.integers(0, 4, (2, 5)).astype(np.int32)
BIN_TARGET = np.array([[0.0, 1.0, 1.0], [1.0, 1.0, 0.3]], F)
BIN_PROBS = np.array([[0.1, 0.8, 1.0], [0.6, 0.0, 0.5]], F)  # 0 and 1 are clipped to [eps, 1 - eps]
BIN_LOGITS = np.array([[-2.0, 3.0, 0.5], [20.0, -20.0, 0.0]], F)

LOSSES = [
    case("categorical_crossentropy-probs", "categorical_crossentropy", (TARGET, PROBS), _cce),
    case("categorical_crossentropy-soft_target", "categorical_crossentropy", (SOFT_TARGET, PROBS), _cce),
    case("categorical_crossentropy-clipped", "categorical_crossentropy", (TARGET, PROBS_EDGE), _cce),
    case("categorical_crossentropy-logits", "categorical_crossentropy", (TARGET, LOGITS), _cce, {"from_logits": True}),
    case(
        "categorical_crossentropy-axis1_logits",
        "categorical_crossentropy",
        (TARGET3, LOGITS3),
        _cce,
        {"from_logits": True, "axis": 1},
    ),
    case(
        "categorical_crossentropy-axis1_probs",
        "categorical_crossentropy",
        (TARGET3, np.abs(LOGITS3) + 0.1),
        _cce,
        {"axis": 1},
    ),
    case("sparse_categorical_crossentropy-probs", "sparse_categorical_crossentropy", (LABELS, PROBS), _scce),
    case(
        "sparse_categorical_crossentropy-logits",
        "sparse_categorical_crossentropy",
        (LABELS, LOGITS),
        _scce,
        {"from_logits": True},
    ),
    case(
        "sparse_categorical_crossentropy-sequence",
        "sparse_categorical_crossentropy",
        (SEQ_LABELS, SEQ_LOGITS),
        _scce,
        {"from_logits": True},
    ),
    case("binary_crossentropy-probs", "binary_crossentropy", (BIN_TARGET, BIN_PROBS), _bce),
    case("binary_crossentropy-logits", "binary_crossentropy", (BIN_TARGET, BIN_LOGITS), _bce, {"from_logits": True}),
]


# -- normalization ------------------------------------------------------------------------------
def _moments(x, axes, keepdims=False, synchronized=False):
    x64 = x.astype(np.float64)
    return (np.mean(x64, axis=tuple(axes), keepdims=keepdims).astype(F),
            np.var(x64, axis=tuple(axes), keepdims=keepdims).astype(F))  # fmt: skip


def _batch_norm(x, mean, variance, axis, offset=None, scale=None, epsilon=1e-3):
    shape = [1] * x.ndim
    shape[axis] = -1
    out = (x - mean.reshape(shape)) / np.sqrt(variance.reshape(shape) + epsilon)
    if scale is not None:
        out = out * scale.reshape(shape)
    if offset is not None:
        out = out + offset.reshape(shape)
    return out.astype(F)


def _normalize(x, axis=-1, order=2, epsilon=None):
    epsilon = EPS if epsilon is None else epsilon
    norm = np.sum(np.abs(x.astype(np.float64)) ** order, axis=axis, keepdims=True) ** (1.0 / order)
    return (x / np.maximum(norm, epsilon)).astype(F)


XN = rng.uniform(-2.0, 2.0, (4, 3, 5)).astype(F)
C3 = (rng.uniform(-1, 1, 3).astype(F), rng.uniform(0.5, 2, 3).astype(F))  # mean, variance for axis=1
C5 = (rng.uniform(-1, 1, 5).astype(F), rng.uniform(0.5, 2, 5).astype(F))
WITH_ZERO_ROW = np.array([[3.0, 4.0], [0.0, 0.0], [1e-9, 0.0]], F)

NORMALIZATION = [
    case("moments-axes0_2", "moments", (XN, [0, 2]), _moments),
    case("moments-axes0_2_keepdims", "moments", (XN, [0, 2]), _moments, {"keepdims": True}),
    case("moments-axis_last", "moments", (XN, [-1]), _moments),
    case("moments-all_axes", "moments", (XN, [0, 1, 2]), _moments),
    case(
        "batch_normalization-axis1",
        "batch_normalization",
        (XN, *C3),
        _batch_norm,
        {"axis": 1, "offset": rng.uniform(-1, 1, 3).astype(F), "scale": rng.uniform(0.5, 2, 3).astype(F)},
    ),
    case("batch_normalization-axis-1_plain", "batch_normalization", (XN, *C5, -1), _batch_norm),
    case(
        "batch_normalization-epsilon",
        "batch_normalization",
        (XN, *C5, -1),
        _batch_norm,
        {"epsilon": 0.5, "scale": rng.uniform(0.5, 2, 5).astype(F)},
    ),
    case("normalize", "normalize", (X3,), _normalize),
    case("normalize-axis0_order1", "normalize", (X3,), _normalize, {"axis": 0, "order": 1}),
    case("normalize-zero_row", "normalize", (WITH_ZERO_ROW,), _normalize),
    case("normalize-epsilon_bound", "normalize", (WITH_ZERO_ROW,), _normalize, {"epsilon": 1.0, "axis": 1}),
]


# -- attention ----------------------------------------------------------------------------------
def _attention(query, key, value, bias=None, mask=None, scale=None, is_causal=False):
    q, k, v = (a.astype(np.float64) for a in (query, key, value))
    heads, kv_heads = q.shape[2], k.shape[2]
    if kv_heads != heads:  # grouped-query attention: each key/value head serves heads // kv_heads queries
        k = np.repeat(k, heads // kv_heads, axis=2)
        v = np.repeat(v, heads // kv_heads, axis=2)
    scale = 1.0 / np.sqrt(q.shape[-1]) if scale is None else scale
    logits = np.einsum("btnh,bsnh->bnts", q, k) * scale
    if bias is not None:
        logits = logits + bias
    allowed = np.ones(logits.shape, bool)
    if mask is not None:
        allowed = allowed & mask
    if is_causal:
        allowed = allowed & np.tril(np.ones(logits.shape[-2:], bool))
    logits = np.where(allowed, logits, -np.inf)
    return np.einsum("bnts,bsnh->btnh", _softmax(logits), v).astype(F)


def _qkv(t, s, heads=3, kv_heads=3, dim=8):
    return (rng.uniform(-1, 1, (2, t, heads, dim)).astype(F), rng.uniform(-1, 1, (2, s, kv_heads, dim)).astype(F),
            rng.uniform(-1, 1, (2, s, kv_heads, dim)).astype(F))  # fmt: skip


MASK = rng.uniform(size=(2, 1, 4, 5)) > 0.4
MASK[..., 0] = True  # every query sees at least one key
ATTENTION = [
    case("dot_product_attention", "dot_product_attention", _qkv(4, 5), _attention),
    case("dot_product_attention-scale", "dot_product_attention", _qkv(4, 5), _attention, {"scale": 0.5}),
    case(
        "dot_product_attention-bias",
        "dot_product_attention",
        _qkv(4, 5),
        _attention,
        {"bias": rng.uniform(-1, 1, (1, 3, 4, 5)).astype(F)},
    ),
    case("dot_product_attention-mask", "dot_product_attention", _qkv(4, 5), _attention, {"mask": MASK}),
    case("dot_product_attention-causal", "dot_product_attention", _qkv(4, 4), _attention, {"is_causal": True}),
    case(
        "dot_product_attention-mask_and_causal",
        "dot_product_attention",
        _qkv(4, 4),
        _attention,
        {"mask": MASK[..., :4], "is_causal": True},
    ),
    case("dot_product_attention-grouped_query", "dot_product_attention", _qkv(4, 5, heads=4, kv_heads=2), _attention),
]

CASES = ACTIVATIONS + ENCODINGS + LOSSES + NORMALIZATION + ATTENTION


@pytest.mark.parametrize("op,args,kwargs,ref,opts", CASES)
def test_nn(bk, op, args, kwargs, ref, opts):
    bk.check(op, args, kwargs, ref, **opts)
