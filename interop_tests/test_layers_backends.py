"""Built-in layers across backends: NumPy references, `to_backend`, training-mode state, gradients.

Every layer is written once with `kbridge.ops`; here each one runs on numpy, jax, torch
and tensorflow and is compared with a NumPy reference computed from the layer's own
weights. Gradients (float64) of `sum(output**2)` with respect to inputs and weights must
agree across jax (`stateless_call` under `jax.grad`), torch (autograd) and tensorflow
(`GradientTape`). The square keeps BatchNormalization's training-mode gradient non-zero
(the gradient of a plain sum of normalized values vanishes).
"""

import math

import numpy as np
import pytest

import kbridge
from kbridge import layers, ops
from kbridge.backend import registry

BACKENDS = ("numpy", "jax", "torch", "tensorflow")
GRAD_BACKENDS = ("jax", "torch", "tensorflow")
_erf = np.vectorize(math.erf)


def _skip_missing(name):
    if not registry.is_installed(name):
        pytest.skip(f"backend {name!r}: its framework is not importable here")


def _rand(*shape, seed=0):
    return np.random.RandomState(seed).randn(*shape).astype("float32")


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def shifted_square(x):
    return ops.add(ops.square(x), 1.0)


def _bn_ref(w, x, axis=-1, center=True, training=False, eps=1e-3):
    gamma, beta, mean, var = (w[0], w[1], w[2], w[3]) if center else (w[0], 0.0, w[1], w[2])
    if training:
        axes = tuple(a for a in range(x.ndim) if a != axis % x.ndim)
        mean, var = x.mean(axes), x.var(axes)
    shape = [1] * x.ndim
    shape[axis] = -1

    def b(v):
        return np.reshape(v, shape) if np.ndim(v) else v

    return (x - b(mean)) / np.sqrt(b(var) + eps) * b(gamma) + b(beta)


