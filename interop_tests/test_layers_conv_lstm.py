"""`ConvLSTM1D/2D/3D` on numpy, jax, torch and tensorflow.

Outputs are compared with a float64 NumPy reference written here: an explicit loop over time
whose convolutions are `test_ops_conv.conv_ref64` (a direct sum, never through kbridge). Also:
float64 gradients equal across jax/torch/tensorflow, one `fit` step per framework, stateful
calls, dropout, and errors that name the layer.
"""

import numpy as np
import pytest
from test_ops_conv import conv_ref64

import kbridge
from kbridge import layers, ops
from kbridge.backend import registry

BACKENDS = ("numpy", "jax", "torch", "tensorflow")
GRAD_BACKENDS = ("jax", "torch", "tensorflow")


def _rand(*shape, seed=0):
    return np.random.RandomState(seed).randn(*shape).astype("float32")


def _installed(names):
    return [n for n in names if registry.is_installed(n)]


def _numpy(x):
    return np.asarray(ops.convert_to_numpy(x))


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


# -- NumPy reference (float64) -------------------------------------------------------------------


def conv_lstm_ref(weights, x, args, mask=None, initial=None):
    """Loops one ConvLSTM step over time; masked steps keep the states and repeat the previous output.

    Returns (outputs in processing order, last output, [h, c]).
    """
    kernel, recurrent = weights[0].astype(np.float64), weights[1].astype(np.float64)
    bias = weights[2].astype(np.float64) if len(weights) > 2 else None
    data_format = args.get("data_format", "channels_last")
    axis = -1 if data_format == "channels_last" else 1
    x = x.astype(np.float64)
    rank = x.ndim - 3

    def conv(inputs, k, **kw):
        return conv_ref64(inputs, k, data_format=data_format, **kw)

    steps = list(range(x.shape[1]))[::-1] if args.get("go_backwards") else list(range(x.shape[1]))
    h = c = output = None
    if initial is not None:
        h, c = (s.astype(np.float64) for s in initial)
    outputs = []
    for t in steps:
        z = conv(x[:, t], kernel, strides=args.get("strides", 1), padding=args.get("padding", "valid"),
                 dilation_rate=args.get("dilation_rate", 1))  # fmt: skip
        if h is None:
            h = c = np.zeros_like(np.split(z, 4, axis=axis)[0])
        if output is None:
            output = np.zeros_like(h)
        z = z + conv(h, recurrent, padding="same")
        if bias is not None:
            z = z + (bias if axis == -1 else bias.reshape((-1,) + (1,) * rank))
        zi, zf, zc, zo = np.split(z, 4, axis=axis)
        new_c = _sigmoid(zf) * c + _sigmoid(zi) * np.tanh(zc)
        new_h = _sigmoid(zo) * np.tanh(new_c)
        out = new_h
        if mask is not None:
            keep = mask[:, t].reshape((-1,) + (1,) * (rank + 1))
            new_h, new_c = np.where(keep, new_h, h), np.where(keep, new_c, c)
            out = np.where(keep, out, output)
        h, c, output = new_h, new_c, out
        outputs.append(out)
    return np.stack(outputs, 1), output, [h, c]


MASK = np.array([[1, 1, 0, 1], [0, 1, 1, 1]], bool)
X1 = _rand(2, 4, 7, 2)
X2 = _rand(2, 4, 5, 5, 2, seed=1)
X2_CF = np.moveaxis(X2, -1, 2).copy()
X3 = _rand(2, 3, 4, 4, 3, 2, seed=2)

# name: (class, layer kwargs, input, call kwargs)
CASES = {
    "1d": (layers.ConvLSTM1D, {"filters": 3, "kernel_size": 3}, X1, {}),
    "1d_same_seq_mask": (layers.ConvLSTM1D, {"filters": 2, "kernel_size": 2, "padding": "same",
                                             "return_sequences": True}, X1, {"mask": MASK}),
    "2d": (layers.ConvLSTM2D, {"filters": 3, "kernel_size": 3}, X2, {}),
    "2d_state_back_mask": (layers.ConvLSTM2D, {"filters": 2, "kernel_size": (2, 3), "padding": "same",
                                               "return_sequences": True, "return_state": True,
                                               "go_backwards": True}, X2, {"mask": MASK}),
    "2d_strides_no_bias": (layers.ConvLSTM2D, {"filters": 2, "kernel_size": 2, "strides": 2, "use_bias": False},
                           X2, {}),
    "2d_cf_dilation_state": (layers.ConvLSTM2D, {"filters": 2, "kernel_size": 2, "dilation_rate": 2,
                                                 "data_format": "channels_first", "return_state": True}, X2_CF, {}),
    "2d_cf_same_seq_mask_back": (layers.ConvLSTM2D, {"filters": 3, "kernel_size": 3, "padding": "same",
                                                     "data_format": "channels_first", "return_sequences": True,
                                                     "go_backwards": True}, X2_CF, {"mask": MASK}),
    "3d": (layers.ConvLSTM3D, {"filters": 2, "kernel_size": 2, "return_state": True}, X3, {}),
}  # fmt: skip


