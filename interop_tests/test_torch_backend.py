"""The PyTorch backend (`kbridge.adapters.torch.backend`): contract, hard ops against NumPy,
autograd, torch.compile and portable RNG.

References are plain NumPy written here; the generic cross-backend value suite lives in
interop_tests/test_ops_*.py.
"""

import inspect
import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import kbridge
from kbridge import ops
from kbridge.backend import registry, use

B = registry.get("torch")
rng = np.random.default_rng(0)
F32 = np.float32


def randn(*shape):
    return rng.standard_normal(shape).astype(F32)


def t(array):
    return torch.as_tensor(np.asarray(array))


def close(actual, expected, tol=1e-4):
    np.testing.assert_allclose(B.convert_to_numpy(actual), expected, rtol=tol, atol=tol)


# -- (a) the contract ----------------------------------------------------------------------


def _params(function):
    return [(p.name, p.kind, p.default) for p in inspect.signature(function).parameters.values()]


def test_every_op_exists_with_the_contract_signature():
    missing = [name for name in ops.OP_NAMES if not callable(getattr(B, name, None))]
    assert not missing
    wrong = [name for name in ops.OP_NAMES if _params(getattr(ops, name)) != _params(getattr(B, name))]
    assert not wrong, [(name, str(inspect.signature(getattr(B, name)))) for name in wrong]


def test_hooks():
    assert B.NAME == "torch"
    assert B.TENSOR_TYPES == (torch.Tensor,)
    value = torch.ones(3)
    param = B.variable_storage(value, True)
    assert isinstance(param, torch.nn.Parameter) and param.requires_grad
    assert not isinstance(B.variable_storage(value, False), torch.nn.Parameter)
    assert not isinstance(B.variable_storage(torch.ones(3, dtype=torch.int32), True), torch.nn.Parameter)
    assert B.variable_assign(param, torch.zeros(3)) is param
    assert param.requires_grad and float(param.detach().sum()) == 0.0
    assert registry.backend_of_type(torch.nn.Parameter) is B


def test_variables_numpy_and_python_values_are_accepted():
    with use("torch"):
        v = kbridge.Variable(np.arange(6, dtype=F32).reshape(2, 3))
        assert isinstance(v._value, torch.nn.Parameter)
        out = B.add(v, np.ones((2, 3), F32))
        assert isinstance(out, torch.Tensor)
        close(out, np.arange(6).reshape(2, 3) + 1)
        close(B.matmul(v, [[1.0], [0.0], [0.0]]), [[0.0], [3.0]])
        close(B.sum([1, 2, 3]), 6)


def test_keras_dtype_rules():
    i32 = torch.tensor([1, 2], dtype=torch.int32)
    assert B.dtype(B.arange(5)) == "int32"
    assert B.dtype(B.arange(0.5)) == "float32"
    assert B.dtype(B.convert_to_tensor(1.5)) == "float32"
    assert B.dtype(B.convert_to_tensor([1, 2])) == "int32"
    assert B.dtype(B.convert_to_tensor(np.float64([1.0]))) == "float64"
    assert B.dtype(B.mean(i32)) == "float32"
    assert B.dtype(B.add(i32, 1.5)) == "float32"
    assert B.dtype(B.add(torch.tensor([True]), 1)) == "int32"
    assert B.dtype(B.multiply(torch.ones(2), torch.tensor(2.0, dtype=torch.float64))) == "float64"
    assert B.dtype(B.divide(i32, i32)) == "float32"
    assert B.dtype(B.sum(torch.tensor([1, 2], dtype=torch.int8))) == "int32"
    assert B.dtype(B.where(torch.tensor([True, False]), 1, 0)) == "int32"
    assert B.dtype(B.argmax(torch.ones(3))) == "int32"
    assert B.dtype(B.full((2,), 3)) == "float32"


def test_int32_wraps_and_right_shift_is_arithmetic():
    big = torch.tensor([2**31 - 1, -(2**31)], dtype=torch.int32)
    assert B.convert_to_numpy(B.add(big, 1)).tolist() == [-(2**31), -(2**31) + 1]
    assert B.convert_to_numpy(B.multiply(big, 3)).tolist() == [2**31 - 3, -(2**31)]
    assert B.convert_to_numpy(B.right_shift(torch.tensor([-8, 7], dtype=torch.int32), 1)).tolist() == [-4, 3]
    assert B.dtype(B.left_shift(big, 1)) == "int32"