def _ln_ref(w, x, axes=(-1,), eps=1e-3):
    mean = x.mean(axes, keepdims=True)
    var = x.var(axes, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * w[0] + w[1]


def _cosine(a, b):
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    return (a * b).sum(1, keepdims=True)


# name -> (factory, inputs, reference(weights, inputs) computed in float64 NumPy)
CASES = {
    "dense": (lambda **kw: layers.Dense(5, activation="tanh", **kw), lambda: _rand(3, 4), lambda w, x: np.tanh(x @ w[0] + w[1])),
    "dense_3d_gelu": (lambda **kw: layers.Dense(2, activation="gelu", use_bias=False, **kw), lambda: _rand(2, 3, 4),
                      lambda w, x: 0.5 * (x @ w[0]) * (1 + _erf((x @ w[0]) / np.sqrt(2)))),
    "einsum_dense": (lambda **kw: layers.EinsumDense("abc,cd->abd", output_shape=(None, 6), bias_axes="d", **kw),
                     lambda: _rand(2, 3, 4), lambda w, x: np.einsum("abc,cd->abd", x, w[0]) + w[1]),
    "einsum_dense_ellipsis": (lambda **kw: layers.EinsumDense("...b,bc->...c", output_shape=5, **kw),
                              lambda: _rand(2, 3, 4), lambda w, x: x @ w[0]),
    "embedding": (lambda **kw: layers.Embedding(10, 3, **kw), lambda: np.array([[0, 3, 9], [1, 2, 0]], "int32"),
                  lambda w, x: w[0][x]),
    "activation": (lambda **kw: layers.Activation("softmax", **kw), lambda: _rand(3, 4),
                   lambda w, x: np.exp(x) / np.exp(x).sum(-1, keepdims=True)),
    "dropout_inference": (lambda **kw: layers.Dropout(0.5, seed=1, **kw), lambda: _rand(3, 4), lambda w, x: x),
    "flatten": (lambda **kw: layers.Flatten(**kw), lambda: _rand(2, 3, 4), lambda w, x: x.reshape(2, -1)),
    "flatten_cf": (lambda **kw: layers.Flatten(data_format="channels_first", **kw), lambda: _rand(2, 3, 4),
                   lambda w, x: x.transpose(0, 2, 1).reshape(2, -1)),
    "reshape": (lambda **kw: layers.Reshape((-1, 2), **kw), lambda: _rand(2, 3, 4), lambda w, x: x.reshape(2, 6, 2)),
    "permute": (lambda **kw: layers.Permute((2, 1), **kw), lambda: _rand(2, 3, 4), lambda w, x: x.transpose(0, 2, 1)),
    "repeat_vector": (lambda **kw: layers.RepeatVector(3, **kw), lambda: _rand(2, 4),
                      lambda w, x: np.repeat(x[:, None], 3, axis=1)),
    "identity": (lambda **kw: layers.Identity(**kw), lambda: _rand(2, 4), lambda w, x: x),
    "lambda": (lambda **kw: layers.Lambda(shifted_square, **kw), lambda: _rand(2, 4), lambda w, x: x * x + 1),
    "concatenate": (lambda **kw: layers.Concatenate(axis=1, **kw), lambda: [_rand(2, 3), _rand(2, 5, seed=1)],
                    lambda w, x: np.concatenate(x, 1)),
    "add": (lambda **kw: layers.Add(**kw), lambda: [_rand(2, 3), _rand(2, 3, seed=1), _rand(2, 3, seed=2)],
            lambda w, x: x[0] + x[1] + x[2]),
    "subtract": (lambda **kw: layers.Subtract(**kw), lambda: [_rand(2, 3), _rand(2, 3, seed=1)], lambda w, x: x[0] - x[1]),
    "multiply": (lambda **kw: layers.Multiply(**kw), lambda: [_rand(2, 3), _rand(2, 3, seed=1)], lambda w, x: x[0] * x[1]),
    "average": (lambda **kw: layers.Average(**kw), lambda: [_rand(2, 3), _rand(2, 3, seed=1)], lambda w, x: (x[0] + x[1]) / 2),
    "maximum": (lambda **kw: layers.Maximum(**kw), lambda: [_rand(2, 3), _rand(2, 3, seed=1)], lambda w, x: np.maximum(*x)),
    "minimum": (lambda **kw: layers.Minimum(**kw), lambda: [_rand(2, 3), _rand(2, 3, seed=1)], lambda w, x: np.minimum(*x)),
    "dot": (lambda **kw: layers.Dot(axes=(1, 2), **kw), lambda: [_rand(2, 4, 3), _rand(2, 5, 4, seed=1)],
            lambda w, x: np.einsum("bic,bji->bcj", x[0], x[1])),
    "dot_normalize": (lambda **kw: layers.Dot(axes=1, normalize=True, **kw), lambda: [_rand(2, 4), _rand(2, 4, seed=1)],
                      lambda w, x: _cosine(*x)),
    "batch_norm": (lambda **kw: layers.BatchNormalization(**kw), lambda: _rand(4, 3), _bn_ref),
    "batch_norm_axis1": (lambda **kw: layers.BatchNormalization(axis=1, center=False, **kw), lambda: _rand(4, 3, 2),
                         lambda w, x: _bn_ref(w, x, axis=1, center=False)),
    "layer_norm": (lambda **kw: layers.LayerNormalization(**kw), lambda: _rand(4, 3), _ln_ref),
    "layer_norm_rms": (lambda **kw: layers.LayerNormalization(axis=[1, 2], rms_scaling=True, **kw), lambda: _rand(2, 3, 4),
                       lambda w, x: x / np.sqrt(x.var((1, 2), keepdims=True) + 1e-3) * w[0]),
    "rescaling": (lambda **kw: layers.Rescaling(1 / 255.0, offset=-1.0, **kw), lambda: _rand(2, 3), lambda w, x: x / 255 - 1),
}  # fmt: skip
WEIGHTED = ["dense", "dense_3d_gelu", "einsum_dense", "einsum_dense_ellipsis", "embedding", "batch_norm",
            "batch_norm_axis1", "layer_norm", "layer_norm_rms"]  # fmt: skip


# The weights are replaced by `_fixed_weights`: skip random initialization, which costs
# JAX one compilation per op and shape (initializers are compared across backends below).
FAST_INIT = {
    "dense": {"kernel_initializer": "zeros"},
    "dense_3d_gelu": {"kernel_initializer": "zeros"},
    "einsum_dense": {"kernel_initializer": "zeros"},
    "einsum_dense_ellipsis": {"kernel_initializer": "zeros"},
    "embedding": {"embeddings_initializer": "zeros"},
}


def _fixed_weights(layer, seed):
    rng = np.random.RandomState(seed)
    # Positive values keep BatchNormalization's moving variance valid.
    return [rng.uniform(0.5, 1.5, size=w.shape).astype(w.dtype) for w in layer.get_weights()]


def _numpy(x):
    if isinstance(x, (list, tuple)):
        return [_numpy(v) for v in x]
    return np.asarray(ops.convert_to_numpy(x))


def _cast_floats(inputs, dtype):
    if isinstance(inputs, list):
        return [_cast_floats(x, dtype) for x in inputs]
    return inputs.astype(dtype) if inputs.dtype.kind == "f" else inputs


def _build(name, backend, dtype=None):
    """The case's layer built on `backend` with fixed weights, its inputs, and its reference."""
    factory, make_inputs, reference = CASES[name]
    inputs = make_inputs() if dtype is None else _cast_floats(make_inputs(), dtype)
    kwargs = dict(FAST_INIT.get(name, {}))
    if dtype:
        kwargs["dtype"] = dtype
    with kbridge.backend.use(backend):
        layer = factory(**kwargs)
        layer(inputs)
        layer.set_weights(_fixed_weights(layer, sorted(CASES).index(name)))
    return layer, inputs, reference


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("backend", BACKENDS)
def test_layer_matches_numpy_reference(backend, name):
    _skip_missing(backend)
    layer, inputs, reference = _build(name, backend)
    with kbridge.backend.use(backend):
        out = layer(inputs)
    assert isinstance(out, registry.get(backend).TENSOR_TYPES), type(out)
    weights = [w.astype("float64") for w in layer.get_weights()]
    expected = reference(weights, _cast_floats(inputs, "float64"))
    np.testing.assert_allclose(_numpy(out), expected, rtol=1e-5, atol=1e-5, err_msg=f"{backend}: {name}")
    assert str(_numpy(out).dtype) == "float32"


@pytest.mark.parametrize("name", sorted(CASES))
def test_to_backend_keeps_outputs(name):
    layer, inputs, _ = _build(name, "numpy")
    expected = _numpy(layer(inputs))
    for backend in BACKENDS[1:]:
        if not registry.is_installed(backend):
            continue
        layer.to_backend(backend)
        assert all(v.backend == backend for v in layer.variables)
        # Native inputs: a weighted layer left on another backend would refuse them.
        with kbridge.backend.use(backend):
            native = [ops.convert_to_tensor(x) for x in inputs] if isinstance(inputs, list) else ops.convert_to_tensor(inputs)
        out = layer(native)
        assert isinstance(out, registry.get(backend).TENSOR_TYPES)
        np.testing.assert_allclose(_numpy(out), expected, rtol=1e-6, atol=1e-6, err_msg=f"{backend}: {name}")


def _installed(names):
    return [n for n in names if registry.is_installed(n)]


def test_batch_norm_training_and_stateless_call_agree_across_backends():
    x = _rand(6, 3) * 2 + 1
    results = {}
    for backend in _installed(BACKENDS):
        layer, _, _ = _build("batch_norm", backend)
        weights = layer.get_weights()
        with kbridge.backend.use(backend):
            trainable = [v.value for v in layer.trainable_variables]
            non_trainable = [v.value for v in layer.non_trainable_variables]
            out, new_state = layer.stateless_call(trainable, non_trainable, x, training=True)
            inference, same_state = layer.stateless_call(trainable, non_trainable, x, training=False)
        # Pure: the variables did not move.
        for before, after in zip(weights, layer.get_weights()):
            np.testing.assert_array_equal(before, after)
        results[backend] = [_numpy(out)] + [_numpy(s) for s in new_state] + [_numpy(inference)]
        for old, kept in zip(non_trainable, same_state):
            np.testing.assert_array_equal(_numpy(old), _numpy(kept))
        gamma, beta, mean, var = (w.astype("float64") for w in weights)
        np.testing.assert_allclose(results[backend][0], _bn_ref(weights, x.astype("float64"), training=True), rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(results[backend][1], 0.99 * mean + 0.01 * x.mean(0), rtol=1e-5)
        np.testing.assert_allclose(results[backend][2], 0.99 * var + 0.01 * x.var(0), rtol=1e-5)
        # A stateful training call assigns the same statistics.
        with kbridge.backend.use(backend):
            layer(x, training=True)
        np.testing.assert_allclose(layer.moving_mean.numpy(), results[backend][1], rtol=1e-6)
    for backend, values in results.items():
        for got, want in zip(values, results["numpy"]):
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6, err_msg=backend)


def test_dropout_training_masks_equal_across_backends():
    x = np.ones((4, 50), "float32")
    outputs, states = {}, {}
    for backend in _installed(BACKENDS):
        with kbridge.backend.use(backend):
            layer = layers.Dropout(0.4, seed=123)
            first = _numpy(layer(x, training=True))
            second = _numpy(layer(x, training=True))
            state = [v.value for v in layer.non_trainable_variables]
            pure, new_state = layer.stateless_call([], state, x, training=True)
        assert not np.array_equal(first, second)
        assert _numpy(new_state[0])[1] == _numpy(state[0])[1] + 1  # the counter advanced
        outputs[backend] = (first, second, _numpy(pure))
        states[backend] = _numpy(new_state[0])
    for backend in outputs:
        for got, want in zip(outputs[backend], outputs["numpy"]):
            np.testing.assert_array_equal(got, want, err_msg=backend)
        np.testing.assert_array_equal(states[backend], states["numpy"])
    # Created outside any backend scope, the generator follows its first inputs.
    for backend in _installed(BACKENDS[1:]):
        layer = layers.Dropout(0.4, seed=123)
        with kbridge.backend.use(backend):
            native = ops.convert_to_tensor(x)
        np.testing.assert_array_equal(_numpy(layer(native, training=True)), outputs["numpy"][0])
        assert layer.seed_generator.state.backend == backend
    kept = outputs["numpy"][0] != 0
    np.testing.assert_allclose(outputs["numpy"][0][kept], 1 / 0.6, rtol=1e-6)


# -- gradients --------------------------------------------------------------------------------


def _flat_inputs(inputs):
    return inputs if isinstance(inputs, list) else [inputs]


def _grads_jax(layer, inputs, training):
    import jax

    trainable = [v.value for v in layer.trainable_variables]
    non_trainable = [v.value for v in layer.non_trainable_variables]
    float_inputs = [x for x in _flat_inputs(inputs) if x.dtype.kind == "f"]

    def loss(params, xs):
        feed = xs if isinstance(inputs, list) else (xs[0] if xs else inputs)
        out, _ = layer.stateless_call(params, non_trainable, feed, training=training)
        return ops.sum(ops.square(out))

    xs = [jax.numpy.asarray(x) for x in float_inputs]
    # jit: one compilation instead of one per eager op.
    g_params, g_inputs = jax.jit(jax.grad(loss, argnums=(0, 1)))(trainable, xs)
    return [np.asarray(g) for g in g_inputs] + [np.asarray(g) for g in g_params]


def _grads_torch(layer, inputs, training):
    import torch

    xs = [torch.tensor(x, requires_grad=x.dtype.kind == "f") for x in _flat_inputs(inputs)]
    out = layer(xs if isinstance(inputs, list) else xs[0], training=training)
    params = [v.value for v in layer.trainable_variables]
    wrt = [x for x in xs if x.requires_grad] + params
    grads = torch.autograd.grad((out * out).sum(), wrt)
    return [g.detach().numpy() for g in grads]


def _grads_tf(layer, inputs, training):
    import tensorflow as tf

    xs = [tf.constant(x) for x in _flat_inputs(inputs)]
    watched = [x for x in xs if x.dtype.is_floating]
    with tf.GradientTape() as tape:
        for x in watched:
            tape.watch(x)
        out = layer(xs if isinstance(inputs, list) else xs[0], training=training)
        total = tf.reduce_sum(out * out)
    params = [v.value for v in layer.trainable_variables]
    grads = tape.gradient(total, watched + params)
    return [tf.convert_to_tensor(g).numpy() for g in grads]


_GRADS = {"jax": _grads_jax, "torch": _grads_torch, "tensorflow": _grads_tf}


def _x64(backend):
    if backend == "jax":
        import jax

        return jax.enable_x64(True)
    import contextlib

    return contextlib.nullcontext()


GRAD_CASES = [(name, False) for name in WEIGHTED + ["dot_normalize", "concatenate", "maximum", "lambda"]]
GRAD_CASES += [("batch_norm", True), ("batch_norm_axis1", True)]


@pytest.mark.parametrize("name,training", GRAD_CASES, ids=[f"{n}-{'training' if t else 'inference'}" for n, t in GRAD_CASES])
def test_float64_gradients_agree_across_frameworks(name, training):
    grads = {}
    for backend in _installed(GRAD_BACKENDS):
        with _x64(backend):
            layer, inputs, _ = _build(name, backend, dtype="float64")
            with kbridge.backend.use(backend):
                grads[backend] = _GRADS[backend](layer, inputs, training)
        assert all(g.dtype == np.float64 for g in grads[backend]), backend
    if len(grads) < 2:
        pytest.skip("needs two differentiable backends")
    reference_name = next(iter(grads))
    reference = grads[reference_name]
    assert len(reference) == len(_flat_inputs(inputs)) - (name == "embedding") + len(layer.trainable_variables)
    assert any(np.abs(g).max() > 1e-6 for g in reference)
    for backend, values in grads.items():
        assert len(values) == len(reference), backend
        for got, want in zip(values, reference):
            np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10, err_msg=f"{backend} vs {reference_name}: {name}")


