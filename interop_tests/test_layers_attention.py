"""Attention layers on numpy, jax, torch and tensorflow.

Each layer is compared with a float64 NumPy reference computed here from the layer's own
weights (np.einsum + softmax, never through kbridge). Also: output shape ==
`compute_output_shape`, float64 gradients equal across jax/torch/tensorflow, and one
`fit` step of a tiny model with `MultiHeadAttention` lowering the loss.
"""

import contextlib

import numpy as np
import pytest

import kbridge
from kbridge import layers, ops
from kbridge.backend import registry

BACKENDS = ("numpy", "jax", "torch", "tensorflow")
GRAD_BACKENDS = ("jax", "torch", "tensorflow")


def _rand(*shape, seed=0):
    return np.random.RandomState(seed).randn(*shape).astype("float32")


Q, V, K = _rand(2, 5, 6, seed=1), _rand(2, 4, 6, seed=2), _rand(2, 4, 3, seed=3)
QMASK = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], bool)
VMASK = np.array([[1, 1, 0, 0], [1, 0, 1, 1]], bool)
ATTN_MASK = np.random.RandomState(4).rand(2, 5, 4) > 0.3
ATTN_MASK[..., 0] = True


# -- NumPy references (float64) ------------------------------------------------------------------


def softmax_ref(s, mask, zero_masked):
    """Softmax over the last axis; masked entries excluded; a fully masked row is zeros
    (`zero_masked`, Keras's Softmax layer) or uniform (Keras's fused attention)."""
    if mask is not None:
        mask = np.broadcast_to(mask, s.shape)
        s = np.where(mask, s, -1e30)
        if not zero_masked:
            s = np.where(mask.any(-1, keepdims=True), s, 0.0)
    e = np.exp(s - s.max(-1, keepdims=True))
    p = e / e.sum(-1, keepdims=True)
    return p * mask if (mask is not None and zero_masked) else p


def joint_mask(q_len, v_len, query_mask=None, value_mask=None, attention_mask=None, causal=False, **_):
    mask = np.ones((1, q_len, v_len), bool)
    if query_mask is not None:
        mask = mask & query_mask[:, :, None]
    if value_mask is not None:
        mask = mask & value_mask[:, None, :]
    if attention_mask is not None:
        mask = mask & attention_mask
    if causal:
        mask = mask & np.tril(np.ones((q_len, v_len), bool))[None]
    return mask


def mha_ref(w, q, v, key=None, heads_repeat=1, scores_out=False, fused=True, **masks):
    """Multi-head / grouped-query attention from the weights [qk, qb, kk, kb, vk, vb, ok, ob]."""
    qk, qb, kk, kb, vk, vb, ok, ob = w
    key = v if key is None else key
    qp = np.einsum("btd,dnh->btnh", q, qk) + qb
    kp = np.repeat(np.einsum("bsd,dnh->bsnh", key, kk) + kb, heads_repeat, axis=2)
    vp = np.repeat(np.einsum("bsd,dnh->bsnh", v, vk) + vb, heads_repeat, axis=2)
    s = np.einsum("btnh,bsnh->bnts", qp, kp) / np.sqrt(qk.shape[-1])
    mask = joint_mask(q.shape[1], v.shape[1], **masks)
    p = softmax_ref(s, mask[:, None], zero_masked=not fused)
    out = np.einsum("bnts,bsnh->btnh", p, vp)
    y = np.einsum("btnh,nhd->btd", out, ok) + ob
    return (y, p) if scores_out else y


def luong_ref(w, q, v, key=None, mode="dot", scale=None, scores_out=False, query_mask=None, **masks):
    key = v if key is None else key
    w = list(w)
    if mode == "dot":
        s = q @ np.swapaxes(key, 1, 2) * (w.pop(0) if scale else 1.0)
    elif mode == "concat":
        sc = w.pop(0) if scale else 1.0
        s = w.pop(0) * np.tanh(sc * (q[:, :, None] + key[:, None])).sum(-1)
    else:  # additive
        s = (w[0] * np.tanh(q[:, :, None] + key[:, None])).sum(-1)
    p = softmax_ref(s, joint_mask(q.shape[1], v.shape[1], **masks), zero_masked=False)
    y = p @ v
    if query_mask is not None:
        y = y * query_mask[:, :, None]
    return (y, p) if scores_out else y