# -- (b) hard ops against NumPy references --------------------------------------------------


def _tuple(value, n):
    return (value,) * n if isinstance(value, int) else tuple(value)


def _pads(sizes, window, strides, dilation, padding):
    effective = [(k - 1) * d + 1 for k, d in zip(window, dilation)]
    if padding == "valid":
        return [(0, 0)] * len(sizes), [(n - e) // s + 1 for n, e, s in zip(sizes, effective, strides)]
    outs = [-(-n // s) for n, s in zip(sizes, strides)]
    totals = [max((o - 1) * s + e - n, 0) for o, s, e, n in zip(outs, strides, effective, sizes)]
    return [(total // 2, total - total // 2) for total in totals], outs


def np_conv(x, kernel, strides=1, padding="valid", dilation=1, data_format="channels_last"):
    """Grouped N-D convolution, TF semantics, written with explicit windows."""
    if data_format == "channels_first":
        x = np.moveaxis(x, 1, -1)
    nd = x.ndim - 2
    window = kernel.shape[:nd]
    group_in, out_channels = kernel.shape[nd], kernel.shape[nd + 1]
    groups = x.shape[-1] // group_in
    strides, dilation = _tuple(strides, nd), _tuple(dilation, nd)
    pads, outs = _pads(x.shape[1:-1], window, strides, dilation, padding)
    padded = np.pad(x.astype(np.float64), [(0, 0)] + pads + [(0, 0)])
    out = np.zeros((x.shape[0], *outs, out_channels))
    group_out = out_channels // groups
    for pos in np.ndindex(*outs):
        region = tuple(slice(p * s, p * s + (k - 1) * d + 1, d) for p, s, k, d in zip(pos, strides, window, dilation))
        patch = padded[(slice(None),) + region]
        for g in range(groups):
            part = patch[..., g * group_in : (g + 1) * group_in]
            weights = kernel[..., g * group_out : (g + 1) * group_out]
            out[(slice(None),) + pos + (slice(g * group_out, (g + 1) * group_out),)] = np.tensordot(
                part, weights, axes=nd + 1
            )
    return np.moveaxis(out, -1, 1) if data_format == "channels_first" else out


CONV_CASES = [
    # (spatial sizes, kernel, strides, dilation, padding, groups, data_format)
    ((9,), 3, 2, 1, "same", 1, "channels_last"),
    ((8,), 4, 1, 2, "same", 2, "channels_first"),
    ((7, 8), 3, 2, 1, "same", 1, "channels_last"),
    ((7, 8), 2, 2, 1, "same", 2, "channels_first"),
    ((7, 8), 3, 1, 2, "valid", 4, "channels_last"),
    ((6, 7), (2, 3), (1, 2), 1, "same", 1, "channels_first"),
    ((5, 6, 4), 3, 2, 1, "same", 2, "channels_last"),
    ((5, 6, 4), 2, 1, 1, "valid", 1, "channels_first"),
]


@pytest.mark.parametrize("sizes,k,strides,dilation,padding,groups,fmt", CONV_CASES)
def test_conv_family(sizes, k, strides, dilation, padding, groups, fmt):
    nd = len(sizes)
    cin = 4
    x = randn(2, *sizes, cin) if fmt == "channels_last" else randn(2, cin, *sizes)
    window = _tuple(k, nd)
    kernel = randn(*window, cin // groups, 8)
    kwargs = {"strides": strides, "padding": padding, "data_format": fmt, "dilation_rate": dilation}
    close(B.conv(t(x), t(kernel), **kwargs), np_conv(x, kernel, strides, padding, dilation, fmt))
    depthwise = randn(*window, cin, 2)
    grouped = depthwise.reshape(*window, 1, cin * 2)  # output channel c * multiplier + m
    expected = np_conv(x, grouped, strides, padding, dilation, fmt)
    close(B.depthwise_conv(t(x), t(depthwise), **kwargs), expected)
    pointwise = randn(*(1,) * nd, cin * 2, 3)
    close(
        B.separable_conv(t(x), t(depthwise), t(pointwise), **kwargs),
        np_conv(expected.astype(F32), pointwise, 1, "valid", 1, fmt),
    )


def test_conv_default_data_format_follows_config():
    x, kernel = randn(1, 3, 5, 5), randn(3, 3, 3, 2)
    kbridge.config.set_image_data_format("channels_first")
    try:
        close(B.conv(t(x), t(kernel), padding="same"), np_conv(x, kernel, 1, "same", 1, "channels_first"))
    finally:
        kbridge.config.set_image_data_format("channels_last")


@pytest.mark.parametrize(
    "sizes,k,strides,dilation,padding,output_padding",
    [
        ((5,), 3, 2, 1, "same", None),
        ((5,), 3, 2, 1, "valid", None),
        ((4,), 2, 3, 1, "valid", None),
        ((4,), 4, 2, 1, "same", None),
        ((5,), 3, 1, 2, "same", None),
        ((4, 5), 3, 2, 1, "same", None),
        ((4, 5), (2, 3), (2, 1), 1, "valid", None),
        ((4, 5), 3, 2, 1, "valid", 1),
        ((4, 5), 3, 2, 1, "same", 1),
        ((3, 4, 2), 2, 2, 1, "same", None),
    ],
)
def test_conv_transpose_shape_and_adjoint(sizes, k, strides, dilation, padding, output_padding):
    nd = len(sizes)
    window, stride, dil = _tuple(k, nd), _tuple(strides, nd), _tuple(dilation, nd)
    x = randn(2, *sizes, 3)
    kernel = randn(*window, 5, 3)  # (*spatial, out_channels, in_channels)
    out = B.convert_to_numpy(
        B.conv_transpose(t(x), t(kernel), strides, padding, output_padding, "channels_last", dilation)
    )
    for n, kk, s, d, length in zip(sizes, window, stride, dil, out.shape[1:-1]):
        effective = (kk - 1) * d + 1
        if output_padding is None:
            expected = n * s if padding == "same" else n * s + max(effective - s, 0)
        else:
            expected = (n - 1) * s + effective - 2 * (effective // 2 if padding == "same" else 0) + output_padding
        assert length == expected
    # TF defines the transposed convolution as the adjoint of the forward one.
    y = randn(*out.shape)
    forward = np_conv(y, kernel, stride, padding, dil)
    assert forward.shape == x.shape
    np.testing.assert_allclose(np.sum(out * y), np.sum(x * forward), rtol=1e-4)


def test_conv_transpose_known_values():
    x = t(np.array([[[1.0], [2.0]]], F32))
    kernel = t(np.ones((3, 1, 1), F32))
    close(B.conv_transpose(x, kernel, 2, "valid")[0, :, 0], [1, 1, 3, 2, 2])
    close(B.conv_transpose(x, kernel, 2, "same")[0, :, 0], [1, 1, 3, 2])
    close(
        B.conv_transpose(B.transpose(x, (0, 2, 1)), kernel, 2, "same", data_format="channels_first")[0, 0], [1, 1, 3, 2]
    )


def np_pool(x, size, strides, padding, kind):
    nd = x.ndim - 2
    size = _tuple(size, nd)
    strides = size if strides is None else _tuple(strides, nd)
    pads, outs = _pads(x.shape[1:-1], size, strides, (1,) * nd, padding)
    padded = np.pad(x.astype(np.float64), [(0, 0)] + pads + [(0, 0)], constant_values=np.nan)
    out = np.zeros((x.shape[0], *outs, x.shape[-1]))
    reduce = np.nanmax if kind == "max" else np.nanmean
    for pos in np.ndindex(*outs):
        region = tuple(slice(p * s, p * s + k) for p, s, k in zip(pos, strides, size))
        out[(slice(None),) + pos] = reduce(padded[(slice(None),) + region], axis=tuple(range(1, nd + 1)))
    return out


@pytest.mark.parametrize(
    "sizes,size,strides,padding",
    [((9,), 2, 2, "same"), ((7, 8), 3, 2, "same"), ((7, 8), 2, None, "same"), ((6, 7), 3, 1, "same"),
     ((7, 8), (2, 3), (2, 1), "valid"), ((5, 4, 6), 2, 2, "same"), ((5, 4, 6), 3, 2, "valid")],
)  # fmt: skip
def test_pooling(sizes, size, strides, padding):
    x = randn(2, *sizes, 3)
    close(B.max_pool(t(x), size, strides, padding), np_pool(x, size, strides, padding, "max"))
    close(B.average_pool(t(x), size, strides, padding), np_pool(x, size, strides, padding, "avg"))
    first = np.ascontiguousarray(np.moveaxis(x, -1, 1))
    close(
        B.average_pool(t(first), size, strides, padding, "channels_first"),
        np.moveaxis(np_pool(x, size, strides, padding, "avg"), -1, 1),
    )


def np_attention(q, k, v, bias=None, mask=None, scale=None, causal=False):
    heads = q.shape[2]
    k = np.repeat(k, heads // k.shape[2], axis=2)
    v = np.repeat(v, heads // v.shape[2], axis=2)
    scale = 1.0 / math.sqrt(q.shape[-1]) if scale is None else scale
    logits = np.einsum("btnh,bsnh->bnts", q, k).astype(np.float64) * scale
    if bias is not None:
        logits = logits + bias
    allowed = np.ones(logits.shape, bool)
    if mask is not None:
        allowed &= mask
    if causal:
        allowed &= np.tril(np.ones(logits.shape[-2:], bool))
    logits = np.where(allowed, logits, -1e9)
    weights = np.exp(logits - logits.max(-1, keepdims=True))
    weights /= weights.sum(-1, keepdims=True)
    return np.einsum("bnts,bsnh->btnh", weights, v)


def test_dot_product_attention():
    q, k, v = randn(2, 5, 4, 8), randn(2, 6, 4, 8), randn(2, 6, 4, 8)
    bias = randn(1, 4, 5, 6)
    mask = rng.random((2, 1, 5, 6)) > 0.3
    mask[..., 0] = True
    close(B.dot_product_attention(t(q), t(k), t(v)), np_attention(q, k, v))
    close(B.dot_product_attention(t(q), t(k), t(v), bias=t(bias), scale=0.3), np_attention(q, k, v, bias, scale=0.3))
    close(B.dot_product_attention(t(q), t(k), t(v), mask=t(mask)), np_attention(q, k, v, mask=mask))
    close(
        B.dot_product_attention(t(q), t(k), t(v), bias=t(bias), mask=t(mask), is_causal=True),
        np_attention(q, k, v, bias, mask, causal=True),
    )
    qs = randn(2, 5, 4, 8)
    close(B.dot_product_attention(t(qs), t(q), t(q), is_causal=True), np_attention(qs, q, q, causal=True))
    kg, vg = randn(2, 6, 2, 8), randn(2, 6, 2, 8)  # grouped-query attention: 4 query heads, 2 kv heads
    close(B.dot_product_attention(t(q), t(kg), t(vg)), np_attention(q, kg, vg))


def test_crossentropies():
    eps = kbridge.config.epsilon()
    logits = randn(4, 5)
    probs = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    labels = np.array([0, 3, 4, 1])
    onehot = np.eye(5, dtype=F32)[labels]
    log_probs = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    expected = -(onehot * log_probs).sum(-1)
    close(B.categorical_crossentropy(t(onehot), t(logits), from_logits=True), expected)
    close(B.categorical_crossentropy(t(onehot), t(probs)), -(onehot * np.log(np.clip(probs, eps, 1 - eps))).sum(-1))
    close(B.categorical_crossentropy(t(onehot.T), t(logits.T), from_logits=True, axis=0), expected)
    close(B.sparse_categorical_crossentropy(t(labels.astype(np.int32)), t(logits), from_logits=True), expected)
    close(
        B.sparse_categorical_crossentropy(t(labels[:, None]), t(probs)),
        -np.log(np.clip(probs[range(4), labels], eps, 1)),
    )
    target = (rng.random((3, 4)) > 0.5).astype(F32)
    z = randn(3, 4) * 5
    p = 1 / (1 + np.exp(-z))
    expected = -(target * np.log(np.clip(p, eps, 1 - eps)) + (1 - target) * np.log(np.clip(1 - p, eps, 1 - eps)))
    close(B.binary_crossentropy(t(target), t(p)), expected, tol=1e-3)
    exact = np.maximum(z, 0) - z * target + np.log1p(np.exp(-np.abs(z)))
    close(B.binary_crossentropy(t(target), t(z), from_logits=True), exact)


def test_scatter_and_segments():
    indices = np.array([[0, 1], [2, 3], [0, 1]], np.int32)
    values = np.array([1.0, 2.0, 3.0], F32)
    expected = np.zeros((3, 4), F32)
    np.add.at(expected, (indices[:, 0], indices[:, 1]), values)
    close(B.scatter(t(indices), t(values), (3, 4)), expected)
    rows = randn(2, 4)
    expected = np.zeros((3, 4), F32)
    expected[[0, 2]] = rows
    close(B.scatter(t(np.array([[0], [2]])), t(rows), (3, 4)), expected)
    base = randn(3, 4)
    updated = base.copy()
    updated[0, 1], updated[2, 3] = 9.0, 8.0
    close(B.scatter_update(t(base), t(indices[:2]), t(np.array([9.0, 8.0], F32))), updated)
    close(
        B.slice_update(t(base), (1, 1), t(np.zeros((2, 2), F32))),
        np.where(np.pad(np.ones((2, 2)), ((1, 0), (1, 1))) > 0, 0, base),
    )
    data = randn(6, 3)
    ids = np.array([0, 0, 2, 2, 2, -1], np.int32)
    sums = np.stack([data[ids == s].sum(0) for s in range(4)])
    close(B.segment_sum(t(data), t(ids), 4), sums)
    close(B.segment_sum(t(data[:5]), t(ids[:5])), sums[:3])
    maxes = B.convert_to_numpy(B.segment_max(t(data), t(ids), 4))
    np.testing.assert_allclose(maxes[[0, 2]], np.stack([data[ids == s].max(0) for s in (0, 2)]))
    assert np.all(np.isneginf(maxes[[1, 3]]))


def test_top_k_and_in_top_k():
    x = rng.permutation(24).reshape(4, 6).astype(F32)
    values, indices = B.top_k(t(x), 3)
    order = np.argsort(-x, axis=-1)[:, :3]
    close(values, np.take_along_axis(x, order, -1))
    assert B.dtype(indices) == "int32"
    np.testing.assert_array_equal(B.convert_to_numpy(indices), order)
    targets = np.array([order[0, 0], order[1, 2], order[2, 5 - 3], 0], np.int32)
    expected = [targets[i] in order[i] for i in range(4)]
    np.testing.assert_array_equal(B.convert_to_numpy(B.in_top_k(t(targets), t(x), 3)), expected)


@pytest.mark.parametrize(
    "key",
    [1, -1, (slice(None), 2), (Ellipsis, 1), (None, slice(1, 3)), slice(None, None, -1), (slice(None), slice(4, 0, -2)),
     (1, slice(None, None, -1), None, Ellipsis), (Ellipsis, slice(None, None, -3)), (slice(3, None, -1), 0, slice(1, 2))],
)  # fmt: skip
def test_getitem(key):
    x = randn(4, 5, 3)
    close(B.getitem(t(x), key), x[key])


def test_getitem_with_index_arrays():
    x = randn(4, 5)
    close(B.getitem(t(x), t(np.array([3, -1, 0]))), x[[3, -1, 0]])
    close(B.getitem(t(x), t(x > 0)), x[x > 0])
    close(B.take(t(x), t(np.array([[0, -1]], np.int32)), axis=1), np.take(x, [[0, -1]], axis=1))


# -- (c) autograd ---------------------------------------------------------------------------


def _f64(*shape, positive=False):
    value = torch.tensor(rng.standard_normal(shape), dtype=torch.float64)
    return (value.abs() + 0.5 if positive else value).requires_grad_(True)


def test_gradcheck_float64():
    gradcheck = torch.autograd.gradcheck
    assert gradcheck(lambda x: B.softmax(x, axis=-1), (_f64(3, 4),))
    assert gradcheck(lambda x: B.log_softmax(x, axis=(0, 1)), (_f64(2, 3),))
    assert gradcheck(lambda x: B.logsumexp(x, axis=1), (_f64(3, 4),))
    assert gradcheck(lambda x, k: B.conv(x, k, strides=2, padding="same"), (_f64(1, 5, 4, 2), _f64(3, 3, 2, 3)))
    assert gradcheck(
        lambda x, k: B.conv_transpose(x, k, strides=2, padding="same"), (_f64(1, 3, 3, 2), _f64(3, 3, 2, 2))
    )
    # Statistics computed from x (training) and fixed statistics (inference, torch's fused kernel).
    assert gradcheck(
        lambda x, g, b: B.batch_normalization(x, *B.moments(x, (0, 1)), axis=-1, offset=b, scale=g),
        (_f64(2, 3, 4), _f64(4, positive=True), _f64(4)),
    )
    mean, var = torch.zeros(3, dtype=torch.float64), torch.ones(3, dtype=torch.float64) * 2
    assert gradcheck(lambda x, g, b: B.batch_normalization(x, mean, var, 1, b, g), (_f64(2, 3, 4), _f64(3), _f64(3)))
    assert gradcheck(
        lambda q, k, v: B.dot_product_attention(q, k, v, is_causal=True),
        (_f64(1, 3, 2, 4), _f64(1, 3, 2, 4), _f64(1, 3, 2, 4)),
    )


# -- (d) torch.compile --------------------------------------------------------------------


def _model(x, w, kernel, gamma, beta, index):
    h = ops.relu(ops.add(ops.matmul(x, w), 1.0))
    mean, var = ops.moments(h, axes=(0,))
    h = ops.batch_normalization(h, mean, var, axis=-1, offset=beta, scale=gamma)
    h = ops.softmax(ops.gelu(h), axis=-1)
    image = ops.reshape(h, (2, 4, 4, 1))
    c = ops.average_pool(ops.max_pool(ops.conv(image, kernel, strides=2, padding="same"), 2, 1, "same"), 2, 1, "same")
    picked = ops.take(w, index, axis=0)
    flipped = ops.flip(h, axis=1)
    bits = ops.right_shift(ops.multiply(ops.bitwise_xor(ops.arange(8, dtype="int32"), 12345), -2048144789), 3)
    bits = ops.cast(ops.bitwise_and(bits, 255), "float32")
    gated = ops.where(ops.greater(h, 0.05), h, 0.0)
    return (
        ops.sum(c) + ops.mean(picked) + ops.max(flipped) + ops.sum(bits) + ops.sum(gated)
        + ops.logsumexp(h) + ops.std(h)
    )  # fmt: skip


def test_torch_compile_fullgraph_matches_eager():
    args = (
        torch.randn(2, 16),
        torch.randn(16, 16),
        torch.randn(3, 3, 1, 2),
        torch.rand(16) + 0.5,
        torch.randn(16),
        torch.tensor([0, -1, 3], dtype=torch.int32),
    )
    with use("torch"):
        eager = _model(*args)
        compiled = torch.compile(_model, fullgraph=True, backend="aot_eager")(*args)
    torch.testing.assert_close(compiled, eager, rtol=1e-5, atol=1e-5)


def _indexing(x, index):
    # Called on the backend module directly: kbridge.ops' type-based dispatch looks at
    # every argument, slices included, which is the core's business, not the backend's.
    a = B.getitem(x, (slice(None), slice(None, None, -2), None))
    b = B.getitem(x, (Ellipsis, 1))
    c = B.take(x, index, axis=1)
    d = B.slice(x, (1, 0), (2, 3))
    e = B.slice_update(x, (0, 1), B.ones((2, 2)))
    f = B.scatter(B.convert_to_tensor([[0, 1], [2, 0]]), B.ones((2,)), (3, 4))
    return B.sum(a) + B.sum(b) + B.sum(c) + B.sum(d) + B.sum(e) + B.sum(f)


def test_torch_compile_fullgraph_indexing():
    args = (torch.randn(3, 4), torch.tensor([0, -1], dtype=torch.int32))
    compiled = torch.compile(_indexing, fullgraph=True, backend="aot_eager")(*args)
    torch.testing.assert_close(compiled, _indexing(*args))


# -- (e) portable random numbers ------------------------------------------------------------


def _np_fmix32(h):
    h = h ^ (h >> np.uint32(16))
    h = h * np.uint32(0x85EBCA6B)
    h = h ^ (h >> np.uint32(13))
    h = h * np.uint32(0xC2B2AE35)
    return h ^ (h >> np.uint32(16))


def np_uniform(shape, seed):
    """kbridge.random's counter-based hash, re-implemented in NumPy uint32 arithmetic."""
    golden = np.uint32(0x9E3779B1)
    with np.errstate(over="ignore"):
        key = _np_fmix32(_np_fmix32(np.uint32(seed & 0x7FFFFFFF) ^ np.uint32(0x2545F491)) * golden + np.uint32(0))
        index = np.arange(math.prod(shape), dtype=np.uint32)
        bits = _np_fmix32(index * golden + key)
    return ((bits >> np.uint32(8)).astype(F32) * F32(2.0**-24)).reshape(shape)


def test_random_uniform_matches_numpy():
    with use("torch"):
        ours = B.convert_to_numpy(kbridge.random.uniform((3, 4), seed=7))
    np.testing.assert_array_equal(ours, np_uniform((3, 4), 7))
    try:
        registry.get("numpy")
    except ImportError:
        return
    with use("numpy"):
        theirs = np.asarray(kbridge.random.uniform((3, 4), seed=7))
    np.testing.assert_array_equal(ours, theirs)
