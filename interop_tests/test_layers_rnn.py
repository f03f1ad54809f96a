"""Recurrent layers, `TimeDistributed` and `Masking` on numpy, jax, torch and tensorflow.

Each layer runs on every backend and is compared with a float64 NumPy reference written
here (an explicit loop over time, never through kbridge). Also: float64 gradients equal
across jax/torch/tensorflow, one `fit` step per framework, masks from `Embedding(mask_zero)`
in a Functional model, and `torch.compile(fullgraph=True)` of an LSTM model.
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


def _numpy(x):
    return np.asarray(ops.convert_to_numpy(x))


# -- NumPy references (float64) ------------------------------------------------------------------


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def simple_step(w, x, states):
    kernel, rec, bias = w
    h = np.tanh(x @ kernel + states[0] @ rec + bias)
    return h, [h]


def lstm_step(w, x, states):
    kernel, rec, bias = w
    h, c = states
    i, f, g, o = np.split(x @ kernel + h @ rec + bias, 4, axis=-1)
    c = _sigmoid(f) * c + _sigmoid(i) * np.tanh(g)
    h = _sigmoid(o) * np.tanh(c)
    return h, [h, c]


def gru_step(w, x, states, reset_after=True):
    kernel, rec, bias = w
    h = states[0]
    units = h.shape[-1]
    b_in, b_rec = (bias[0], bias[1]) if reset_after else (bias, np.zeros_like(bias))
    xz, xr, xh = np.split(x @ kernel + b_in, 3, axis=-1)
    rz, rr, _ = np.split(h @ rec + b_rec, 3, axis=-1)
    z = _sigmoid(xz + rz)
    r = _sigmoid(xr + rr)
    if reset_after:
        hh = np.tanh(xh + r * (h @ rec[:, 2 * units :] + b_rec[2 * units :]))
    else:
        hh = np.tanh(xh + (r * h) @ rec[:, 2 * units :])
    new = z * h + (1 - z) * hh
    return new, [new]


def run_rnn(step, w, x, states, mask=None, go_backwards=False, return_sequences=False, zero_output=False):
    """Loops `step` over time; masked steps keep the states and repeat the previous output (or 0)."""
    steps = list(range(x.shape[1]))[::-1] if go_backwards else list(range(x.shape[1]))
    output = np.zeros((x.shape[0], w[1].shape[0]))
    outputs = []
    for t in steps:
        out, new_states = step(w, x[:, t], states)
        if mask is not None:
            keep = mask[:, t][:, None]
            new_states = [np.where(keep, n, s) for n, s in zip(new_states, states)]
            out = np.where(keep, out, 0.0 if zero_output else output)
        states, output = new_states, out
        outputs.append(out)
    return (np.stack(outputs, 1) if return_sequences else output), states


X = _rand(3, 5, 4)
MASK = np.array([[1, 1, 1, 0, 0], [1, 0, 1, 1, 0], [0, 0, 1, 1, 1]], bool)
H0 = _rand(3, 3, seed=5) * 0.5
C0 = _rand(3, 3, seed=6) * 0.5


def _gru(reset_after):
    return lambda w, x, s: gru_step(w, x, s, reset_after)


# name: (factory, call kwargs, step, reference kwargs, initial states for the reference)
CASES = {
    "simple_rnn": (lambda: layers.SimpleRNN(3), {}, simple_step, {}, None),
    "simple_rnn_seq_mask": (lambda: layers.SimpleRNN(3, return_sequences=True), {"mask": MASK}, simple_step,
                            {"return_sequences": True}, None),
    "simple_rnn_backwards_init": (lambda: layers.SimpleRNN(3, go_backwards=True), {"initial_state": H0},
                                  simple_step, {"go_backwards": True}, [H0]),
    "lstm": (lambda: layers.LSTM(3), {}, lstm_step, {}, None),
    "lstm_mask_seq": (lambda: layers.LSTM(3, return_sequences=True), {"mask": MASK}, lstm_step,
                      {"return_sequences": True}, None),
    "lstm_zero_output": (lambda: layers.RNN(layers.LSTMCell(3), return_sequences=True, zero_output_for_mask=True),
                         {"mask": MASK}, lstm_step, {"return_sequences": True, "zero_output": True}, None),
    "lstm_state_init_back": (lambda: layers.LSTM(3, return_state=True, go_backwards=True, return_sequences=True),
                             {"initial_state": [H0, C0], "mask": MASK}, lstm_step,
                             {"go_backwards": True, "return_sequences": True}, [H0, C0]),
    "lstm_unroll": (lambda: layers.LSTM(3, unroll=True, return_state=True), {}, lstm_step, {}, None),
    "gru": (lambda: layers.GRU(3), {}, _gru(True), {}, None),
    "gru_mask_state": (lambda: layers.GRU(3, return_state=True, return_sequences=True), {"mask": MASK}, _gru(True),
                       {"return_sequences": True}, None),
    "gru_v1": (lambda: layers.GRU(3, reset_after=False), {}, _gru(False), {}, None),
    "gru_v1_back_mask": (lambda: layers.GRU(3, reset_after=False, go_backwards=True, return_state=True),
                         {"mask": MASK, "initial_state": [H0]}, _gru(False), {"go_backwards": True}, [H0]),
}  # fmt: skip


def _fixed_weights(layer, seed):
    rng = np.random.RandomState(seed)
    return [rng.uniform(-0.8, 0.8, size=w.shape).astype(w.dtype) for w in layer.get_weights()]


def _build(name, backend, dtype=None):
    factory, call_kwargs, *_ = CASES[name]
    x = X.astype(dtype) if dtype else X
    with kbridge.backend.use(backend):
        layer = factory()
        if dtype:
            layer = type(layer).from_config({**layer.get_config(), "dtype": dtype})
        layer(x, **call_kwargs)
        layer.set_weights(_fixed_weights(layer, sorted(CASES).index(name)))
    return layer, x, call_kwargs


def _reference(name, weights, x):
    _, call_kwargs, step, ref_kwargs, init = CASES[name]
    units = weights[1].shape[0]
    n_states = 2 if step is lstm_step else 1
    states = [s.astype("float64") for s in init] if init else [np.zeros((x.shape[0], units))] * n_states
    mask = call_kwargs.get("mask")
    return run_rnn(step, [w.astype("float64") for w in weights], x.astype("float64"), states, mask=mask, **ref_kwargs)


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("backend", BACKENDS)
def test_rnn_matches_numpy_reference(backend, name):
    if not registry.is_installed(backend):
        pytest.skip(f"{backend} is not installed")
    layer, x, call_kwargs = _build(name, backend)
    with kbridge.backend.use(backend):
        out = layer(x, **call_kwargs)
    expected, states = _reference(name, layer.get_weights(), x)
    outs = list(out) if isinstance(out, (list, tuple)) else [out]
    assert isinstance(outs[0], registry.get(backend).TENSOR_TYPES), type(outs[0])
    assert _numpy(outs[0]).dtype == np.float32
    np.testing.assert_allclose(_numpy(outs[0]), expected, rtol=1e-5, atol=1e-5, err_msg=f"{backend}: {name}")
    if layer.return_state:
        assert len(outs) == 1 + len(states)
        for got, want in zip(outs[1:], states):
            np.testing.assert_allclose(_numpy(got), want, rtol=1e-5, atol=1e-5, err_msg=f"{backend}: {name} state")
    shape = layer.compute_output_shape(x.shape)
    assert _numpy(outs[0]).shape == (shape[0] if layer.return_state else shape)


@pytest.mark.parametrize("backend", BACKENDS)
def test_stateful_lstm_carries_states_across_calls(backend):
    if not registry.is_installed(backend):
        pytest.skip(f"{backend} is not installed")
    x1, x2 = X[:, :3], X[:, 3:]
    with kbridge.backend.use(backend):
        layer = layers.LSTM(3, stateful=True, return_sequences=True)
        layer(x1)
        layer.set_weights(_fixed_weights(layer, 11))
        layer.reset_states()
        first = _numpy(layer(x1))
        second = _numpy(layer(x2))
        layer.reset_states()
        again = _numpy(layer(x1))
    w = [v.astype("float64") for v in layer.get_weights()]
    zeros = [np.zeros((3, 3))] * 2
    ref1, states = run_rnn(lstm_step, w, x1.astype("float64"), zeros, return_sequences=True)
    ref2, _ = run_rnn(lstm_step, w, x2.astype("float64"), states, return_sequences=True)
    np.testing.assert_allclose(first, ref1, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(second, ref2, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(again, ref1, rtol=1e-5, atol=1e-5)
    assert not np.allclose(second, run_rnn(lstm_step, w, x2.astype("float64"), zeros, return_sequences=True)[0])


@pytest.mark.parametrize("merge_mode", ["concat", "sum", "mul", "ave", None])
@pytest.mark.parametrize("backend", BACKENDS)
def test_bidirectional_merge_modes(backend, merge_mode):
    if not registry.is_installed(backend):
        pytest.skip(f"{backend} is not installed")
    with kbridge.backend.use(backend):
        layer = layers.Bidirectional(layers.GRU(3, return_sequences=True), merge_mode=merge_mode)
        layer(X)
        layer.set_weights(_fixed_weights(layer, 4))
        out = layer(X, mask=MASK)
    w = [v.astype("float64") for v in layer.get_weights()]
    x = X.astype("float64")
    zeros = [np.zeros((3, 3))]
    # Bidirectional forces zero_output_for_mask = return_sequences on both directions.
    fwd, _ = run_rnn(_gru(True), w[:3], x, zeros, mask=MASK, return_sequences=True, zero_output=True)
    bwd, _ = run_rnn(_gru(True), w[3:], x, zeros, mask=MASK, go_backwards=True, return_sequences=True, zero_output=True)
    bwd = bwd[:, ::-1]
    expected = {"concat": np.concatenate([fwd, bwd], -1), "sum": fwd + bwd, "mul": fwd * bwd, "ave": (fwd + bwd) / 2}
    if merge_mode is None:
        assert len(out) == 2
        np.testing.assert_allclose(_numpy(out[0]), fwd, rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(_numpy(out[1]), bwd, rtol=1e-5, atol=1e-5)
    else:
        np.testing.assert_allclose(_numpy(out), expected[merge_mode], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("backend", BACKENDS)
def test_bidirectional_lstm_return_state_and_initial_state(backend):
    if not registry.is_installed(backend):
        pytest.skip(f"{backend} is not installed")
    init = [H0, C0, C0, H0]
    with kbridge.backend.use(backend):
        layer = layers.Bidirectional(layers.LSTM(3, return_state=True))
        layer(X)
        layer.set_weights(_fixed_weights(layer, 8))
        out, fh, fc, bh, bc = layer(X, initial_state=init)
    w = [v.astype("float64") for v in layer.get_weights()]
    x = X.astype("float64")
    fwd, (rfh, rfc) = run_rnn(lstm_step, w[:3], x, [H0, C0])
    bwd, (rbh, rbc) = run_rnn(lstm_step, w[3:], x, [C0, H0], go_backwards=True)
    np.testing.assert_allclose(_numpy(out), np.concatenate([fwd, bwd], -1), rtol=1e-5, atol=1e-5)
    for got, want in zip((fh, fc, bh, bc), (rfh, rfc, rbh, rbc)):
        np.testing.assert_allclose(_numpy(got), want, rtol=1e-5, atol=1e-5)


def _conv2d_valid(x, kernel, bias):
    kh, kw = kernel.shape[:2]
    out = np.zeros((x.shape[0], x.shape[1] - kh + 1, x.shape[2] - kw + 1, kernel.shape[-1]))
    for i in range(kh):
        for j in range(kw):
            out += x[:, i : i + out.shape[1], j : j + out.shape[2]] @ kernel[i, j]
    return out + bias


@pytest.mark.parametrize("backend", BACKENDS)
def test_time_distributed_dense_and_conv2d(backend):
    if not registry.is_installed(backend):
        pytest.skip(f"{backend} is not installed")
    frames = _rand(2, 3, 5, 5, 2, seed=2)
    with kbridge.backend.use(backend):
        dense = layers.TimeDistributed(layers.Dense(2, activation="relu"))
        dense(X)
        dense.set_weights(_fixed_weights(dense, 1))
        conv = layers.TimeDistributed(layers.Conv2D(4, 3))
        conv(frames)
        conv.set_weights(_fixed_weights(conv, 2))
        got_dense, got_conv = _numpy(dense(X)), _numpy(conv(frames))
    k, b = [w.astype("float64") for w in dense.get_weights()]
    expected = np.stack([np.maximum(X[:, t].astype("float64") @ k + b, 0) for t in range(X.shape[1])], 1)
    np.testing.assert_allclose(got_dense, expected, rtol=1e-5, atol=1e-5)
    k, b = [w.astype("float64") for w in conv.get_weights()]
    expected = np.stack([_conv2d_valid(frames[:, t].astype("float64"), k, b) for t in range(3)], 1)
    assert got_conv.shape == (2, 3, 3, 3, 4) == conv.compute_output_shape(frames.shape)
    np.testing.assert_allclose(got_conv, expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("backend", BACKENDS)
def test_masking_layer_masks_the_lstm_in_a_sequential_model(backend):
    if not registry.is_installed(backend):
        pytest.skip(f"{backend} is not installed")
    x = X.copy()
    x[~MASK] = 0.0
    with kbridge.backend.use(backend):
        model = kbridge.Sequential([kbridge.Input((5, 4)), layers.Masking(), layers.LSTM(3)])
        model.set_weights(_fixed_weights(model, 3))
        got = _numpy(model(x))
    w = [v.astype("float64") for v in model.get_weights()]
    expected, _ = run_rnn(lstm_step, w, x.astype("float64"), [np.zeros((3, 3))] * 2, mask=MASK)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("backend", BACKENDS)
def test_embedding_mask_zero_equals_the_unpadded_sequences(backend):
    if not registry.is_installed(backend):
        pytest.skip(f"{backend} is not installed")
    padded = np.array([[3, 1, 4, 0, 0, 0], [0, 0, 5, 9, 2, 6], [5, 3, 0, 5, 0, 0]], "int32")
    with kbridge.backend.use(backend):
        tokens = kbridge.Input((None,), dtype="int32")
        h = layers.Embedding(10, 4, mask_zero=True)(tokens)
        h = layers.LSTM(3, return_sequences=True)(h)
        model = kbridge.Model(tokens, layers.GRU(2)(h))
        model.set_weights(_fixed_weights(model, 9))
        got = _numpy(model(padded))
        singles = [_numpy(model(row[row != 0][None, :]))[0] for row in padded]
    np.testing.assert_allclose(got, np.stack(singles), rtol=1e-5, atol=1e-5)
    assert not np.allclose(got[0], got[2])


def test_dropout_is_seeded_and_equal_on_every_backend():
    results = {}
    for backend in _installed(BACKENDS):
        with kbridge.backend.use(backend):
            layer = layers.LSTM(3, dropout=0.5, recurrent_dropout=0.5, seed=3, return_sequences=True)
            layer(X)
            layer.set_weights(_fixed_weights(layer, 2))
            inference = _numpy(layer(X))
            results[backend] = _numpy(layer(X, training=True))
            again = _numpy(layer(X, training=True))
        w = [v.astype("float64") for v in layer.get_weights()]
        expected, _ = run_rnn(lstm_step, w, X.astype("float64"), [np.zeros((3, 3))] * 2, return_sequences=True)
        np.testing.assert_allclose(inference, expected, rtol=1e-5, atol=1e-5)
        assert not np.allclose(results[backend], inference)
        assert not np.allclose(results[backend], again)  # the seed state advanced: new masks
    first = next(iter(results))
    for backend, value in results.items():
        np.testing.assert_allclose(value, results[first], rtol=1e-5, atol=1e-5, err_msg=f"{backend} vs {first}")


# -- gradients -----------------------------------------------------------------------------------


def _grads_jax(layer, x, call_kwargs):
    import jax

    trainable = [v.value for v in layer.trainable_variables]

    def loss(params, inputs):
        out, _ = layer.stateless_call(params, [], inputs, **call_kwargs)
        out = out if isinstance(out, (list, tuple)) else [out]
        return sum(ops.sum(ops.square(o)) for o in out)

    g_params, g_x = jax.jit(jax.grad(loss, argnums=(0, 1)))(trainable, jax.numpy.asarray(x))
    return [np.asarray(g_x)] + [np.asarray(g) for g in g_params]


def _total(out):
    out = out if isinstance(out, (list, tuple)) else [out]
    return sum((o * o).sum() for o in out)


def _grads_torch(layer, x, call_kwargs):
    import torch

    xt = torch.tensor(x, requires_grad=True)
    grads = torch.autograd.grad(_total(layer(xt, **call_kwargs)), [xt] + [v.value for v in layer.trainable_variables])
    return [g.detach().numpy() for g in grads]


def _grads_tf(layer, x, call_kwargs):
    import tensorflow as tf

    xt = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(xt)
        out = layer(xt, **call_kwargs)
        total = tf.add_n([tf.reduce_sum(tf.square(o)) for o in (out if isinstance(out, (list, tuple)) else [out])])
    grads = tape.gradient(total, [xt] + [v.value for v in layer.trainable_variables])
    return [tf.convert_to_tensor(g).numpy() for g in grads]


_GRADS = {"jax": _grads_jax, "torch": _grads_torch, "tensorflow": _grads_tf}


def _x64(backend):
    if backend == "jax":
        import jax

        return jax.enable_x64(True)
    import contextlib

    return contextlib.nullcontext()


@pytest.mark.parametrize("name", ["simple_rnn_seq_mask", "lstm_state_init_back", "gru_mask_state", "gru_v1_back_mask"])
def test_float64_gradients_agree_across_frameworks(name):
    grads = {}
    for backend in _installed(GRAD_BACKENDS):
        with _x64(backend):
            layer, x, call_kwargs = _build(name, backend, dtype="float64")
            if call_kwargs.get("initial_state") is not None:
                init = [s.astype("float64") for s in call_kwargs["initial_state"]]
                call_kwargs = {**call_kwargs, "initial_state": init}
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
def test_one_fit_step_trains_the_recurrent_weights(backend):
    if not registry.is_installed(backend):
        pytest.skip(f"{backend} is not installed")
    rng = np.random.RandomState(0)
    tokens = rng.randint(1, 8, (8, 6)).astype("int32")
    tokens[:4, 4:] = 0
    y = (tokens[:, 0] > 4).astype("int32")
    kbridge.utils.set_random_seed(1)
    with kbridge.backend.use(backend):
        model = kbridge.Sequential([
            kbridge.Input((6,), dtype="int32"),
            layers.Embedding(8, 4, mask_zero=True),
            layers.Bidirectional(layers.LSTM(3, return_sequences=True, dropout=0.2, recurrent_dropout=0.2)),
            layers.GRU(3),
            layers.Dense(2),
        ])  # fmt: skip
    model.compile(optimizer=kbridge.optimizers.SGD(0.1),
                  loss=kbridge.losses.SparseCategoricalCrossentropy(from_logits=True))  # fmt: skip
    before = [w.copy() for w in model.get_weights()]
    history = model.fit(tokens, y, batch_size=8, epochs=1, verbose=0, shuffle=False)
    after = model.get_weights()
    assert len(history.history["loss"]) == 1 and np.isfinite(history.history["loss"][0])
    assert len(after) == 1 + 6 + 3 + 2
    for old, new in zip(before, after):
        assert not np.allclose(old, new), "every weight (embedding, both LSTMs, GRU, dense) must be trained"


# -- torch.compile -------------------------------------------------------------------------------


def test_torch_compile_fullgraph_of_an_lstm_model_matches_eager():
    if not registry.is_installed("torch"):
        pytest.skip("torch is not installed")
    import torch

    from kbridge.adapters.torch import to_module

    with kbridge.backend.use("torch"):
        model = kbridge.Sequential([
            kbridge.Input((6,), dtype="int32"),
            layers.Embedding(10, 4, mask_zero=True),
            layers.LSTM(3),
            layers.Dense(2),
        ])  # fmt: skip
    module = to_module(model).eval()
    tokens = torch.tensor([[3, 1, 4, 0, 0, 0], [2, 7, 1, 8, 2, 8]], dtype=torch.int32)
    eager = module(tokens)
    torch._dynamo.reset()
    compiled = torch.compile(module, fullgraph=True, backend="aot_eager")
    torch.testing.assert_close(compiled(tokens), eager)
    assert not torch.allclose(eager[0], eager[1])


# -- torch's fused kernels ------------------------------------------------------------------------


@pytest.mark.parametrize("layer_name", ["LSTM", "GRU"])
@pytest.mark.parametrize("go_backwards", [False, True])
def test_torch_fused_kernel_equals_the_cell_loop_in_float64(layer_name, go_backwards, monkeypatch):
    """LSTM/GRU on torch run `torch.lstm`/`torch.gru` when the configuration matches; outputs,
    states and gradients equal the generic cell loop (`use_cudnn=False`); a mask falls back."""
    if not registry.is_installed("torch"):
        pytest.skip("torch is not installed")
    import torch

    backend = registry.get("torch")
    name = f"fused_{layer_name.lower()}"
    calls = []
    original = getattr(backend, name)
    monkeypatch.setattr(backend, name, lambda *a: calls.append(1) or original(*a))
    rng = np.random.RandomState(3)
    x = rng.randn(2, 5, 3)
    results = {}
    for use_cudnn in ("auto", False):
        with kbridge.backend.use("torch"):
            layer = getattr(layers, layer_name)(
                4, return_sequences=True, return_state=True, go_backwards=go_backwards, use_cudnn=use_cudnn,
                dtype="float64",
            )
            layer.build((2, 5, 3))
            layer.set_weights([np.random.RandomState(7).uniform(-0.5, 0.5, w.shape) for w in layer.get_weights()])
            inputs = torch.tensor(x, requires_grad=True)
            outputs = layer(inputs)
            loss = sum((o * torch.linspace(-1, 1, o.numel(), dtype=o.dtype).reshape(o.shape)).sum() for o in outputs)
            weights = [w.value for w in layer.trainable_weights]
            grads = torch.autograd.grad(loss, [inputs] + weights)
        results[use_cudnn] = [o.detach().numpy() for o in outputs] + [g.numpy() for g in grads]
    assert len(calls) == 1  # the "auto" layer took the fused kernel, the other the loop
    for fused, looped in zip(results["auto"], results[False]):
        np.testing.assert_allclose(fused, looped, rtol=1e-10, atol=1e-12)
    with kbridge.backend.use("torch"):
        layer(torch.tensor(x), mask=torch.tensor([[True] * 5, [True] * 3 + [False] * 2]))
    assert len(calls) == 1  # masked: the cell loop
