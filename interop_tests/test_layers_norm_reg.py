"""Normalization and regularization layers on numpy, jax, torch and tensorflow.

Deterministic layers are compared with float64 NumPy references computed here from the
layer's own weights; random layers are checked for identity at inference, for the
statistics of their noise in training mode and for identical draws across frameworks.
Float64 gradients must agree across jax/torch/tensorflow; `fit` must apply weight
regularizers and constraints on every framework.
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


def _skip_missing(backend):
    if not registry.is_installed(backend):
        pytest.skip(f"{backend} is not installed")


def _numpy(x):
    return np.asarray(ops.convert_to_numpy(x))


# -- NumPy references ----------------------------------------------------------------------------


def group_norm_ref(x, gamma, beta, groups, axis=-1, epsilon=1e-3):
    x = np.moveaxis(x, axis, -1)
    shape = x.shape
    g = x.reshape(shape[0], -1, groups, shape[-1] // groups)
    mean = g.mean(axis=(1, 3), keepdims=True)
    var = g.var(axis=(1, 3), keepdims=True)
    y = ((g - mean) / np.sqrt(var + epsilon)).reshape(shape)
    if gamma is not None:
        y = y * gamma
    if beta is not None:
        y = y + beta
    return np.moveaxis(y, -1, axis)


def unit_norm_ref(x, axis):
    return x / np.maximum(np.sqrt((x * x).sum(axis=axis, keepdims=True)), 1e-12)


CF = {"data_format": "channels_first"}
X3, X4 = _rand(2, 5, 6), _rand(2, 6, 3, 4)

# name -> (factory(**kwargs), input, reference(weights, x))
CASES = {
    "group_norm": (lambda **kw: layers.GroupNormalization(3, **kw), X3, lambda w, x: group_norm_ref(x, w[0], w[1], 3)),
    "group_norm_axis1_no_center": (lambda **kw: layers.GroupNormalization(2, axis=1, center=False, **kw), X4,
                                   lambda w, x: group_norm_ref(x, w[0], None, 2, axis=1)),
    "instance_norm": (lambda **kw: layers.GroupNormalization(-1, epsilon=1e-5, **kw), X3,
                      lambda w, x: group_norm_ref(x, w[0], w[1], 6, epsilon=1e-5)),
    "unit_norm": (lambda **kw: layers.UnitNormalization(**kw), X3, lambda w, x: unit_norm_ref(x, -1)),
    "unit_norm_axes": (lambda **kw: layers.UnitNormalization(axis=[1, 2], **kw), X4, lambda w, x: unit_norm_ref(x, (1, 2))),
    "spectral_dense_inference": (lambda **kw: layers.SpectralNormalization(layers.Dense(3, **kw), **kw), X3,
                                 lambda w, x: x @ w[0] + w[2]),
    "activity_regularization": (lambda **kw: layers.ActivityRegularization(0.1, 0.2, **kw), X3, lambda w, x: x),
}  # fmt: skip
WEIGHTED = ("group_norm", "group_norm_axis1_no_center", "instance_norm", "spectral_dense_inference")


def _fixed_weights(layer, seed):
    rng = np.random.RandomState(seed)
    return [rng.uniform(-1.0, 1.0, size=w.shape).astype(w.dtype) for w in layer.get_weights()]


def _build(name, backend, dtype=None):
    factory, x, reference = CASES[name]
    kwargs = {"dtype": dtype} if dtype else {}
    if dtype:
        x = x.astype(dtype)
    with kbridge.backend.use(backend):
        layer = factory(**kwargs)
        layer(x)
        if name in WEIGHTED:
            layer.set_weights(_fixed_weights(layer, sorted(CASES).index(name)))
    return layer, x, reference


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("backend", BACKENDS)
def test_layer_matches_numpy_reference(backend, name):
    _skip_missing(backend)
    layer, x, reference = _build(name, backend)
    with kbridge.backend.use(backend):
        out = layer(x)
    assert isinstance(out, registry.get(backend).TENSOR_TYPES), type(out)
    got = _numpy(out)
    assert got.dtype == np.float32
    assert got.shape == tuple(layer.compute_output_shape(x.shape)), name
    expected = reference([w.astype("float64") for w in layer.get_weights()], x.astype("float64"))
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5, err_msg=f"{backend}: {name}")


@pytest.mark.parametrize("backend", BACKENDS)
def test_activity_regularization_adds_the_penalty(backend):
    _skip_missing(backend)
    x = X3
    with kbridge.backend.use(backend):
        layer = layers.ActivityRegularization(l1=0.1, l2=0.2)
        layer(x)
        (loss,) = layer.losses
    # Keras 3.15 divides activity penalties by the batch size.
    expected = (0.1 * np.abs(x.astype("float64")).sum() + 0.2 * (x.astype("float64") ** 2).sum()) / x.shape[0]
    np.testing.assert_allclose(_numpy(loss), expected, rtol=1e-5)


def _power_ref(kernel, u, iterations):
    w = kernel.reshape(-1, kernel.shape[-1])
    for _ in range(iterations):
        v = u @ w.T
        v = v / np.linalg.norm(v)
        u = v @ w
        u = u / np.linalg.norm(u)
    sigma = (v @ w @ u.T).item()
    return u, kernel / sigma


@pytest.mark.parametrize("backend", BACKENDS)
def test_spectral_normalization_training_normalizes_the_kernel(backend):
    _skip_missing(backend)
    x = X3
    kbridge.utils.set_random_seed(5)
    with kbridge.backend.use(backend):
        layer = layers.SpectralNormalization(layers.Conv1D(4, 2), power_iterations=3)
        layer(x)
        kernel, u, bias = [w.astype("float64") for w in layer.get_weights()]
        assert [w.name for w in layer.weights] == ["kernel", "vector_u", "bias"]
        assert len(layer.non_trainable_weights) == 1 and len(layer.trainable_weights) == 2
        out = _numpy(layer(x, training=True))
        new_kernel, new_u, _ = layer.get_weights()
    want_u, want_kernel = _power_ref(kernel, u, 3)
    np.testing.assert_allclose(new_u, want_u, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(new_kernel, want_kernel, rtol=1e-4, atol=1e-5)
    # The power-method estimate never exceeds the largest singular value: the new one is >= 1.
    assert np.linalg.svd(new_kernel.reshape(-1, 4), compute_uv=False)[0] >= 1 - 1e-5
    expected = np.stack([x[:, i : i + 2].reshape(2, -1) for i in range(4)], 1) @ want_kernel.reshape(-1, 4) + bias
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-4)


# -- random layers -------------------------------------------------------------------------------

RANDOM = {
    "gaussian_noise": lambda: layers.GaussianNoise(0.5, seed=7),
    "gaussian_dropout": lambda: layers.GaussianDropout(0.3, seed=7),
    "alpha_dropout": lambda: layers.AlphaDropout(0.2, seed=7),
    "spatial_dropout1d": lambda: layers.SpatialDropout1D(0.4, seed=7),
    "spatial_dropout2d_cf": lambda: layers.SpatialDropout2D(0.4, seed=7, **CF),
    "spatial_dropout3d": lambda: layers.SpatialDropout3D(0.4, seed=7),
}
RANDOM_INPUTS = {"spatial_dropout1d": (64, 8, 32), "spatial_dropout2d_cf": (64, 32, 3, 3),
                 "spatial_dropout3d": (32, 2, 2, 2, 64)}  # fmt: skip


def _random_input(name):
    return (1.0 + np.abs(_rand(*RANDOM_INPUTS.get(name, (64, 128)), seed=3))).astype("float32")


def _draw(name, backend):
    x = _random_input(name)
    with kbridge.backend.use(backend):
        layer = RANDOM[name]()
        inference = _numpy(layer(x))
        training = _numpy(layer(x, training=True))
        second = _numpy(layer(x, training=True))
    assert training.shape == tuple(layer.compute_output_shape(x.shape))
    return x, inference, training, second


@pytest.mark.parametrize("name", sorted(RANDOM))
@pytest.mark.parametrize("backend", BACKENDS)
def test_random_layer_statistics(backend, name):
    _skip_missing(backend)
    x, inference, out, second = _draw(name, backend)
    np.testing.assert_array_equal(inference, x)
    assert not np.array_equal(out, second)  # the generator advanced
    if name == "gaussian_noise":
        noise = out - x
        assert abs(noise.mean()) < 0.03 and abs(noise.std() - 0.5) < 0.03
    elif name == "gaussian_dropout":
        factor = out / x
        assert abs(factor.mean() - 1) < 0.03 and abs(factor.std() - np.sqrt(0.3 / 0.7)) < 0.03
    elif name == "alpha_dropout":
        dropped = np.isclose(out, out.min())
        assert abs(dropped.mean() - 0.2) < 0.03
        alpha_p = -1.6732632423543772 * 1.0507009873554805
        a = ((1 - 0.2) * (1 + 0.2 * alpha_p**2)) ** -0.5
        np.testing.assert_allclose(out[~dropped], a * x[~dropped] - a * alpha_p * 0.2, rtol=1e-5)
    else:
        kept = out != 0
        np.testing.assert_allclose(out[kept], x[kept] / 0.6, rtol=1e-6)
        channels = 1 if name.endswith("_cf") else -1
        per_map = np.moveaxis(kept, channels, 1).reshape(x.shape[0], x.shape[channels], -1)
        assert (per_map.all(-1) | ~per_map.any(-1)).all()  # whole feature maps dropped together
        assert abs(1 - per_map[..., 0].mean() - 0.4) < 0.05


@pytest.mark.parametrize("name", sorted(RANDOM))
def test_random_layers_draw_the_same_on_every_framework(name):
    draws = {b: _draw(name, b)[2:] for b in _installed(GRAD_BACKENDS)}
    first = next(iter(draws))
    for backend, (out, second) in draws.items():
        np.testing.assert_allclose(out, draws[first][0], rtol=1e-5, atol=1e-6, err_msg=f"{backend} vs {first}")
        np.testing.assert_allclose(second, draws[first][1], rtol=1e-5, atol=1e-6, err_msg=f"{backend} vs {first}")


def test_random_layer_in_stateless_call_returns_the_advanced_seed():
    x = _random_input("gaussian_noise")
    with kbridge.backend.use("jax"):
        layer = layers.GaussianNoise(0.5, seed=3)
        layer(x)
        state = [v.value for v in layer.non_trainable_variables]
        out1, state1 = layer.stateless_call([], state, x, training=True)
        again, _ = layer.stateless_call([], state, x, training=True)
        out2, _ = layer.stateless_call([], state1, x, training=True)
    np.testing.assert_array_equal(_numpy(out1), _numpy(again))
    assert not np.array_equal(_numpy(out1), _numpy(out2))


# -- gradients -----------------------------------------------------------------------------------


def _grads(backend, layer, x, training=False):
    """d/d(inputs, weights) of sum(out**2 + out) (the square alone is flat for UnitNormalization)."""
    if backend == "jax":
        import jax

        def loss(params, inputs):
            out, _ = layer.stateless_call(params, [v.value for v in layer.non_trainable_variables], inputs,
                                          training=training)  # fmt: skip
            return ops.sum(ops.add(ops.square(out), out))

        params = [v.value for v in layer.trainable_variables]
        g_params, g_x = jax.grad(loss, argnums=(0, 1))(params, jax.numpy.asarray(x))
        return [np.asarray(g_x)] + [np.asarray(g) for g in g_params]
    if backend == "torch":
        import torch

        xt = torch.tensor(x, requires_grad=True)
        params = [v.value for v in layer.trainable_variables]
        out = layer(xt, training=training) if training else layer(xt)
        grads = torch.autograd.grad((out * out + out).sum(), [xt] + params)
        return [g.detach().numpy() for g in grads]
    import tensorflow as tf

    xt = tf.constant(x)
    params = [v.value for v in layer.trainable_variables]
    with tf.GradientTape() as tape:
        tape.watch(xt)
        out = layer(xt, training=training) if training else layer(xt)
        total = tf.reduce_sum(tf.square(out) + out)
    return [tf.convert_to_tensor(g).numpy() for g in tape.gradient(total, [xt] + params)]


def _x64(backend):
    if backend == "jax":
        import jax

        return jax.enable_x64(True)
    import contextlib

    return contextlib.nullcontext()


@pytest.mark.parametrize("name", ["group_norm_axis1_no_center", "unit_norm_axes", "spectral_dense_inference"])
def test_float64_gradients_agree_across_frameworks(name):
    grads = {}
    for backend in _installed(GRAD_BACKENDS):
        with _x64(backend):
            layer, x, _ = _build(name, backend, dtype="float64")
            with kbridge.backend.use(backend):
                grads[backend] = _grads(backend, layer, x)
        assert all(g.dtype == np.float64 for g in grads[backend]), backend
    if len(grads) < 2:
        pytest.skip("needs two differentiable backends")
    first = next(iter(grads))
    assert len(grads[first]) == 1 + len(layer.trainable_variables)
    assert all(np.abs(g).max() > 1e-6 for g in grads[first])
    for backend, values in grads.items():
        for got, want in zip(values, grads[first]):
            np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-9, err_msg=f"{backend} vs {first}: {name}")


# -- fit applies weight regularizers and constraints ---------------------------------------------


def _fit_model(backend, **dense_kwargs):
    rng = np.random.RandomState(0)
    x = rng.randn(32, 4).astype("float32")
    y = (x @ np.array([[1.0], [-2.0], [3.0], [-1.0]], "float32")).astype("float32")
    kbridge.utils.set_random_seed(0)
    with kbridge.backend.use(backend):
        model = kbridge.Sequential([kbridge.Input((4,)), layers.Dense(1, **dense_kwargs)])
    model.compile(optimizer=kbridge.optimizers.SGD(0.05), loss="mse")
    return model, x, y


@pytest.mark.parametrize("backend", GRAD_BACKENDS)
def test_fit_applies_weight_regularizers_and_constraints(backend):
    _skip_missing(backend)
    # The L2 penalty is part of the reported loss.
    model, x, y = _fit_model(backend, kernel_regularizer=kbridge.regularizers.L2(0.5), use_bias=False)
    kernel = model.layers[0].kernel.numpy().astype("float64")
    mse = ((x.astype("float64") @ kernel - y) ** 2).mean()
    loss = model.evaluate(x, y, batch_size=32, verbose=0)
    assert loss == pytest.approx(mse + 0.5 * (kernel**2).sum(), rel=1e-4)
    # NonNeg keeps the kernel >= 0 though the target wants negative weights; MaxNorm bounds the norm.
    for constraint, check in [
        (kbridge.constraints.NonNeg(), lambda k: k.min() >= 0),
        (kbridge.constraints.MaxNorm(0.5), lambda k: np.linalg.norm(k, axis=0).max() <= 0.5 + 1e-5),
    ]:
        model, x, y = _fit_model(backend, kernel_constraint=constraint)
        model.fit(x, y, batch_size=8, epochs=2, verbose=0)
        kernel = np.asarray(model.layers[0].kernel.numpy())
        assert check(kernel), (type(constraint).__name__, kernel.ravel())