def _fixed_weights(layer, seed):
    rng = np.random.RandomState(seed)
    return [rng.uniform(-0.6, 0.6, size=w.shape).astype(w.dtype) for w in layer.get_weights()]


def _build(name, backend, dtype=None):
    cls, kwargs, x, call_kwargs = CASES[name]
    x = x.astype(dtype) if dtype else x
    with kbridge.backend.use(backend):
        layer = cls(**kwargs, dtype=dtype) if dtype else cls(**kwargs)
        layer(x, **call_kwargs)
        layer.set_weights(_fixed_weights(layer, sorted(CASES).index(name)))
    return layer, x, call_kwargs


def _expected(name, layer, x, call_kwargs):
    _, kwargs, _, _ = CASES[name]
    sequence, last, states = conv_lstm_ref(layer.get_weights(), x, kwargs, call_kwargs.get("mask"))
    out = sequence if layer.return_sequences else last
    return [out] + (states if layer.return_state else [])


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("backend", BACKENDS)
def test_conv_lstm_matches_numpy_reference(backend, name):
    if not registry.is_installed(backend):
        pytest.skip(f"{backend} is not installed")
    layer, x, call_kwargs = _build(name, backend)
    with kbridge.backend.use(backend):
        out = layer(x, **call_kwargs)
    outs = list(out) if isinstance(out, (list, tuple)) else [out]
    expected = _expected(name, layer, x, call_kwargs)
    assert len(outs) == len(expected)
    assert isinstance(outs[0], registry.get(backend).TENSOR_TYPES), type(outs[0])
    for got, want in zip(outs, expected):
        assert _numpy(got).dtype == np.float32
        np.testing.assert_allclose(_numpy(got), want, rtol=1e-5, atol=1e-5, err_msg=f"{backend}: {name}")
    shape = layer.compute_output_shape(x.shape)
    shapes = list(shape) if layer.return_state else [shape]
    assert [tuple(_numpy(o).shape) for o in outs] == [tuple(s) for s in shapes]


@pytest.mark.parametrize("backend", BACKENDS)
def test_initial_state_and_stateful_calls(backend):
    if not registry.is_installed(backend):
        pytest.skip(f"{backend} is not installed")
    kwargs = {"filters": 2, "kernel_size": 3, "padding": "same"}
    h0, c0 = _rand(2, 5, 5, 2, seed=3) * 0.5, _rand(2, 5, 5, 2, seed=4) * 0.5
    weights = None
    with kbridge.backend.use(backend):
        layer = layers.ConvLSTM2D(**kwargs, return_state=True)
        layer(X2)
        weights = _fixed_weights(layer, 11)
        layer.set_weights(weights)
        out, h, c = layer(X2, initial_state=[h0, c0])
        stateful = layers.ConvLSTM2D(**kwargs, stateful=True)
        stateful(X2[:, :2])
        stateful.set_weights(weights)
        stateful.reset_states()
        first = stateful(X2[:, :2])
        second = stateful(X2[:, 2:])
    _, last, states = conv_lstm_ref(weights, X2, kwargs, initial=[h0, c0])
    for got, want in zip((out, h, c), [last] + states):
        np.testing.assert_allclose(_numpy(got), want, rtol=1e-5, atol=1e-5, err_msg=backend)
    _, want_first, _ = conv_lstm_ref(weights, X2[:, :2], kwargs)
    _, want_whole, _ = conv_lstm_ref(weights, X2, kwargs)
    np.testing.assert_allclose(_numpy(first), want_first, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(_numpy(second), want_whole, rtol=1e-5, atol=1e-5)  # carried over the two calls


@pytest.mark.parametrize("backend", BACKENDS)
def test_dropout_changes_training_outputs_only(backend):
    if not registry.is_installed(backend):
        pytest.skip(f"{backend} is not installed")
    with kbridge.backend.use(backend):
        layer = layers.ConvLSTM1D(2, 3, dropout=0.5, recurrent_dropout=0.5, seed=1, return_sequences=True)
        inference = _numpy(layer(X1))
        again = _numpy(layer(X1, training=False))
        training = _numpy(layer(X1, training=True))
    np.testing.assert_array_equal(inference, again)
    assert np.isfinite(training).all() and not np.allclose(training, inference)


# -- gradients -----------------------------------------------------------------------------------


def _outputs(out):
    return out if isinstance(out, (list, tuple)) else [out]


def _grads_jax(layer, x, call_kwargs):
    import jax

    trainable = [v.value for v in layer.trainable_variables]

    def loss(params, inputs):
        out, _ = layer.stateless_call(params, [], inputs, **call_kwargs)
        return sum(ops.sum(ops.square(o)) for o in _outputs(out))

    g_params, g_x = jax.jit(jax.grad(loss, argnums=(0, 1)))(trainable, jax.numpy.asarray(x))
    return [np.asarray(g_x)] + [np.asarray(g) for g in g_params]


def _grads_torch(layer, x, call_kwargs):
    import torch

    xt = torch.tensor(x, requires_grad=True)
    total = sum((o * o).sum() for o in _outputs(layer(xt, **call_kwargs)))
    grads = torch.autograd.grad(total, [xt] + [v.value for v in layer.trainable_variables])
    return [g.detach().numpy() for g in grads]


def _grads_tf(layer, x, call_kwargs):
    import tensorflow as tf

    xt = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(xt)
        total = tf.add_n([tf.reduce_sum(tf.square(o)) for o in _outputs(layer(xt, **call_kwargs))])
    grads = tape.gradient(total, [xt] + [v.value for v in layer.trainable_variables])
    return [tf.convert_to_tensor(g).numpy() for g in grads]


_GRADS = {"jax": _grads_jax, "torch": _grads_torch, "tensorflow": _grads_tf}


def _x64(backend):
    if backend == "jax":
        import jax

        return jax.enable_x64(True)
    import contextlib

    return contextlib.nullcontext()


@pytest.mark.parametrize("name", ["1d_same_seq_mask", "2d_state_back_mask", "2d_cf_dilation_state"])
def test_float64_gradients_agree_across_frameworks(name):
    grads = {}
    for backend in _installed(GRAD_BACKENDS):
        with _x64(backend):
            layer, x, call_kwargs = _build(name, backend, dtype="float64")
            with kbridge.backend.use(backend):
                grads[backend] = _GRADS[backend](layer, x, call_kwargs)
        assert all(g.dtype == np.float64 for g in grads[backend]), backend
    if len(grads) < 2:
        pytest.skip("needs two differentiable backends")
    first = next(iter(grads))
    assert len(grads[first]) == 1 + len(layer.trainable_variables)
    assert all(np.abs(g).max() > 1e-6 for g in grads[first])
    for backend, values in grads.items():
        for got, want in zip(values, grads[first]):
            np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-10, err_msg=f"{backend} vs {first}: {name}")


