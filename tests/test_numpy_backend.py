"""The NumPy backend: contract, dtype rules, and the hard ops against naive references."""

import inspect
import itertools
import math
import warnings

import numpy as np
import pytest

import kbridge
from kbridge import ops
from kbridge.backend import registry

B = registry.get("numpy")
RNG = np.random.default_rng(1234)


def _normal(*shape, dtype="float32"):
    return RNG.normal(size=shape).astype(dtype)


# -- the contract --------------------------------------------------------------------------------


def test_every_op_exists_with_the_contract_signature():
    missing = [name for name in ops.OP_NAMES if not callable(getattr(B, name, None))]
    assert not missing
    different = {
        name: (str(inspect.signature(getattr(B, name))), str(inspect.signature(getattr(ops, name))))
        for name in ops.OP_NAMES
        if inspect.signature(getattr(B, name)) != inspect.signature(getattr(ops, name))
    }
    assert not different


def test_backend_hooks():
    assert B.NAME == "numpy"
    assert issubclass(np.ndarray, B.TENSOR_TYPES) and issubclass(np.float32, B.TENSOR_TYPES)
    source = np.ones((2, 2), "float32")
    storage = B.variable_storage(source, True)
    source[0, 0] = 5.0
    assert storage[0, 0] == 1.0, "the variable must own its array"
    updated = B.variable_assign(storage, np.zeros((2, 2), "float32"))
    assert updated is not storage and updated.sum() == 0
    with pytest.raises(ValueError, match="shape"):
        B.variable_assign(storage, np.zeros((3,), "float32"))


def test_variables_are_read_wherever_a_tensor_is():
    with kbridge.backend.use("numpy"):
        variable = kbridge.Variable(np.arange(6, dtype="float32").reshape(2, 3), name="w")
    np.testing.assert_allclose(B.add(variable, 1.0), np.arange(6).reshape(2, 3) + 1.0)
    assert B.matmul(variable, B.transpose(variable)).shape == (2, 2)
    assert B.shape(variable) == (2, 3) and B.dtype(variable) == "float32"
    assert B.concatenate([variable, variable], axis=0).shape == (4, 3)


# -- dtypes --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "result, expected",
    [
        (lambda: B.arange(5), "int32"),
        (lambda: B.arange(0.0, 1.0, 0.5), "float32"),
        (lambda: B.convert_to_tensor(1.0), "float32"),
        (lambda: B.convert_to_tensor(1), "int32"),
        (lambda: B.convert_to_tensor(True), "bool"),
        (lambda: B.convert_to_tensor([1, 2.5]), "float32"),
        (lambda: B.convert_to_tensor(np.zeros(2, "float64")), "float64"),
        (lambda: B.convert_to_tensor(np.zeros(2, "int16")), "int16"),
        (lambda: B.add(np.arange(3, dtype="int32"), 1.5), "float32"),
        (lambda: B.add(np.arange(3, dtype="int64"), 1.5), "float32"),
        (lambda: B.multiply(np.ones(3, "float16"), 2.0), "float16"),
        (lambda: B.add(np.ones(3, "float32"), np.ones(3, "float64")), "float64"),
        (lambda: B.add(np.ones(3, "int64"), np.ones(3, "int32")), "int64"),
        (lambda: B.add(np.ones(3, "int8"), np.ones(3, "uint8")), "int16"),
        (lambda: B.add(np.ones(3, "int64"), np.ones(3, "float16")), "float16"),
        (lambda: B.add(np.ones(3, "bool"), 1), "int32"),
        (lambda: B.true_divide(np.ones(3, "int32"), np.ones(3, "int32")), "float32"),
        (lambda: B.mean(np.arange(4)), "float32"),
        (lambda: B.var(np.arange(4, dtype="int8")), "float32"),
        (lambda: B.sum(np.ones(3, "bool")), "int32"),
        (lambda: B.sum(np.ones(3, "uint8")), "uint32"),
        (lambda: B.argmax(np.ones((2, 3)), axis=1), "int32"),
        (lambda: B.sqrt(np.arange(3)), "float32"),
        (lambda: B.floor(np.arange(3)), "float32"),
        (lambda: B.round(np.arange(3, dtype="int32")), "int32"),
        (lambda: B.zeros((2,)), "float32"),
        (lambda: B.full((2,), 3), "float32"),
        (lambda: B.one_hot(np.array([0, 1]), 3), "float32"),
        (lambda: B.matmul(np.ones((2, 2), "int8"), np.ones((2, 2), "int8")), "int32"),
        (lambda: B.where(np.array([True]), 1, 2.5), "float32"),
        (lambda: B.clip(np.arange(3), 0.5, 1), "float32"),
    ],
)
def test_keras_promotion_rules(result, expected):
    assert B.dtype(result()) == expected


