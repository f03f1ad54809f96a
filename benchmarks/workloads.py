"""The workload specs shared by every benchmark variant.

A `Workload` is one network + one batch of data, described once:

* `build_keras_style(k)` builds it with Keras 3 names from the module `k`, which is either
  `kbridge` or `keras` (the two share the API, so one builder serves both);
* `build_torch()`, `init_jax(key)` / `apply_jax`, `init_tf()` / `apply_tf` are the same network
  hand-written natively, one builder per framework.

Every network ends in logits (no softmax layer) and is trained with sparse softmax
cross-entropy from logits, so the loss, gradient and optimizer (Adam, lr 1e-3, default
betas/eps) are the same everywhere. Data are random with a fixed seed, float32, channels_last
for the Keras-style models and the JAX/TF natives; the torch natives use NCHW (what torch code
writes; the data are transposed once, outside the timed region).

To add a workload, add one `Workload(...)` entry to `WORKLOADS` with its builders.
A builder that cannot run yet (a missing layer) simply raises: the runner prints the
variant as "not available" with the reason.
"""

import dataclasses
from typing import Callable, Optional

import numpy as np

SEED = 1234
LEARNING_RATE = 1e-3


@dataclasses.dataclass(frozen=True)
class Workload:
    name: str
    description: str
    input_shape: tuple  # per-sample shape, channels_last, as the Keras-style model sees it
    num_classes: int
    batch_size: int
    build_keras_style: Callable  # (k) -> Model, k is `kbridge` or `keras`
    build_torch: Callable  # () -> torch.nn.Module (logits)
    init_jax: Callable  # (key) -> params pytree
    apply_jax: Callable  # (params, x) -> logits
    init_tf: Callable  # () -> list of tf.Variable
    apply_tf: Callable  # (variables, x) -> logits
    arrays: Optional[Callable] = None  # () -> the shared initial weights, Keras layout and order
    load_torch: Optional[Callable] = None  # (module, arrays) -> copies them into the torch native
    input_dtype: str = "float32"
    torch_layout: Optional[Callable] = None  # numpy x -> the layout the torch native takes
    latency: bool = False  # also measure batch-1 inference latency
    vocab_size: int = 0  # for integer (token) inputs
    no_torch_compile: Optional[str] = None  # why the torch.compile variants do not run this workload

    def keras_style_model(self, k):
        """The Keras-style model (kbridge or Keras 3) starting from the shared weights."""
        model = self.build_keras_style(k)
        if self.arrays is not None:
            model.set_weights(self.arrays())
        return model

    def torch_module(self):
        """The hand-written torch network starting from the same weights (torch layouts)."""
        module = self.build_torch()
        if self.load_torch is not None:
            self.load_torch(module, self.arrays())
        return module

    def make_data(self, n, seed=SEED):
        """`n` samples of random inputs and integer labels (fixed seed)."""
        rng = np.random.default_rng(seed)
        if self.input_dtype.startswith("int"):
            x = rng.integers(0, self.vocab_size, size=(n,) + self.input_shape).astype(self.input_dtype)
        else:
            x = rng.standard_normal((n,) + self.input_shape).astype("float32")
        y = rng.integers(0, self.num_classes, size=(n,)).astype("int64")
        return x, y


# -- helpers for the hand-written natives --------------------------------------------------


def _glorot(rng, fan_in, fan_out, shape):
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, size=shape).astype("float32")


# -- MLP: 784-512-512-10 -------------------------------------------------------------------

MLP_UNITS = (784, 512, 512, 10)


def mlp_keras_style(k):
    inputs = k.Input(shape=(784,))
    x = k.layers.Dense(512, activation="relu")(inputs)
    x = k.layers.Dense(512, activation="relu")(x)
    outputs = k.layers.Dense(10)(x)
    return k.Model(inputs, outputs)


def mlp_torch():
    import torch

    return torch.nn.Sequential(
        torch.nn.Linear(784, 512), torch.nn.ReLU(),
        torch.nn.Linear(512, 512), torch.nn.ReLU(),
        torch.nn.Linear(512, 10),
    )  # fmt: skip


def _mlp_arrays():
    rng = np.random.default_rng(SEED)
    arrays = []
    for fan_in, fan_out in zip(MLP_UNITS[:-1], MLP_UNITS[1:]):
        arrays += [_glorot(rng, fan_in, fan_out, (fan_in, fan_out)), np.zeros(fan_out, "float32")]
    return arrays