# -- training ------------------------------------------------------------------------------------


@pytest.mark.parametrize("backend", GRAD_BACKENDS)
def test_one_fit_step_trains_every_weight(backend):
    if not registry.is_installed(backend):
        pytest.skip(f"{backend} is not installed")
    rng = np.random.RandomState(0)
    x = rng.randn(8, 3, 6, 6, 2).astype("float32")
    y = (x.mean(axis=(1, 2, 3, 4)) > 0).astype("int32")
    kbridge.utils.set_random_seed(1)
    with kbridge.backend.use(backend):
        model = kbridge.Sequential([
            kbridge.Input((3, 6, 6, 2)),
            layers.ConvLSTM2D(3, 3, padding="same", return_sequences=True, dropout=0.2, recurrent_dropout=0.2),
            layers.ConvLSTM2D(2, 3, strides=2),
            layers.Flatten(),
            layers.Dense(2),
        ])  # fmt: skip
    model.compile(optimizer=kbridge.optimizers.SGD(0.1),
                  loss=kbridge.losses.SparseCategoricalCrossentropy(from_logits=True))  # fmt: skip
    before = [w.copy() for w in model.get_weights()]
    history = model.fit(x, y, batch_size=8, epochs=1, verbose=0, shuffle=False)
    after = model.get_weights()
    assert len(history.history["loss"]) == 1 and np.isfinite(history.history["loss"][0])
    assert len(after) == 3 + 3 + 2
    for old, new in zip(before, after):
        assert not np.allclose(old, new), "every weight (both ConvLSTMs, dense) must be trained"


# -- errors --------------------------------------------------------------------------------------


@pytest.mark.parametrize("cls, ndim", [(layers.ConvLSTM1D, 4), (layers.ConvLSTM2D, 5), (layers.ConvLSTM3D, 6)])
def test_wrong_rank_names_the_layer(cls, ndim):
    with kbridge.backend.use("numpy"):
        layer = cls(2, 2, name="clstm")
        with pytest.raises(ValueError, match=rf'Layer "clstm" \({cls.__name__}\).*{ndim}-D.*\(2, 3, 4\)'):
            layer(np.zeros((2, 3, 4), "float32"))
        built = cls(2, 2, name="built")
        built(np.zeros((2, 3) + (4,) * (ndim - 2), "float32"))
        with pytest.raises(ValueError, match=r'"built"'):
            built(np.zeros((2, 3) + (4,) * (ndim - 1), "float32"))