def test_floatx_drives_python_floats():
    kbridge.config.set_floatx("float16")
    try:
        assert B.dtype(B.convert_to_tensor(1.0)) == "float16"
        assert B.dtype(B.add(np.arange(3), 0.5)) == "float16"
    finally:
        kbridge.config.set_floatx("float32")


def test_int32_arithmetic_wraps_without_warnings():
    big, factor = np.int32(0x7FFFFFF0), np.int32(-0x7A143595)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        product = B.multiply(big, factor)
        total = B.add(np.array([2**31 - 1], "int32"), 5)
        shifted = B.right_shift(np.int32(-8), 1)
    expected = (int(big) * int(factor) + 2**31) % 2**32 - 2**31
    assert int(product) == expected and B.dtype(product) == "int32"
    assert int(total[0]) == -(2**31) + 4
    assert int(shifted) == -4


def test_random_draws_warn_nothing_on_numpy():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with kbridge.backend.use("numpy"):
            first = kbridge.random.uniform((3, 4), seed=3)
            again = kbridge.random.uniform((3, 4), seed=3)
            normal = kbridge.random.normal((1000,), seed=1)
    assert isinstance(first, np.ndarray) and first.dtype == np.float32
    np.testing.assert_array_equal(first, again)
    assert 0.0 <= first.min() and first.max() < 1.0
    assert abs(float(np.mean(normal))) < 0.1 and abs(float(np.std(normal)) - 1) < 0.1


def test_saturate_cast_and_cast():
    values = np.array([3e9, -3e9, np.nan, 1.7], "float32")
    assert B.saturate_cast(values, "int32").tolist() == [2**31 - 1, -(2**31), 0, 1]
    assert B.saturate_cast(np.array([300, -5], "int32"), "uint8").tolist() == [255, 0]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert B.cast(np.array([1.9, -1.9]), "int32").tolist() == [1, -1]


# -- indexing --------------------------------------------------------------------------------------


def test_take_with_negative_indices():
    x = np.arange(12).reshape(3, 4)
    np.testing.assert_array_equal(B.take(x, np.array([-1, 0, -4]), axis=1), x[:, [3, 0, 0]])
    np.testing.assert_array_equal(B.take(x, -1), 11)
    np.testing.assert_array_equal(B.take(x, np.array([[0, -1]]), axis=0), x[[[0, 2]]])
    np.testing.assert_array_equal(B.take_along_axis(x, np.array([[-1], [0], [1]]), axis=1), [[3], [4], [9]])


def test_slices_scatter_and_unstack():
    x = np.arange(12).reshape(3, 4)
    np.testing.assert_array_equal(B.slice(x, (1, 2), (2, 2)), x[1:3, 2:4])
    updated = B.slice_update(x, (0, 1), np.zeros((2, 2), "int64"))
    assert updated[0, 1] == 0 and x[0, 1] == 1, "slice_update must not modify its input"
    np.testing.assert_array_equal(B.scatter(np.array([[0, 1], [0, 1], [2, 0]]), np.array([1.0, 2.0, 5.0]), (3, 2)), [[0, 3], [0, 0], [5, 0]])
    assert [row.tolist() for row in B.unstack(x, axis=1)][3] == [3, 7, 11]
    assert B.getitem(x, (Ellipsis, None, -1)).shape == (3, 1)


def test_top_k_breaks_ties_by_lower_index():
    values, indices = B.top_k(np.array([[1, 3, 3, 2, 3]]), 3)
    assert values.tolist() == [[3, 3, 3]] and indices.tolist() == [[1, 2, 4]] and B.dtype(indices) == "int32"
    assert B.in_top_k(np.array([0, 2]), np.array([[1.0, 1.0, 0.0], [0.0, 0.5, 0.2]]), 1).tolist() == [True, False]


