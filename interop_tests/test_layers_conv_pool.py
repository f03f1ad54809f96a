"""Convolution, pooling and spatial reshaping layers on numpy, jax, torch and tensorflow.

Each layer runs on every backend and is compared with a float64 NumPy reference computed
here from the layer's own weights (direct sums over kernel taps, never through kbridge).
Also: output shape == `compute_output_shape`, symbolic shapes in a Functional model,
float64 gradients equal across jax/torch/tensorflow, and one `fit` step of a small CNN.
"""

import numpy as np
import pytest

import kbridge
from kbridge import layers, ops
from kbridge.backend import registry

BACKENDS = ("numpy", "jax", "torch", "tensorflow")
GRAD_BACKENDS = ("jax", "torch", "tensorflow")


def _rand(*shape, seed=0):
    return np.random.RandomState(seed).randn(*shape).astype("float32")


def _installed(names):
    return [n for n in names if registry.is_installed(n)]


# -- NumPy references (float64, channels_last inside) --------------------------------------------


def _last(x, cf):
    return np.moveaxis(x, 1, -1) if cf else x


def _back(y, cf):
    return np.moveaxis(y, -1, 1) if cf else y


def _same_pads(size, span, stride):
    out = -(-size // stride)
    total = max((out - 1) * stride + span - size, 0)
    return total // 2, total - total // 2


def conv_ref(x, kernel, strides=1, padding="valid", dilation=1, cf=False):
    """Grouped N-D convolution as a sum over kernel taps of strided input slices times kernel slices."""
    x = _last(x, cf)
    rank = x.ndim - 2
    strides = (strides,) * rank if isinstance(strides, int) else strides
    dilation = (dilation,) * rank if isinstance(dilation, int) else dilation
    window = kernel.shape[:rank]
    spans = [(k - 1) * d + 1 for k, d in zip(window, dilation)]
    if padding == "same":
        pads = [_same_pads(n, s_, st) for n, s_, st in zip(x.shape[1:-1], spans, strides)]
    elif padding == "causal":
        pads = [(spans[0] - 1, 0)]
    else:
        pads = [(0, 0)] * rank
    x = np.pad(x, [(0, 0), *pads, (0, 0)])
    outs = [(n - s_) // st + 1 for n, s_, st in zip(x.shape[1:-1], spans, strides)]
    per_group, filters = kernel.shape[-2], kernel.shape[-1]
    groups = x.shape[-1] // per_group
    y = np.zeros((x.shape[0], *outs, filters))
    for tap in np.ndindex(*window):
        index = tuple(slice(t * d, t * d + (o - 1) * st + 1, st) for t, d, o, st in zip(tap, dilation, outs, strides))
        patch = x[(slice(None), *index)]
        for g in range(groups):
            cols = slice(g * filters // groups, (g + 1) * filters // groups)
            y[..., cols] += patch[..., g * per_group : (g + 1) * per_group] @ kernel[tap][:, cols]
    return _back(y, cf)


def depthwise_ref(x, kernel, cf=False, **kw):
    """One group per channel; output channel c * multiplier + m."""
    rank = x.ndim - 2
    grouped = kernel.reshape(*kernel.shape[:rank], 1, kernel.shape[-2] * kernel.shape[-1])
    return conv_ref(x, grouped, cf=cf, **kw)


def conv_transpose_ref(x, kernel, strides, padding="valid", output_padding=None, cf=False):
    """Scatter-add of every input pixel times the kernel (*spatial, out, in), cropped by Keras 3's rules."""
    x = _last(x, cf)
    rank = x.ndim - 2
    strides = (strides,) * rank if isinstance(strides, int) else strides
    window, sizes = kernel.shape[:rank], x.shape[1:-1]
    full = np.zeros((x.shape[0], *[(n - 1) * s + k for n, s, k in zip(sizes, strides, window)], kernel.shape[-2]))
    for pos in np.ndindex(*sizes):
        for tap in np.ndindex(*window):
            index = tuple(p * s + t for p, s, t in zip(pos, strides, tap))
            full[(slice(None), *index)] += x[(slice(None), *pos)] @ kernel[tap].T
    keep = [slice(None)]
    for axis, (n, s, k) in enumerate(zip(sizes, strides, window)):
        if padding == "same":
            start, length = max(k - s, 0) // 2, n * s
        else:
            start, length = 0, (n - 1) * s + k + (output_padding if output_padding is not None else max(s - k, 0))
        extra = start + length - full.shape[1 + axis]
        if extra > 0:
            widths = [(0, 0)] * full.ndim
            widths[1 + axis] = (0, extra)
            full = np.pad(full, widths)
        keep.append(slice(start, start + length))
    return _back(full[tuple(keep)], cf)


def pool_ref(x, pool, strides=None, padding="valid", reduce=np.max, cf=False):
    """Explicit windows clipped to the input (padding takes no part in a max or a mean)."""
    x = _last(x, cf)
    rank = x.ndim - 2
    pool = (pool,) * rank if isinstance(pool, int) else pool
    strides = pool if strides is None else ((strides,) * rank if isinstance(strides, int) else strides)
    starts, outs = [], []
    for n, p, s in zip(x.shape[1:-1], pool, strides):
        if padding == "same":
            starts.append(_same_pads(n, p, s)[0])
            outs.append(-(-n // s))
        else:
            starts.append(0)
            outs.append((n - p) // s + 1)
    y = np.zeros((x.shape[0], *outs, x.shape[-1]))
    for pos in np.ndindex(*outs):
        region = []
        for o, p, s, b, n in zip(pos, pool, strides, starts, x.shape[1:-1]):
            lo = o * s - b
            region.append(slice(max(lo, 0), min(lo + p, n)))
        patch = x[(slice(None), *region)]
        y[(slice(None), *pos)] = reduce(patch.reshape(x.shape[0], -1, x.shape[-1]), axis=1)
    return _back(y, cf)


def _bias(y, w, cf, rank):
    return y + (w.reshape(-1, *([1] * rank)) if cf else w)


# -- cases ---------------------------------------------------------------------------------------

CF = {"data_format": "channels_first"}
X1, X1CF = _rand(2, 9, 3), _rand(2, 3, 9)
X2, X2CF = _rand(2, 7, 6, 3), _rand(2, 3, 7, 6)
X3 = _rand(1, 5, 4, 4, 2)

# name -> (factory(**kwargs), input, reference(weights, x) in float64)
CASES = {
    "conv1d": (lambda **kw: layers.Conv1D(4, 3, **kw), X1, lambda w, x: conv_ref(x, w[0]) + w[1]),
    "conv1d_causal_dilated": (lambda **kw: layers.Conv1D(4, 3, padding="causal", dilation_rate=2, activation="relu", **kw),
                              X1, lambda w, x: np.maximum(conv_ref(x, w[0], padding="causal", dilation=2) + w[1], 0)),
    "conv1d_same_stride2_cf": (lambda **kw: layers.Conv1D(2, 4, strides=2, padding="same", **CF, **kw), X1CF,
                               lambda w, x: _bias(conv_ref(x, w[0], 2, "same", cf=True), w[1], True, 1)),
    "conv2d": (lambda **kw: layers.Conv2D(4, (3, 2), **kw), X2, lambda w, x: conv_ref(x, w[0]) + w[1]),
    "conv2d_same_stride2": (lambda **kw: layers.Conv2D(4, 3, strides=2, padding="same", use_bias=False, **kw), X2,
                            lambda w, x: conv_ref(x, w[0], 2, "same")),
    "conv2d_dilated": (lambda **kw: layers.Conv2D(4, 2, dilation_rate=(2, 1), **kw), X2, lambda w, x: conv_ref(x, w[0], dilation=(2, 1)) + w[1]),
    "conv2d_groups_cf": (lambda **kw: layers.Conv2D(6, 3, groups=3, padding="same", **CF, **kw), X2CF,
                         lambda w, x: _bias(conv_ref(x, w[0], padding="same", cf=True), w[1], True, 2)),
    "conv3d": (lambda **kw: layers.Conv3D(3, 2, padding="same", **kw), X3, lambda w, x: conv_ref(x, w[0], padding="same") + w[1]),
    "conv1d_transpose": (lambda **kw: layers.Conv1DTranspose(2, 3, strides=2, **kw), _rand(2, 5, 3),
                         lambda w, x: conv_transpose_ref(x, w[0], 2) + w[1]),
    "conv2d_transpose_same": (lambda **kw: layers.Conv2DTranspose(2, 3, strides=2, padding="same", **kw), _rand(2, 3, 4, 3),
                              lambda w, x: conv_transpose_ref(x, w[0], 2, "same") + w[1]),
    "conv2d_transpose_output_padding_cf": (
        lambda **kw: layers.Conv2DTranspose(2, 3, strides=2, output_padding=1, **CF, **kw), _rand(2, 3, 3, 4),
        lambda w, x: _bias(conv_transpose_ref(x, w[0], 2, output_padding=1, cf=True), w[1], True, 2)),
    "conv3d_transpose": (lambda **kw: layers.Conv3DTranspose(2, 2, strides=(2, 1, 1), **kw), _rand(1, 2, 3, 2, 2),
                         lambda w, x: conv_transpose_ref(x, w[0], (2, 1, 1)) + w[1]),
    "depthwise1d": (lambda **kw: layers.DepthwiseConv1D(3, depth_multiplier=2, padding="same", **kw), X1,
                    lambda w, x: depthwise_ref(x, w[0], padding="same") + w[1]),
    "depthwise2d_stride2": (lambda **kw: layers.DepthwiseConv2D(3, strides=2, **kw), X2,
                            lambda w, x: depthwise_ref(x, w[0], strides=2) + w[1]),
    "depthwise2d_dilated_cf": (lambda **kw: layers.DepthwiseConv2D(2, dilation_rate=2, depth_multiplier=2, **CF, **kw), X2CF,
                               lambda w, x: _bias(depthwise_ref(x, w[0], dilation=2, cf=True), w[1], True, 2)),
    "separable1d": (lambda **kw: layers.SeparableConv1D(4, 3, depth_multiplier=2, **kw), X1,
                    lambda w, x: conv_ref(depthwise_ref(x, w[0]), w[1]) + w[2]),
    "separable2d_same_stride2": (lambda **kw: layers.SeparableConv2D(5, 3, strides=2, padding="same", **kw), X2,
                                 lambda w, x: conv_ref(depthwise_ref(x, w[0], strides=2, padding="same"), w[1]) + w[2]),
    "separable2d_cf": (lambda **kw: layers.SeparableConv2D(2, 2, **CF, **kw), X2CF,
                       lambda w, x: _bias(conv_ref(depthwise_ref(x, w[0], cf=True), w[1], cf=True), w[2], True, 2)),
    "max_pool1d_same": (lambda **kw: layers.MaxPooling1D(3, strides=2, padding="same", **kw), X1,
                        lambda w, x: pool_ref(x, 3, 2, "same")),
    "max_pool2d": (lambda **kw: layers.MaxPooling2D(**kw), X2, lambda w, x: pool_ref(x, 2)),
    "max_pool2d_cf": (lambda **kw: layers.MaxPool2D((3, 2), strides=1, **CF, **kw), X2CF,
                      lambda w, x: pool_ref(x, (3, 2), 1, cf=True)),
    "max_pool3d": (lambda **kw: layers.MaxPooling3D(2, padding="same", **kw), X3, lambda w, x: pool_ref(x, 2, padding="same")),
    "avg_pool1d": (lambda **kw: layers.AveragePooling1D(2, **kw), X1, lambda w, x: pool_ref(x, 2, reduce=np.mean)),
    "avg_pool2d_same": (lambda **kw: layers.AveragePooling2D(3, strides=2, padding="same", **kw), X2,
                        lambda w, x: pool_ref(x, 3, 2, "same", np.mean)),
    "avg_pool2d_cf": (lambda **kw: layers.AvgPool2D(2, strides=(1, 2), **CF, **kw), X2CF,
                      lambda w, x: pool_ref(x, 2, (1, 2), reduce=np.mean, cf=True)),
    "avg_pool3d": (lambda **kw: layers.AveragePooling3D((2, 2, 1), **kw), X3, lambda w, x: pool_ref(x, (2, 2, 1), reduce=np.mean)),
    "global_max1d": (lambda **kw: layers.GlobalMaxPooling1D(**kw), X1, lambda w, x: x.max(1)),
    "global_max2d_keepdims_cf": (lambda **kw: layers.GlobalMaxPool2D(keepdims=True, **CF, **kw), X2CF,
                                 lambda w, x: x.max((2, 3), keepdims=True)),
    "global_max3d": (lambda **kw: layers.GlobalMaxPooling3D(**kw), X3, lambda w, x: x.max((1, 2, 3))),
    "global_avg1d_cf": (lambda **kw: layers.GlobalAveragePooling1D(**CF, **kw), X1CF, lambda w, x: x.mean(2)),
    "global_avg2d": (lambda **kw: layers.GlobalAvgPool2D(**kw), X2, lambda w, x: x.mean((1, 2))),
    "global_avg3d_keepdims": (lambda **kw: layers.GlobalAveragePooling3D(keepdims=True, **kw), X3,
                              lambda w, x: x.mean((1, 2, 3), keepdims=True)),
    "up_sampling1d": (lambda **kw: layers.UpSampling1D(3, **kw), X1, lambda w, x: np.repeat(x, 3, 1)),
    "up_sampling2d_cf": (lambda **kw: layers.UpSampling2D((2, 3), **CF, **kw), X2CF,
                         lambda w, x: np.repeat(np.repeat(x, 2, 2), 3, 3)),
    "up_sampling3d": (lambda **kw: layers.UpSampling3D((1, 2, 2), **kw), X3, lambda w, x: np.repeat(np.repeat(x, 2, 2), 2, 3)),
    "zero_padding1d": (lambda **kw: layers.ZeroPadding1D((1, 2), **kw), X1, lambda w, x: np.pad(x, [(0, 0), (1, 2), (0, 0)])),
    "zero_padding2d_cf": (lambda **kw: layers.ZeroPadding2D(((1, 0), (2, 3)), **CF, **kw), X2CF,
                          lambda w, x: np.pad(x, [(0, 0), (0, 0), (1, 0), (2, 3)])),
    "zero_padding3d": (lambda **kw: layers.ZeroPadding3D(1, **kw), X3, lambda w, x: np.pad(x, [(0, 0), (1, 1), (1, 1), (1, 1), (0, 0)])),
    "cropping1d": (lambda **kw: layers.Cropping1D((2, 1), **kw), X1, lambda w, x: x[:, 2:-1]),
    "cropping2d": (lambda **kw: layers.Cropping2D(((1, 2), (0, 1)), **kw), X2, lambda w, x: x[:, 1:-2, 0:-1]),
    "cropping3d_cf": (lambda **kw: layers.Cropping3D((1, (0, 1), 1), **CF, **kw), _rand(1, 2, 4, 4, 3),
                      lambda w, x: x[:, :, 1:-1, 0:-1, 1:-1]),
}  # fmt: skip
WEIGHTED = sorted(name for name in CASES if name.startswith(("conv", "depthwise", "separable")))


def _fixed_weights(layer, seed):
    rng = np.random.RandomState(seed)
    return [rng.uniform(-1.0, 1.0, size=w.shape).astype(w.dtype) for w in layer.get_weights()]


def _numpy(x):
    return np.asarray(ops.convert_to_numpy(x))


def _build(name, backend, dtype=None):
    """The case's layer on `backend` with fixed weights, its input and reference."""
    factory, x, reference = CASES[name]
    kwargs = {"dtype": dtype} if dtype else {}
    if name in WEIGHTED:
        # Replaced below: skip random initialization (one JAX compilation per op and shape).
        kwargs.update({"bias_initializer": "zeros"})
    if dtype:
        x = x.astype(dtype)
    with kbridge.backend.use(backend):
        layer = factory(**kwargs)
        layer(x)
        layer.set_weights(_fixed_weights(layer, sorted(CASES).index(name)))
    return layer, x, reference


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("backend", BACKENDS)
def test_layer_matches_numpy_reference(backend, name):
    if not registry.is_installed(backend):
        pytest.skip(f"{backend} is not installed")
    layer, x, reference = _build(name, backend)
    with kbridge.backend.use(backend):
        out = layer(x)
    assert isinstance(out, registry.get(backend).TENSOR_TYPES), type(out)
    got = _numpy(out)
    assert got.dtype == np.float32
    assert got.shape == tuple(layer.compute_output_shape(x.shape)), name
    expected = reference([w.astype("float64") for w in layer.get_weights()], x.astype("float64"))
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5, err_msg=f"{backend}: {name}")


@pytest.mark.parametrize("name", sorted(CASES))
def test_functional_model_infers_the_output_shape(name):
    factory, x, _ = CASES[name]
    with kbridge.backend.use("numpy"):
        inputs = kbridge.Input(x.shape[1:], batch_size=None)
        layer = factory()
        outputs = layer(inputs)
        model = kbridge.Model(inputs, outputs)
        real = _numpy(model(x))
    assert outputs.shape == (None,) + real.shape[1:]
    # Unknown spatial sizes stay unknown (and channels stay known where weights need them).
    spatial = kbridge.Input((None,) * (x.ndim - 2) + (x.shape[-1],)) if "_cf" not in name else None
    if spatial is not None:
        shape = factory()(spatial).shape
        assert len(shape) == real.ndim and shape[0] is None and shape[-1] == real.shape[-1]
        if not name.startswith("global"):
            assert all(d is None for d in shape[1:-1]), shape


# -- gradients -----------------------------------------------------------------------------------


def _grads_jax(layer, x):
    import jax

    trainable = [v.value for v in layer.trainable_variables]

    def loss(params, inputs):
        out, _ = layer.stateless_call(params, [], inputs)
        return ops.sum(ops.square(out))

    g_params, g_x = jax.jit(jax.grad(loss, argnums=(0, 1)))(trainable, jax.numpy.asarray(x))
    return [np.asarray(g_x)] + [np.asarray(g) for g in g_params]


def _grads_torch(layer, x):
    import torch

    xt = torch.tensor(x, requires_grad=True)
    out = layer(xt)
    grads = torch.autograd.grad((out * out).sum(), [xt] + [v.value for v in layer.trainable_variables])
    return [g.detach().numpy() for g in grads]


def _grads_tf(layer, x):
    import tensorflow as tf

    xt = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(xt)
        total = tf.reduce_sum(tf.square(layer(xt)))
    grads = tape.gradient(total, [xt] + [v.value for v in layer.trainable_variables])
    return [tf.convert_to_tensor(g).numpy() for g in grads]


_GRADS = {"jax": _grads_jax, "torch": _grads_torch, "tensorflow": _grads_tf}


def _x64(backend):
    if backend == "jax":
        import jax

        return jax.enable_x64(True)
    import contextlib

    return contextlib.nullcontext()


GRAD_CASES = WEIGHTED + ["max_pool1d_same", "max_pool2d_cf", "avg_pool2d_same", "global_avg1d_cf", "global_max3d",
                         "up_sampling2d_cf", "zero_padding2d_cf", "cropping2d"]  # fmt: skip


@pytest.mark.parametrize("name", GRAD_CASES)
def test_float64_gradients_agree_across_frameworks(name):
    grads = {}
    for backend in _installed(GRAD_BACKENDS):
        with _x64(backend):
            layer, x, _ = _build(name, backend, dtype="float64")
            with kbridge.backend.use(backend):
                grads[backend] = _GRADS[backend](layer, x)
        assert all(g.dtype == np.float64 for g in grads[backend]), backend
    if len(grads) < 2:
        pytest.skip("needs two differentiable backends")
    first = next(iter(grads))
    assert len(grads[first]) == 1 + len(layer.trainable_variables)
    assert all(np.abs(g).max() > 1e-6 for g in grads[first])
    for backend, values in grads.items():
        for got, want in zip(values, grads[first]):
            np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10, err_msg=f"{backend} vs {first}: {name}")


# -- training ------------------------------------------------------------------------------------


@pytest.mark.parametrize("backend", GRAD_BACKENDS)
def test_one_fit_step_of_a_small_cnn_lowers_the_loss(backend):
    if not registry.is_installed(backend):
        pytest.skip(f"{backend} is not installed")
    rng = np.random.RandomState(0)
    x = rng.rand(16, 8, 8, 1).astype("float32")
    y = (x[:, :4].mean((1, 2, 3)) > x[:, 4:].mean((1, 2, 3))).astype("int32")
    kbridge.utils.set_random_seed(1)
    with kbridge.backend.use(backend):
        model = kbridge.Sequential([
            kbridge.Input((8, 8, 1)),
            layers.Conv2D(4, 3, activation="relu", padding="same"),
            layers.MaxPooling2D(),
            layers.Flatten(),
            layers.Dense(2),
        ])  # fmt: skip
    assert [tuple(w.shape) for w in model.trainable_weights] == [(3, 3, 1, 4), (4,), (64, 2), (2,)]
    model.compile(optimizer=kbridge.optimizers.SGD(0.1),
                  loss=kbridge.losses.SparseCategoricalCrossentropy(from_logits=True))  # fmt: skip
    before = model.evaluate(x, y, batch_size=16, verbose=0)
    kernel = np.array(model.layers[0].kernel.numpy())
    history = model.fit(x, y, batch_size=16, epochs=1, verbose=0, shuffle=False)
    after = model.evaluate(x, y, batch_size=16, verbose=0)
    assert len(history.history["loss"]) == 1
    assert not np.allclose(model.layers[0].kernel.numpy(), kernel)  # the conv kernel was trained too
    assert after < before, (before, after)