# name -> (factory, args, call kwargs, reference(weights, *args64, **call kwargs))
CASES = {
    "mha_self": (lambda **kw: layers.MultiHeadAttention(2, 3, **kw), (Q, Q), {}, lambda w, q, v: mha_ref(w, q, v)),
    "mha_cross_key_masks_scores": (
        lambda **kw: layers.MultiHeadAttention(2, 3, value_dim=4, output_shape=5, **kw), (Q, V),
        {"key": K, "query_mask": QMASK, "value_mask": VMASK, "return_attention_scores": True},
        lambda w, q, v: mha_ref(w, q, v, key=K.astype("float64"), scores_out=True, fused=False, query_mask=QMASK,
                                value_mask=VMASK)),
    "mha_fused_query_mask_causal": (
        lambda **kw: layers.MultiHeadAttention(3, 2, **kw), (Q, Q), {"query_mask": QMASK, "use_causal_mask": True},
        lambda w, q, v: mha_ref(w, q, v, query_mask=QMASK, causal=True)),
    "mha_attention_mask_no_bias": (
        lambda **kw: layers.MultiHeadAttention(2, 4, use_bias=False, **kw), (Q, V), {"attention_mask": ATTN_MASK},
        lambda w, q, v: mha_ref(_with_zero_biases(w), q, v, attention_mask=ATTN_MASK)),
    "gqa_causal_scores": (
        lambda **kw: layers.GroupQueryAttention(3, 4, 2, **kw), (Q, Q),
        {"use_causal_mask": True, "return_attention_scores": True},
        lambda w, q, v: mha_ref(w, q, v, heads_repeat=2, scores_out=True, fused=False, causal=True)),
    "gqa_value_mask": (
        lambda **kw: layers.GroupedQueryAttention(2, 2, 1, **kw), (Q, V), {"value_mask": VMASK},
        lambda w, q, v: mha_ref(w, q, v, heads_repeat=2, value_mask=VMASK)),
    "attention_dot": (lambda **kw: layers.Attention(**kw), ([Q, V],), {}, lambda w, qv: luong_ref(w, *qv)),
    "attention_scale_masks_causal_scores": (
        lambda **kw: layers.Attention(use_scale=True, **kw), ([Q, Q, Q[..., ::-1].copy()],),
        {"mask": [QMASK, QMASK], "use_causal_mask": True, "return_attention_scores": True},
        lambda w, qvk: luong_ref(w, qvk[0], qvk[1], qvk[2], scale=True, scores_out=True, query_mask=QMASK,
                                 value_mask=QMASK, causal=True)),
    "attention_concat": (lambda **kw: layers.Attention(score_mode="concat", use_scale=True, **kw), ([Q, V],),
                         {"mask": [None, VMASK]},
                         lambda w, qv: luong_ref(w, *qv, mode="concat", scale=True, value_mask=VMASK)),
    "additive": (lambda **kw: layers.AdditiveAttention(**kw), ([Q, V],), {"mask": [QMASK, VMASK]},
                 lambda w, qv: luong_ref(w, *qv, mode="additive", query_mask=QMASK, value_mask=VMASK)),
}  # fmt: skip


def _with_zero_biases(w):
    """Inserts zero biases after each kernel of a `use_bias=False` MultiHeadAttention."""
    qk, kk, vk, ok = w
    return [qk, np.zeros(qk.shape[1:]), kk, np.zeros(kk.shape[1:]), vk, np.zeros(vk.shape[1:]), ok,
            np.zeros(ok.shape[-1])]  # fmt: skip


def _numpy(x):
    return np.asarray(ops.convert_to_numpy(x))


def _cast_args(args, dtype):
    return tuple([a.astype(dtype) for a in x] if isinstance(x, list) else x.astype(dtype) for x in args)


