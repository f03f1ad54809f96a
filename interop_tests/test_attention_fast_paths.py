"""Fast paths of the attention layers: torch's `fused_einsum_dense` hook, and `MultiHeadAttention` /
`GroupedQueryAttention` on `ops.dot_product_attention` (torch: `F.scaled_dot_product_attention`).

Checks: the hook equals einsum + bias and declines what it cannot fuse; the torch attention
op gives the same float64 outputs and gradients as JAX with fully masked rows, a bias and a
causal mask; both layers compile with `fullgraph=True` and match eager; on every backend the
fused path equals the einsum path (causal mask alone, and with a padding mask).
"""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import kbridge  # noqa: E402
from kbridge import layers, ops  # noqa: E402
from kbridge.adapters.torch import to_module  # noqa: E402
from kbridge.adapters.torch.backend.fused_einsum_dense import fused_einsum_dense  # noqa: E402


def _t(*shape, seed=0):
    return torch.from_numpy(np.random.RandomState(seed).randn(*shape))


@pytest.mark.parametrize(
    "equation, x_shape, k_shape, bias_shape",
    [
        ("abc,cde->abde", (2, 5, 6), (6, 3, 4), (3, 4)),  # last axis -> (heads, dim)
        ("abcd,cde->abe", (2, 5, 3, 4), (3, 4, 7), (7,)),  # (heads, dim) -> last axis
        ("ab,bc->ac", (3, 6), (6, 2), None),
    ],
)
def test_fused_einsum_dense_equals_einsum_plus_bias(equation, x_shape, k_shape, bias_shape):
    x, kernel = _t(*x_shape, seed=1), _t(*k_shape, seed=2)
    bias = None if bias_shape is None else _t(*bias_shape, seed=3)
    got = fused_einsum_dense(equation, x, kernel, bias)
    want = torch.einsum(equation, x, kernel) + (0 if bias is None else bias)
    assert got is not None
    torch.testing.assert_close(got, want, rtol=1e-12, atol=1e-12)


def test_fused_einsum_dense_declines_other_equations():
    x, kernel = _t(2, 5, 6), _t(6, 4)
    assert fused_einsum_dense("abc,cd->abd", x, kernel, _t(1, 4)) is None  # bias not over produced axes only
    assert fused_einsum_dense("abc,cd->adb", x, _t(6, 4), None) is None  # produced axis not last
    assert fused_einsum_dense("...b,bc->...c", x, kernel, None) is None  # ellipsis: left to einsum
    assert fused_einsum_dense("abc,cd->abd", x.float(), kernel, None) is None  # mixed dtypes


def test_torch_attention_matches_jax_with_fully_masked_rows_bias_and_causal():
    jax = pytest.importorskip("jax")
    rng = np.random.RandomState(0)
    q, k, v, bias = rng.randn(2, 4, 3, 2), rng.randn(2, 5, 3, 2), rng.randn(2, 5, 3, 2), rng.randn(3, 4, 5)
    mask = rng.rand(2, 1, 4, 5) > 0.4
    mask[0, 0, 2, :] = False  # a fully masked query row: uniform weights, no gradient to q and k
    weights = np.arange(q.size).reshape(q.shape) % 5 - 2.0
    kwargs = dict(mask=mask, scale=0.3, is_causal=True)
    with kbridge.backend.use("torch"):
        leaves = [torch.tensor(a, requires_grad=True) for a in (q, k, v, bias)]
        out = ops.dot_product_attention(*leaves[:3], bias=leaves[3], **kwargs)
        (out * torch.from_numpy(weights)).sum().backward()
        got = [out.detach().numpy()] + [t.grad.numpy() for t in leaves]
    with jax.enable_x64(True), kbridge.backend.use("jax"):

        def loss(a, b, c, d):
            return (ops.dot_product_attention(a, b, c, bias=d, **kwargs) * weights).sum()

        want = [np.asarray(ops.dot_product_attention(q, k, v, bias=bias, **kwargs))]
        want += [np.asarray(g) for g in jax.grad(loss, argnums=(0, 1, 2, 3))(q, k, v, bias)]
    assert np.abs(got[1][0, 2]).max() == 0.0
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-9, atol=1e-12)


_LAYERS = {
    "MultiHeadAttention": lambda: layers.MultiHeadAttention(2, 3),
    "GroupedQueryAttention": lambda: layers.GroupedQueryAttention(3, 4, 2),
}


@pytest.mark.parametrize("layer_class", sorted(_LAYERS))
@pytest.mark.parametrize("causal", [False, True])
def test_attention_compiles_fullgraph_and_matches_eager(layer_class, causal):
    with kbridge.backend.use("torch"):
        inputs = layers.Input(shape=(6, 8))
        outputs = _LAYERS[layer_class]()(inputs, inputs, use_causal_mask=causal)
        module = to_module(kbridge.Model(inputs, outputs)).eval()
    x = torch.from_numpy(np.random.RandomState(1).randn(3, 6, 8).astype("float32"))
    eager = module(x)
    torch._dynamo.reset()
    compiled = torch.compile(module, fullgraph=True, backend="aot_eager")
    torch.testing.assert_close(compiled(x), eager)


@pytest.mark.parametrize("backend", ["numpy", "jax", "torch", "tensorflow"])
@pytest.mark.parametrize("layer_class", sorted(_LAYERS))
@pytest.mark.parametrize("q_len, v_len", [(5, 4), (3, 5)])
def test_fused_path_equals_einsum_path(backend, layer_class, q_len, v_len):
    """`dot_product_attention` (no scores asked) vs the einsum path (scores asked): same output,
    for a causal mask alone (the backend's causal kernel) and for padding masks with it."""
    if not kbridge.backend.registry.is_installed(backend):
        pytest.skip(f"{backend} not installed")
    rng = np.random.RandomState(2)
    query, value = rng.randn(2, q_len, 6).astype("float32"), rng.randn(2, v_len, 6).astype("float32")
    value_mask = np.ones((2, v_len), bool)
    value_mask[1, -1] = False
    with kbridge.backend.use(backend):
        layer = _LAYERS[layer_class]()
        for kwargs in ({"use_causal_mask": True}, {"use_causal_mask": True, "value_mask": value_mask}):
            fused = ops.convert_to_numpy(layer(query, value, **kwargs))
            einsum, _ = layer(query, value, return_attention_scores=True, **kwargs)
            np.testing.assert_allclose(fused, ops.convert_to_numpy(einsum), rtol=1e-5, atol=1e-5, err_msg=str(kwargs))


def test_einsum_dense_call_outside_dunder_call_skips_the_hook():
    """`call` run directly (the dispatcher as `state.ops`) still works on a backend without the hook."""
    jnp = pytest.importorskip("jax.numpy")
    with kbridge.backend.use("jax"):
        layer = layers.EinsumDense("abc,cde->abde", (5, 3, 4), bias_axes="de")
        layer.build((2, 5, 6))
        assert layer.call(jnp.ones((2, 5, 6))).shape == (2, 5, 3, 4)