def _load_linear(linear, kernel, bias):
    import torch

    with torch.no_grad():
        linear.weight.copy_(torch.from_numpy(kernel.T.copy()))  # (in, out) -> (out, in)
        linear.bias.copy_(torch.from_numpy(bias))


def mlp_load_torch(module, arrays):
    for linear, (kernel, bias) in zip((module[0], module[2], module[4]), zip(arrays[::2], arrays[1::2])):
        _load_linear(linear, kernel, bias)


def mlp_init_jax(key=None):
    import jax.numpy as jnp

    return [jnp.asarray(a) for a in _mlp_arrays()]


def mlp_apply_jax(params, x):
    import jax

    w1, b1, w2, b2, w3, b3 = params
    x = jax.nn.relu(x @ w1 + b1)
    x = jax.nn.relu(x @ w2 + b2)
    return x @ w3 + b3


def mlp_init_tf():
    import tensorflow as tf

    return [tf.Variable(a) for a in _mlp_arrays()]


def mlp_apply_tf(variables, x):
    import tensorflow as tf

    w1, b1, w2, b2, w3, b3 = variables
    x = tf.nn.relu(tf.matmul(x, w1) + b1)
    x = tf.nn.relu(tf.matmul(x, w2) + b2)
    return tf.matmul(x, w3) + b3


# -- small CNN: Conv 32 -> pool -> Conv 64 -> pool -> Flatten -> Dense 10 ---------------------
# 28x28x1 -conv3-> 26x26x32 -pool2-> 13x13x32 -conv3-> 11x11x64 -pool2-> 5x5x64 = 1600 -> 10


def cnn_keras_style(k):
    inputs = k.Input(shape=(28, 28, 1))
    x = k.layers.Conv2D(32, 3, activation="relu")(inputs)
    x = k.layers.MaxPooling2D(2)(x)
    x = k.layers.Conv2D(64, 3, activation="relu")(x)
    x = k.layers.MaxPooling2D(2)(x)
    x = k.layers.Flatten()(x)
    outputs = k.layers.Dense(10)(x)
    return k.Model(inputs, outputs)


def cnn_torch():
    import torch

    return torch.nn.Sequential(
        torch.nn.Conv2d(1, 32, 3), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(32, 64, 3), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Flatten(), torch.nn.Linear(1600, 10),
    )  # fmt: skip


def _cnn_arrays():
    rng = np.random.default_rng(SEED)
    return [
        _glorot(rng, 9 * 1, 9 * 32, (3, 3, 1, 32)), np.zeros(32, "float32"),  # HWIO
        _glorot(rng, 9 * 32, 9 * 64, (3, 3, 32, 64)), np.zeros(64, "float32"),
        _glorot(rng, 1600, 10, (1600, 10)), np.zeros(10, "float32"),
    ]  # fmt: skip


def cnn_load_torch(module, arrays):
    import torch

    k1, b1, k2, b2, w, b = arrays
    with torch.no_grad():
        for conv, kernel, bias in ((module[0], k1, b1), (module[3], k2, b2)):
            conv.weight.copy_(torch.from_numpy(kernel.transpose(3, 2, 0, 1).copy()))  # HWIO -> OIHW
            conv.bias.copy_(torch.from_numpy(bias))
    # Keras flattens (h, w, c), torch (c, h, w): reorder the dense rows to match.
    rows = np.arange(1600).reshape(5, 5, 64).transpose(2, 0, 1).reshape(-1)
    _load_linear(module[7], w[rows], b)


def cnn_init_jax(key=None):
    import jax.numpy as jnp

    return [jnp.asarray(a) for a in _cnn_arrays()]


def cnn_apply_jax(params, x):
    import jax

    k1, b1, k2, b2, w, b = params

    def conv(x, kernel, bias):
        y = jax.lax.conv_general_dilated(x, kernel, (1, 1), "VALID", dimension_numbers=("NHWC", "HWIO", "NHWC"))
        return jax.nn.relu(y + bias)

    def pool(x):
        return jax.lax.reduce_window(x, -np.inf, jax.lax.max, (1, 2, 2, 1), (1, 2, 2, 1), "VALID")

    x = pool(conv(x, k1, b1))
    x = pool(conv(x, k2, b2))
    return x.reshape(x.shape[0], -1) @ w + b