def _build(name, backend, dtype=None):
    factory, args, kwargs, reference = CASES[name]
    if dtype:
        args = _cast_args(args, dtype)
        kwargs = {k: (v.astype(dtype) if k == "key" else v) for k, v in kwargs.items()}
    with kbridge.backend.use(backend):
        layer = factory(**({"dtype": dtype} if dtype else {}))
        layer(*args, **kwargs)
        rng = np.random.RandomState(sorted(CASES).index(name))
        layer.set_weights([rng.uniform(-1, 1, size=w.shape).astype(w.dtype) for w in layer.get_weights()])
    return layer, args, kwargs, reference


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("backend", BACKENDS)
def test_layer_matches_numpy_reference(backend, name):
    if not registry.is_installed(backend):
        pytest.skip(f"{backend} is not installed")
    layer, args, kwargs, reference = _build(name, backend)
    with kbridge.backend.use(backend):
        out = layer(*args, **kwargs)
    outs = out if isinstance(out, tuple) else (out,)
    assert all(isinstance(o, registry.get(backend).TENSOR_TYPES) for o in outs)
    expected = reference([w.astype("float64") for w in layer.get_weights()], *_cast_args(args, "float64"))
    expected = expected if isinstance(expected, tuple) else (expected,)
    assert len(outs) == len(expected)
    shapes = [a.shape for a in args[0]] if isinstance(args[0], list) else [a.shape for a in args]
    if "key" in kwargs:
        shapes.append(kwargs["key"].shape)
    want_shape = layer.compute_output_shape(shapes) if isinstance(args[0], list) else layer.compute_output_shape(*shapes)
    assert _numpy(outs[0]).shape == tuple(want_shape)
    for got, want in zip(outs, expected):
        assert _numpy(got).dtype == np.float32
        np.testing.assert_allclose(_numpy(got), want, rtol=1e-5, atol=1e-5, err_msg=f"{backend}: {name}")


def test_fully_masked_rows_follow_keras():
    """Keras's fused path averages the values on a fully masked query row; with scores it gives zeros."""
    layer, args, _, _ = _build("mha_self", "numpy")
    out, scores = layer(*args, query_mask=QMASK, return_attention_scores=True)
    assert np.all(np.asarray(scores)[0, :, 3:] == 0)
    fused = np.asarray(layer(*args, query_mask=QMASK))
    np.testing.assert_allclose(fused[1], np.asarray(out)[1], rtol=1e-6, atol=1e-6)
    assert not np.allclose(fused[0, 3:], np.asarray(out)[0, 3:])


@pytest.mark.parametrize("name", ["mha_cross_key_masks_scores", "gqa_causal_scores", "attention_scale_masks_causal_scores"])
def test_functional_model_infers_shapes_with_scores(name):
    factory, args, kwargs, _ = CASES[name]
    kwargs = {k: v for k, v in kwargs.items() if k in ("return_attention_scores", "use_causal_mask")}
    with kbridge.backend.use("numpy"):
        if isinstance(args[0], list):
            inputs = [kbridge.Input(a.shape[1:]) for a in args[0]]
            outputs = factory()(inputs, **kwargs)
            real = kbridge.Model(inputs, outputs)(args[0])
        else:
            inputs = [kbridge.Input(a.shape[1:]) for a in args]
            outputs = factory()(*inputs, **kwargs)
            real = kbridge.Model(inputs, outputs)(list(args))
    assert len(outputs) == len(real) == 2
    for sym, got in zip(outputs, real):
        assert sym.shape == (None,) + _numpy(got).shape[1:]


# -- gradients -----------------------------------------------------------------------------------


def _grads_jax(layer, args, kwargs):
    import jax

    def loss(params, inputs):
        out, _ = layer.stateless_call(params, [v.value for v in layer.non_trainable_variables], *inputs, **kwargs)
        return sum(ops.sum(ops.square(o)) for o in (out if isinstance(out, tuple) else (out,)))

    grads = jax.grad(loss, argnums=(0, 1))([v.value for v in layer.trainable_variables], args)
    return [np.asarray(g) for g in jax.tree_util.tree_leaves(grads[1])] + [np.asarray(g) for g in grads[0]]