def test_erf_and_erfinv_without_scipy():
    x = np.linspace(-6, 6, 241)
    np.testing.assert_allclose(B.erf(x), [math.erf(v) for v in x], rtol=0, atol=1e-14)
    y = np.array([-0.999999, -0.7, -1e-12, 0.0, 0.3, 0.99, 0.9999999999])
    np.testing.assert_allclose(B.erf(B.erfinv(y)), y, rtol=1e-13, atol=1e-20)
    assert B.erfinv(np.array([1.0, -1.0, 2.0], "float32")).tolist()[:2] == [np.inf, -np.inf]
    assert np.isnan(B.erfinv(np.array([2.0]))[0])


# -- control flow ----------------------------------------------------------------------------------


def test_control_flow_is_plain_python():
    assert B.cond(np.array(True), lambda: 1, lambda: 2) == 1
    assert B.fori_loop(0, 5, lambda i, v: v + i, 0) == 10
    assert B.while_loop(lambda a, b: a < 3, lambda a, b: (a + 1, b * 2), (0, 1)) == (3, 8)
    assert B.while_loop(lambda a: a < 10, lambda a: a + 1, 0, maximum_iterations=4) == 4
    carry, ys = B.scan(lambda c, x: (c + x, {"twice": x * 2}), 0.0, np.arange(4.0), reverse=True)
    assert carry == 6.0 and ys["twice"].tolist() == [0, 2, 4, 6]
    _, empty = B.scan(lambda c, x: (c, x * 2), 0.0, np.zeros((0, 3)))
    assert empty.shape == (0, 3)


# -- convolution against a naive loop --------------------------------------------------------------