def cnn_init_tf():
    import tensorflow as tf

    return [tf.Variable(a) for a in _cnn_arrays()]


def cnn_apply_tf(variables, x):
    import tensorflow as tf

    k1, b1, k2, b2, w, b = variables
    x = tf.nn.relu(tf.nn.conv2d(x, k1, 1, "VALID") + b1)
    x = tf.nn.max_pool2d(x, 2, 2, "VALID")
    x = tf.nn.relu(tf.nn.conv2d(x, k2, 1, "VALID") + b2)
    x = tf.nn.max_pool2d(x, 2, 2, "VALID")
    return tf.matmul(tf.reshape(x, (tf.shape(x)[0], -1)), w) + b


# -- text: Embedding 20000x128 -> LSTM 64 -> Dense 2, sequence 100 --------------------------
# Keras' LSTM kernels are (in, 4u) with gates i, f, c, o; torch's are (4u, in) with gates i, f, g, o
# (the same order, g = c), so a transpose maps them. Keras has one bias, torch two (ih, hh): the
# Keras bias goes to bias_ih, zeros to bias_hh.

TEXT_VOCAB, TEXT_EMBED, TEXT_UNITS, TEXT_LEN, TEXT_CLASSES = 20000, 128, 64, 100, 2


def text_keras_style(k):
    inputs = k.Input(shape=(TEXT_LEN,), dtype="int32")
    x = k.layers.Embedding(TEXT_VOCAB, TEXT_EMBED)(inputs)
    x = k.layers.LSTM(TEXT_UNITS)(x)
    outputs = k.layers.Dense(TEXT_CLASSES)(x)
    return k.Model(inputs, outputs)


def _orthogonal(rng, rows, cols):
    q, r = np.linalg.qr(rng.standard_normal((max(rows, cols), min(rows, cols))))
    q = q * np.sign(np.diag(r))
    return (q if rows >= cols else q.T).astype("float32")


def _text_arrays():
    """Keras' initializers with a fixed seed: uniform(+-0.05) embeddings, Glorot kernel, orthogonal
    recurrent kernel, bias zeros except ones on the forget gate (unit_forget_bias)."""
    rng = np.random.default_rng(SEED)
    u = TEXT_UNITS
    bias = np.zeros(4 * u, "float32")
    bias[u : 2 * u] = 1.0
    return [
        rng.uniform(-0.05, 0.05, size=(TEXT_VOCAB, TEXT_EMBED)).astype("float32"),
        _glorot(rng, TEXT_EMBED, 4 * u, (TEXT_EMBED, 4 * u)),
        _orthogonal(rng, u, 4 * u),
        bias,
        _glorot(rng, u, TEXT_CLASSES, (u, TEXT_CLASSES)),
        np.zeros(TEXT_CLASSES, "float32"),
    ]


