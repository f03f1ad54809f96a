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

To add a workload (the text model: Embedding 20000x128 -> LSTM 64 -> Dense, seq 100,
batch 64; a transformer block), add one `Workload(...)` entry to `WORKLOADS` with its builders.
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
    # "text": Workload(name="text", input_shape=(100,), input_dtype="int32", batch_size=64, ...),
}