def _same_pads(sizes, spans, strides):
    pads = []
    for size, span, stride in zip(sizes, spans, strides):
        total = max((-(-size // stride) - 1) * stride + span - size, 0)
        pads.append((total // 2, total - total // 2))
    return pads


def naive_conv(x, kernel, strides, padding, dilation):
    """Channels-last grouped convolution, one output pixel and one kernel tap at a time."""
    rank = x.ndim - 2
    window = kernel.shape[:rank]
    spans = [(k - 1) * d + 1 for k, d in zip(window, dilation)]
    pads = _same_pads(x.shape[1:-1], spans, strides) if padding == "same" else [(0, 0)] * rank
    padded = np.pad(x.astype("float64"), [(0, 0), *pads, (0, 0)])
    outs = [(padded.shape[1 + i] - spans[i]) // strides[i] + 1 for i in range(rank)]
    per_group, filters = kernel.shape[-2], kernel.shape[-1]
    groups = x.shape[-1] // per_group
    per_out = filters // groups
    result = np.zeros((x.shape[0], *outs, filters))
    for position in itertools.product(*map(range, outs)):
        for tap in itertools.product(*map(range, window)):
            source = tuple(p * s + t * d for p, s, t, d in zip(position, strides, tap, dilation))
            pixel = padded[(slice(None), *source)]
            for g in range(groups):
                result[(slice(None), *position, slice(g * per_out, (g + 1) * per_out))] += (
                    pixel[:, g * per_group : (g + 1) * per_group] @ kernel[tap][:, g * per_out : (g + 1) * per_out]
                )
    return result


def _to_first(x):
    return np.moveaxis(x, -1, 1)


CONV_CASES = [
    # rank, spatial, kernel, strides, dilation, padding, groups
    (1, (9,), (3,), (1,), (1,), "valid", 1),
    (1, (10,), (4,), (3,), (1,), "same", 2),
    (1, (11,), (3,), (1,), (2,), "same", 1),
    (2, (7, 6), (3, 2), (2, 1), (1, 1), "same", 1),
    (2, (8, 7), (3, 3), (1, 1), (2, 1), "valid", 2),
    (2, (6, 6), (2, 2), (2, 2), (1, 1), "same", 4),
    (3, (5, 4, 6), (2, 3, 2), (2, 1, 2), (1, 1, 1), "same", 1),
    (3, (6, 5, 5), (2, 2, 2), (1, 1, 1), (2, 1, 1), "valid", 2),
]


@pytest.mark.parametrize("rank, spatial, window, strides, dilation, padding, groups", CONV_CASES)
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_conv_matches_naive_loop(rank, spatial, window, strides, dilation, padding, groups, data_format):
    channels = 4
    x = _normal(2, *spatial, channels)
    kernel = _normal(*window, channels // groups, 8)
    expected = naive_conv(x, kernel, strides, padding, dilation)
    inputs = _to_first(x) if data_format == "channels_first" else x
    result = B.conv(inputs, kernel, strides=strides, padding=padding, data_format=data_format, dilation_rate=dilation)
    if data_format == "channels_first":
        result = np.moveaxis(result, 1, -1)
    assert result.dtype == np.float32
    np.testing.assert_allclose(result, expected, rtol=1e-4, atol=1e-4)


def test_conv_default_data_format_follows_config():
    x, kernel = _normal(1, 3, 5, 5), _normal(3, 3, 3, 2)
    kbridge.config.set_image_data_format("channels_first")
    try:
        result = B.conv(x, kernel, padding="same")
    finally:
        kbridge.config.set_image_data_format("channels_last")
    expected = naive_conv(np.moveaxis(x, 1, -1), kernel, (1, 1), "same", (1, 1))
    np.testing.assert_allclose(np.moveaxis(result, 1, -1), expected, rtol=1e-4, atol=1e-4)


def test_depthwise_and_separable_conv_are_grouped_convs():
    x = _normal(2, 7, 6, 3)
    depthwise = _normal(3, 3, 3, 2)
    as_grouped = depthwise.reshape(3, 3, 1, 6)  # output channel c * multiplier + m
    expected = naive_conv(x, as_grouped, (2, 1), "same", (1, 1))
    result = B.depthwise_conv(x, depthwise, strides=(2, 1), padding="same")
    np.testing.assert_allclose(result, expected, rtol=1e-4, atol=1e-4)
    pointwise = _normal(1, 1, 6, 5)
    separable = B.separable_conv(_to_first(x), depthwise, pointwise, strides=(2, 1), padding="same", data_format="channels_first")
    np.testing.assert_allclose(np.moveaxis(separable, 1, -1), expected @ pointwise[0, 0], rtol=1e-4, atol=1e-4)


def naive_conv_transpose(x, kernel, strides, padding, dilation, output_padding):
    """Scatter each input pixel through the kernel (the adjoint of a strided conv), then crop."""
    rank = x.ndim - 2
    window = kernel.shape[:rank]
    spans = [(k - 1) * d + 1 for k, d in zip(window, dilation)]
    lengths, starts = [], []
    for size, span, stride, extra in zip(x.shape[1:-1], spans, strides, output_padding):
        if padding == "valid":
            length = size * stride + max(span - stride, 0) if extra is None else (size - 1) * stride + span + extra
            starts.append(0)
        else:
            length = size * stride
            starts.append(_same_pads([length], [span], [stride])[0][0])
        lengths.append(length)
    result = np.zeros((x.shape[0], *lengths, kernel.shape[-2]))
    for position in itertools.product(*map(range, x.shape[1:-1])):
        for tap in itertools.product(*map(range, window)):
            target = tuple(p * s + t * d - b for p, s, t, d, b in zip(position, strides, tap, dilation, starts))
            if all(0 <= j < n for j, n in zip(target, lengths)):
                result[(slice(None), *target)] += x[(slice(None), *position)] @ kernel[tap].T
    return result


@pytest.mark.parametrize(
    "spatial, window, strides, dilation, padding, output_padding",
    [
        ((5,), (3,), (2,), (1,), "valid", (None,)),
        ((5,), (2,), (3,), (1,), "same", (None,)),
        ((6,), (3,), (1,), (2,), "same", (None,)),
        ((4,), (3,), (2,), (1,), "valid", (1,)),
        ((4, 3), (3, 2), (2, 2), (1, 1), "same", (None, None)),
        ((3, 4), (2, 3), (1, 2), (2, 1), "valid", (0, 1)),
        ((3, 2, 3), (2, 2, 3), (2, 1, 2), (1, 1, 1), "same", (None, None, None)),
    ],
)
def test_conv_transpose_matches_naive_loop(spatial, window, strides, dilation, padding, output_padding):
    x = _normal(2, *spatial, 3)
    kernel = _normal(*window, 4, 3)
    expected = naive_conv_transpose(x, kernel, strides, padding, dilation, output_padding)
    extra = None if output_padding[0] is None else output_padding
    result = B.conv_transpose(x, kernel, strides=strides, padding=padding, output_padding=extra, dilation_rate=dilation)
    assert result.shape == expected.shape
    np.testing.assert_allclose(result, expected, rtol=1e-4, atol=1e-4)
    first = B.conv_transpose(_to_first(x), kernel, strides, padding, extra, "channels_first", dilation)
    np.testing.assert_allclose(np.moveaxis(first, 1, -1), expected, rtol=1e-4, atol=1e-4)


def test_conv_errors_name_the_op():
    with pytest.raises(ValueError, match="conv"):
        B.conv(_normal(1, 5, 5, 3), _normal(3, 3, 2, 4))  # 3 channels, kernel wants a multiple of 2
    with pytest.raises(ValueError, match="padding"):
        B.conv(_normal(1, 5, 3), _normal(3, 3, 4), padding="full")
    with pytest.raises(ValueError, match="max_pool"):
        B.max_pool(_normal(1, 2, 3), 3)


# -- pooling ---------------------------------------------------------------------------------------


def naive_pool(x, pool, strides, padding, reduce):
    """Channels-last pooling over the real pixels of each window (padding never counts)."""
    sizes = x.shape[1:-1]
    pads = _same_pads(sizes, pool, strides) if padding == "same" else [(0, 0)] * len(sizes)
    outs = [
        -(-n // s) if padding == "same" else (n - p) // s + 1 for n, p, s in zip(sizes, pool, strides)
    ]
    result = np.zeros((x.shape[0], *outs, x.shape[-1]))
    for position in itertools.product(*map(range, outs)):
        ranges = []
        for p, s, w, (before, _), n in zip(position, strides, pool, pads, sizes):
            start = p * s - before
            ranges.append(slice(max(start, 0), min(start + w, n)))
        window = x[(slice(None), *ranges)]
        axes = tuple(range(1, len(sizes) + 1))
        result[(slice(None), *position)] = reduce(window, axis=axes)
    return result


@pytest.mark.parametrize(
    "spatial, pool, strides, padding",
    [
        ((9,), (2,), (2,), "valid"),
        ((10,), (3,), (2,), "same"),
        ((7, 6), (3, 3), (2, 2), "same"),
        ((5, 8), (2, 3), (1, 2), "same"),
        ((6, 5), (2, 2), (2, 1), "valid"),
        ((4, 5, 3), (2, 3, 2), (2, 2, 1), "same"),
    ],
)
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_pooling_matches_naive_loop(spatial, pool, strides, padding, data_format):
    x = _normal(2, *spatial, 3)
    inputs = _to_first(x) if data_format == "channels_first" else x
    for op, reduce in ((B.max_pool, np.max), (B.average_pool, np.mean)):
        result = op(inputs, pool, strides=strides, padding=padding, data_format=data_format)
        if data_format == "channels_first":
            result = np.moveaxis(result, 1, -1)
        np.testing.assert_allclose(result, naive_pool(x, pool, strides, padding, reduce), rtol=1e-5, atol=1e-6)


def test_pool_strides_default_to_pool_size():
    x = np.arange(16, dtype="float32").reshape(1, 4, 4, 1)
    assert B.max_pool(x, 2)[0, :, :, 0].tolist() == [[5, 7], [13, 15]]
    assert B.average_pool(x, (2, 2), padding="same").shape == (1, 2, 2, 1)


# -- attention and losses --------------------------------------------------------------------------


def _reference_attention(query, key, value, bias=None, keep=None, scale=None):
    heads, kv_heads = query.shape[2], key.shape[2]
    key = np.repeat(key, heads // kv_heads, axis=2).astype("float64")
    value = np.repeat(value, heads // kv_heads, axis=2).astype("float64")
    scale = 1 / math.sqrt(query.shape[-1]) if scale is None else scale
    logits = np.einsum("btnh,bsnh->bnts", query.astype("float64"), key) * scale
    if bias is not None:
        logits = logits + bias
    if keep is not None:
        logits = np.where(keep, logits, -1e30)
    weights = np.exp(logits - logits.max(-1, keepdims=True))
    weights /= weights.sum(-1, keepdims=True)
    return np.einsum("bnts,bsnh->btnh", weights, value)


def test_dot_product_attention():
    query, key, value = _normal(2, 5, 4, 8), _normal(2, 6, 4, 8), _normal(2, 6, 4, 3)
    np.testing.assert_allclose(B.dot_product_attention(query, key, value), _reference_attention(query, key, value), rtol=1e-4, atol=1e-5)
    bias, mask = _normal(1, 4, 5, 6), RNG.random((2, 1, 5, 6)) > 0.3
    mask[..., 0] = True
    result = B.dot_product_attention(query, key, value, bias=bias, mask=mask, scale=0.2)
    np.testing.assert_allclose(result, _reference_attention(query, key, value, bias, mask, 0.2), rtol=1e-4, atol=1e-5)
    causal = B.dot_product_attention(query, key[:, :5], value[:, :5], is_causal=True)
    lower = np.tril(np.ones((5, 5), bool))
    np.testing.assert_allclose(causal, _reference_attention(query, key[:, :5], value[:, :5], keep=lower), rtol=1e-4, atol=1e-5)
    grouped = B.dot_product_attention(query, key[:, :, :2], value[:, :, :2])
    np.testing.assert_allclose(grouped, _reference_attention(query, key[:, :, :2], value[:, :, :2]), rtol=1e-4, atol=1e-5)
    half = B.dot_product_attention(query.astype("float16"), key.astype("float16"), value.astype("float16"))
    assert half.dtype == np.float16


def test_crossentropies():
    logits = _normal(4, 5)
    probabilities = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    labels = np.array([0, 4, 2, 1])
    one_hot = np.eye(5, dtype="float32")[labels]
    expected = -np.log(probabilities[np.arange(4), labels])
    np.testing.assert_allclose(B.categorical_crossentropy(one_hot, probabilities), expected, rtol=1e-5)
    np.testing.assert_allclose(B.categorical_crossentropy(one_hot, logits, from_logits=True), expected, rtol=1e-5)
    np.testing.assert_allclose(B.sparse_categorical_crossentropy(labels, logits, from_logits=True), expected, rtol=1e-5)
    np.testing.assert_allclose(B.sparse_categorical_crossentropy(labels[:, None], probabilities), expected, rtol=1e-5)
    channels_first = B.categorical_crossentropy(one_hot.T, logits.T, from_logits=True, axis=0)
    np.testing.assert_allclose(channels_first, expected, rtol=1e-5)
    # Probabilities are clipped to [epsilon, 1 - epsilon]: a zero probability stays finite.
    assert np.isfinite(B.categorical_crossentropy(np.array([[1.0, 0.0]]), np.array([[0.0, 1.0]]))).all()
    targets = (RNG.random((3, 4)) > 0.5).astype("float32")
    sigmoid = 1 / (1 + np.exp(-logits[:3, :4]))
    bce = -(targets * np.log(sigmoid) + (1 - targets) * np.log(1 - sigmoid))
    np.testing.assert_allclose(B.binary_crossentropy(targets, sigmoid), bce, rtol=1e-4)
    np.testing.assert_allclose(B.binary_crossentropy(targets, logits[:3, :4], from_logits=True), bce, rtol=1e-4)
    assert np.isfinite(B.binary_crossentropy(np.ones(1), np.array([1000.0]), from_logits=True)).all()


def test_normalization_ops():
    x = _normal(4, 3, 5)
    mean, variance = B.moments(x, axes=[0, 1])
    np.testing.assert_allclose(mean, x.mean((0, 1)), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(variance, x.var((0, 1)), rtol=1e-5)
    half_mean, half_var = B.moments(x.astype("float16") * 100, axes=[0, 1, 2])
    assert half_mean.dtype == np.float16 and np.isfinite(half_var)
    normalized = B.batch_normalization(x, mean, variance, axis=-1, offset=np.ones(5), scale=2 * np.ones(5), epsilon=0.0)
    np.testing.assert_allclose(normalized, 2 * (x - x.mean((0, 1))) / x.std((0, 1)) + 1, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(np.linalg.norm(B.normalize(x, axis=1), axis=1), 1.0, rtol=1e-5)
    assert not np.isnan(B.normalize(np.zeros((2, 3), "float32"))).any()


def test_dot_product_attention_keeps_a_float64_scale_exact():
    import kbridge
    from kbridge import ops

    q = np.random.RandomState(0).randn(1, 3, 2, 4)
    with kbridge.backend.use("numpy"):
        out = ops.dot_product_attention(q, q, q, scale=0.3)
    logits = np.einsum("btnh,bsnh->bnts", q, q) * 0.3
    weights = np.exp(logits - logits.max(-1, keepdims=True))
    weights /= weights.sum(-1, keepdims=True)
    np.testing.assert_allclose(out, np.einsum("bnts,bsnh->btnh", weights, q), rtol=1e-13, atol=1e-14)