def test_seeded_initializers_give_the_same_values_on_every_backend():
    from kbridge import initializers

    makers = [
        lambda: initializers.RandomUniform(-1.0, 2.0, seed=7),
        lambda: initializers.RandomNormal(0.5, 2.0, seed=7),
        lambda: initializers.TruncatedNormal(stddev=0.3, seed=7),
        lambda: initializers.GlorotUniform(seed=7),
        lambda: initializers.HeNormal(seed=7),
        lambda: initializers.Orthogonal(seed=7),
    ]
    values = {}
    for backend in _installed(BACKENDS):
        with kbridge.backend.use(backend):
            values[backend] = [_numpy(make()((8, 6))) for make in makers]
            # An unseeded instance draws its seed once: repeated calls agree.
            unseeded = initializers.GlorotNormal()
            np.testing.assert_array_equal(_numpy(unseeded((8, 6))), _numpy(unseeded((8, 6))))
    for backend, arrays in values.items():
        for index, (got, want) in enumerate(zip(arrays, values["numpy"])):
            assert got.dtype == np.float32
            # Uniform draws are bit-identical; normal ones go through log/cos (last-ulp differences).
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6, err_msg=f"{backend}: initializer {index}")
        np.testing.assert_array_equal(arrays[0], values["numpy"][0])