def _grads_torch(layer, args, kwargs):
    import torch

    inputs = [torch.tensor(a, requires_grad=True) for a in _flat(args)]
    out = layer(*_pack(args, inputs), **kwargs)
    total = sum((o * o).sum() for o in (out if isinstance(out, tuple) else (out,)))
    grads = torch.autograd.grad(total, inputs + [v.value for v in layer.trainable_variables])
    return [g.detach().numpy() for g in grads]


def _grads_tf(layer, args, kwargs):
    import tensorflow as tf

    inputs = [tf.constant(a) for a in _flat(args)]
    with tf.GradientTape() as tape:
        tape.watch(inputs)
        out = layer(*_pack(args, inputs), **kwargs)
        total = sum(tf.reduce_sum(tf.square(o)) for o in (out if isinstance(out, tuple) else (out,)))
    grads = tape.gradient(total, inputs + [v.value for v in layer.trainable_variables])
    return [tf.convert_to_tensor(g).numpy() for g in grads]


def _flat(args):
    return list(args[0]) if isinstance(args[0], list) else list(args)


def _pack(args, flat):
    return (list(flat),) if isinstance(args[0], list) else tuple(flat)


_GRADS = {"jax": _grads_jax, "torch": _grads_torch, "tensorflow": _grads_tf}


def _x64(backend):
    if backend == "jax":
        import jax

        return jax.enable_x64(True)
    return contextlib.nullcontext()


@pytest.mark.parametrize("name", ["mha_fused_query_mask_causal", "gqa_causal_scores", "attention_scale_masks_causal_scores"])
def test_float64_gradients_agree_across_frameworks(name):
    grads = {}
    for backend in [b for b in GRAD_BACKENDS if registry.is_installed(b)]:
        with _x64(backend):
            layer, args, kwargs, _ = _build(name, backend, dtype="float64")
            with kbridge.backend.use(backend):
                grads[backend] = _GRADS[backend](layer, args, kwargs)
        assert all(g.dtype == np.float64 for g in grads[backend]), backend
    if len(grads) < 2:
        pytest.skip("needs two differentiable backends")
    first = next(iter(grads))
    assert len(grads[first]) == len(_flat(args)) + len(layer.trainable_variables)
    # (The key bias's gradient is exactly zero: softmax ignores a per-query constant.)
    assert sum(np.abs(g).max() > 1e-6 for g in grads[first]) >= len(grads[first]) - 1
    for backend, values in grads.items():
        for got, want in zip(values, grads[first]):
            np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-10, err_msg=f"{backend} vs {first}: {name}")


# -- training ------------------------------------------------------------------------------------


@pytest.mark.parametrize("backend", GRAD_BACKENDS)
def test_one_fit_step_of_a_tiny_attention_model_lowers_the_loss(backend):
    if not registry.is_installed(backend):
        pytest.skip(f"{backend} is not installed")
    rng = np.random.RandomState(0)
    x = rng.randn(16, 6, 4).astype("float32")
    y = (x[:, :3].sum((1, 2)) > x[:, 3:].sum((1, 2))).astype("int32")
    kbridge.utils.set_random_seed(1)
    with kbridge.backend.use(backend):
        inputs = kbridge.Input((6, 4))
        attended = layers.MultiHeadAttention(2, 4, dropout=0.1, seed=3)(inputs, inputs, use_causal_mask=True)
        outputs = layers.Dense(2)(layers.GlobalAveragePooling1D()(attended))
        model = kbridge.Model(inputs, outputs)
    model.compile(optimizer=kbridge.optimizers.SGD(0.1),
                  loss=kbridge.losses.SparseCategoricalCrossentropy(from_logits=True))  # fmt: skip
    before = model.evaluate(x, y, batch_size=16, verbose=0)
    query_kernel = np.array(model.layers[1].query_dense.kernel.numpy())
    model.fit(x, y, batch_size=16, epochs=1, verbose=0, shuffle=False)
    after = model.evaluate(x, y, batch_size=16, verbose=0)
    assert not np.allclose(model.layers[1].query_dense.kernel.numpy(), query_kernel)
    assert after < before, (before, after)