def text_torch():
    import torch

    class TextNet(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = torch.nn.Embedding(TEXT_VOCAB, TEXT_EMBED)
            self.lstm = torch.nn.LSTM(TEXT_EMBED, TEXT_UNITS, batch_first=True)
            self.dense = torch.nn.Linear(TEXT_UNITS, TEXT_CLASSES)

        def forward(self, ids):
            _, (h, _) = self.lstm(self.embedding(ids))
            return self.dense(h[-1])

    return TextNet()


def text_load_torch(module, arrays):
    import torch

    embeddings, kernel, recurrent, bias, w, b = arrays
    with torch.no_grad():
        module.embedding.weight.copy_(torch.from_numpy(embeddings))
        module.lstm.weight_ih_l0.copy_(torch.from_numpy(kernel.T.copy()))
        module.lstm.weight_hh_l0.copy_(torch.from_numpy(recurrent.T.copy()))
        module.lstm.bias_ih_l0.copy_(torch.from_numpy(bias))
        module.lstm.bias_hh_l0.zero_()
    _load_linear(module.dense, w, b)


def text_init_jax(key=None, arrays=None):
    import jax.numpy as jnp

    return [jnp.asarray(a) for a in (arrays or _text_arrays())]


def text_apply_jax(params, ids):
    import jax
    import jax.numpy as jnp

    embeddings, kernel, recurrent, bias, w, b = params
    xs = jnp.swapaxes(jnp.take(embeddings, ids, axis=0), 0, 1)  # time-major (time, batch, embed)

    # The input projection inside the step: on XLA CPU, projecting all steps at once before the scan
    # made the gradient ~1.6x slower here (88 vs 55 ms, one thread).
    def step(carry, x):
        h, c = carry
        i, f, g, o = jnp.split(x @ kernel + h @ recurrent + bias, 4, axis=-1)
        c = jax.nn.sigmoid(f) * c + jax.nn.sigmoid(i) * jnp.tanh(g)
        h = jax.nn.sigmoid(o) * jnp.tanh(c)
        return (h, c), None

    zeros = jnp.zeros((ids.shape[0], TEXT_UNITS), xs.dtype)
    (h, _), _ = jax.lax.scan(step, (zeros, zeros), xs)
    return h @ w + b


def text_init_tf(arrays=None):
    import tensorflow as tf

    return [tf.Variable(a) for a in (arrays or _text_arrays())]


def text_apply_tf(variables, ids):
    import tensorflow as tf

    embeddings, kernel, recurrent, bias, w, b = variables
    x = tf.gather(embeddings, ids)  # (batch, time, embed)
    z_x = tf.transpose(tf.einsum("bte,eg->btg", x, kernel) + bias, (1, 0, 2))  # time-major

    def step(carry, z):
        h, c = carry
        i, f, g, o = tf.split(z + tf.matmul(h, recurrent), 4, axis=-1)
        c = tf.sigmoid(f) * c + tf.sigmoid(i) * tf.tanh(g)
        return tf.sigmoid(o) * tf.tanh(c), c

    zeros = tf.zeros((tf.shape(ids)[0], TEXT_UNITS), x.dtype)
    hs, _ = tf.scan(step, z_x, initializer=(zeros, zeros))
    return tf.matmul(hs[-1], w) + b


# -- transformer block: x + MHA(LN(x)); x + MLP(LN(x)); mean over time -> Dense 10 -------------
# Pre-norm block, width 256, 4 heads of 64, MLP 256 -> 1024 (exact gelu) -> 256, LayerNorm eps 1e-3
# (Keras' default). Attention is Keras' MultiHeadAttention math: einsum projections with
# (width, heads, head_dim) kernels, query scaled by 1/sqrt(head_dim), softmax over keys.

TF_LEN, TF_WIDTH, TF_HEADS, TF_HEAD_DIM, TF_HIDDEN, TF_CLASSES = 128, 256, 4, 64, 1024, 10
LN_EPSILON = 1e-3


def transformer_keras_style(k):
    inputs = k.Input(shape=(TF_LEN, TF_WIDTH))
    h = k.layers.LayerNormalization()(inputs)
    h = k.layers.MultiHeadAttention(TF_HEADS, TF_HEAD_DIM)(h, h)
    x = k.layers.Add()([inputs, h])
    h = k.layers.LayerNormalization()(x)
    h = k.layers.Dense(TF_HIDDEN, activation="gelu")(h)
    h = k.layers.Dense(TF_WIDTH)(h)
    x = k.layers.Add()([x, h])
    x = k.layers.GlobalAveragePooling1D()(x)
    outputs = k.layers.Dense(TF_CLASSES)(x)
    return k.Model(inputs, outputs)


def _transformer_arrays():
    """Keras order: LN gamma, beta; query, key, value kernel + bias; output kernel + bias; LN; MLP; head."""
    rng = np.random.default_rng(SEED)
    d, heads, hd = TF_WIDTH, TF_HEADS, TF_HEAD_DIM
    ones, zeros = np.ones(d, "float32"), np.zeros(d, "float32")
    arrays = [ones, zeros]
    for _ in range(3):  # query, key, value: (width, heads, head_dim)
        arrays += [_glorot(rng, d, heads * hd, (d, heads, hd)), np.zeros((heads, hd), "float32")]
    arrays += [_glorot(rng, heads * hd, d, (heads, hd, d)), zeros.copy()]
    arrays += [ones.copy(), zeros.copy()]
    arrays += [_glorot(rng, d, TF_HIDDEN, (d, TF_HIDDEN)), np.zeros(TF_HIDDEN, "float32")]
    arrays += [_glorot(rng, TF_HIDDEN, d, (TF_HIDDEN, d)), zeros.copy()]
    arrays += [_glorot(rng, d, TF_CLASSES, (d, TF_CLASSES)), np.zeros(TF_CLASSES, "float32")]
    return arrays


def transformer_torch():
    import torch
    import torch.nn.functional as F

    class Block(torch.nn.Module):
        def __init__(self):
            super().__init__()
            d = TF_WIDTH
            self.norm1 = torch.nn.LayerNorm(d, eps=LN_EPSILON)
            self.query, self.key, self.value = (torch.nn.Linear(d, TF_HEADS * TF_HEAD_DIM) for _ in range(3))
            self.attention_output = torch.nn.Linear(TF_HEADS * TF_HEAD_DIM, d)
            self.norm2 = torch.nn.LayerNorm(d, eps=LN_EPSILON)
            self.fc1 = torch.nn.Linear(d, TF_HIDDEN)
            self.fc2 = torch.nn.Linear(TF_HIDDEN, d)
            self.head = torch.nn.Linear(d, TF_CLASSES)

        def forward(self, x):
            batch, time, _ = x.shape
            h = self.norm1(x)

            def heads(linear):  # (batch, heads, time, head_dim)
                return linear(h).view(batch, time, TF_HEADS, TF_HEAD_DIM).transpose(1, 2)

            a = F.scaled_dot_product_attention(heads(self.query), heads(self.key), heads(self.value))
            x = x + self.attention_output(a.transpose(1, 2).reshape(batch, time, TF_HEADS * TF_HEAD_DIM))
            x = x + self.fc2(F.gelu(self.fc1(self.norm2(x))))
            return self.head(x.mean(dim=1))

    return Block()


def transformer_load_torch(module, arrays):
    import torch

    g1, b1, qk, qb, kk, kb, vk, vb, ok, ob, g2, b2, w1, c1, w2, c2, wh, ch = arrays
    flat = TF_HEADS * TF_HEAD_DIM
    for norm, gamma, beta in ((module.norm1, g1, b1), (module.norm2, g2, b2)):
        with torch.no_grad():
            norm.weight.copy_(torch.from_numpy(gamma))
            norm.bias.copy_(torch.from_numpy(beta))
    for linear, kernel, bias in ((module.query, qk, qb), (module.key, kk, kb), (module.value, vk, vb)):
        _load_linear(linear, kernel.reshape(TF_WIDTH, flat), bias.reshape(flat))
    _load_linear(module.attention_output, ok.reshape(flat, TF_WIDTH), ob)
    _load_linear(module.fc1, w1, c1)
    _load_linear(module.fc2, w2, c2)
    _load_linear(module.head, wh, ch)


def transformer_init_jax(key=None, arrays=None):
    import jax.numpy as jnp

    return [jnp.asarray(a) for a in (arrays or _transformer_arrays())]


def transformer_apply_jax(params, x):
    import jax
    import jax.numpy as jnp

    g1, b1, qk, qb, kk, kb, vk, vb, ok, ob, g2, b2, w1, c1, w2, c2, wh, ch = params

    def norm(x, gamma, beta):
        mean = x.mean(-1, keepdims=True)
        var = jnp.square(x - mean).mean(-1, keepdims=True)
        return (x - mean) * jax.lax.rsqrt(var + LN_EPSILON) * gamma + beta

    h = norm(x, g1, b1)
    q = (jnp.einsum("btd,dnh->btnh", h, qk) + qb) * (1.0 / np.sqrt(TF_HEAD_DIM))
    k = jnp.einsum("btd,dnh->btnh", h, kk) + kb
    v = jnp.einsum("btd,dnh->btnh", h, vk) + vb
    probs = jax.nn.softmax(jnp.einsum("bsnh,btnh->bnts", k, q), axis=-1)
    a = jnp.einsum("bnts,bsnh->btnh", probs, v)
    x = x + jnp.einsum("btnh,nhd->btd", a, ok) + ob
    h = jax.nn.gelu(norm(x, g2, b2) @ w1 + c1, approximate=False)
    x = x + h @ w2 + c2
    return x.mean(axis=1) @ wh + ch


def transformer_init_tf(arrays=None):
    import tensorflow as tf

    return [tf.Variable(a) for a in (arrays or _transformer_arrays())]


def transformer_apply_tf(variables, x):
    import tensorflow as tf

    g1, b1, qk, qb, kk, kb, vk, vb, ok, ob, g2, b2, w1, c1, w2, c2, wh, ch = variables

    def norm(x, gamma, beta):
        mean, var = tf.nn.moments(x, axes=[-1], keepdims=True)
        return (x - mean) * tf.math.rsqrt(var + LN_EPSILON) * gamma + beta

    h = norm(x, g1, b1)
    q = (tf.einsum("btd,dnh->btnh", h, qk) + qb) * (1.0 / np.sqrt(TF_HEAD_DIM))
    k = tf.einsum("btd,dnh->btnh", h, kk) + kb
    v = tf.einsum("btd,dnh->btnh", h, vk) + vb
    probs = tf.nn.softmax(tf.einsum("bsnh,btnh->bnts", k, q), axis=-1)
    a = tf.einsum("bnts,bsnh->btnh", probs, v)
    x = x + tf.einsum("btnh,nhd->btd", a, ok) + ob
    h = tf.nn.gelu(tf.einsum("btd,df->btf", norm(x, g2, b2), w1) + c1, approximate=False)
    x = x + tf.einsum("btf,fd->btd", h, w2) + c2
    return tf.matmul(tf.reduce_mean(x, axis=1), wh) + ch


def _nchw(x):
    return np.ascontiguousarray(np.transpose(x, (0, 3, 1, 2)))


WORKLOADS = {
    "mlp": Workload(
        name="mlp",
        description="MLP 784-512-512-10 relu, batch 128",
        input_shape=(784,),
        num_classes=10,
        batch_size=128,
        build_keras_style=mlp_keras_style,
        build_torch=mlp_torch,
        init_jax=mlp_init_jax,
        apply_jax=mlp_apply_jax,
        init_tf=mlp_init_tf,
        apply_tf=mlp_apply_tf,
        arrays=_mlp_arrays,
        load_torch=mlp_load_torch,
        latency=True,
    ),
    "cnn": Workload(
        name="cnn",
        description="CNN conv32-pool-conv64-pool-dense10, 28x28x1, batch 128",
        input_shape=(28, 28, 1),
        num_classes=10,
        batch_size=128,
        build_keras_style=cnn_keras_style,
        build_torch=cnn_torch,
        init_jax=cnn_init_jax,
        apply_jax=cnn_apply_jax,
        init_tf=cnn_init_tf,
        apply_tf=cnn_apply_tf,
        arrays=_cnn_arrays,
        load_torch=cnn_load_torch,
        torch_layout=_nchw,
    ),
    "text": Workload(
        name="text",
        description="Embedding 20000x128 -> LSTM 64 -> Dense 2, sequence 100, batch 64",
        input_shape=(TEXT_LEN,),
        num_classes=TEXT_CLASSES,
        batch_size=64,
        build_keras_style=text_keras_style,
        build_torch=text_torch,
        init_jax=text_init_jax,
        apply_jax=text_apply_jax,
        init_tf=text_init_tf,
        apply_tf=text_apply_tf,
        arrays=_text_arrays,
        load_torch=text_load_torch,
        input_dtype="int32",
        vocab_size=TEXT_VOCAB,
        no_torch_compile=(
            "torch.compile(fullgraph=True) refuses nn.LSTM (torch._dynamo.config.allow_rnn is False), and "
            "kbridge's torch.lstm call is unrolled into 100 steps of inductor kernels (> 600 s to compile here)"
        ),
    ),
    "transformer": Workload(
        name="transformer",
        description="pre-norm block (MHA 4x64 + MLP 1024 gelu), sequence 128, width 256, mean -> Dense 10, batch 32",
        input_shape=(TF_LEN, TF_WIDTH),
        num_classes=TF_CLASSES,
        batch_size=32,
        build_keras_style=transformer_keras_style,
        build_torch=transformer_torch,
        init_jax=transformer_init_jax,
        apply_jax=transformer_apply_jax,
        init_tf=transformer_init_tf,
        apply_tf=transformer_apply_tf,
        arrays=_transformer_arrays,
        load_torch=transformer_load_torch,
    ),
}
