"""The symbolic backend: shape/dtype rules on KerasTensors, the probe fallback, and control flow."""

import inspect

import numpy as np
import pytest

import kbridge
from kbridge import ops
from kbridge.backend import registry
from kbridge.layers.layer import Layer
from kbridge.symbolic import KerasTensor
from kbridge.symbolic import _infer
from kbridge.symbolic import backend as S

NP = registry.get("numpy")
RNG = np.random.default_rng(0)


def kt(*shape, dtype="float32"):
    return KerasTensor(shape, dtype)


def spec_of(value):
    return (value.shape, value.dtype)


# -- the contract --------------------------------------------------------------------------------


def test_every_op_exists_with_the_contract_signature():
    assert S.NAME == "symbolic"
    missing = [name for name in ops.OP_NAMES if not callable(getattr(S, name, None))]
    assert not missing
    different = [name for name in ops.OP_NAMES if inspect.signature(getattr(S, name)) != inspect.signature(getattr(ops, name))]
    assert not different


# -- rules agree with the NumPy backend on fully known shapes --------------------------------------

F = RNG.normal(size=(2, 3, 4)).astype("float32")
I = RNG.integers(-3, 4, size=(2, 3, 4)).astype("int32")
U8 = I.astype("uint8")
BOOL = I > 0
H = F.astype("float16")

AGREEMENT_CASES = [
    ("abs", (I,), {}), ("negative", (F,), {}), ("square", (BOOL,), {}), ("sqrt", (I,), {}), ("exp", (H,), {}),
    ("sin", (U8,), {}), ("floor", (I,), {}), ("round", (BOOL,), {}), ("isnan", (F,), {}), ("trunc", (I,), {}),
    ("add", (I, 1.5), {}), ("add", (H, 2.0), {}), ("add", (I, U8), {}), ("subtract", (F[0], F), {}),
    ("multiply", (BOOL, 3), {}), ("divide", (I, I), {}), ("floor_divide", (BOOL, BOOL), {}), ("power", (I, 2), {}),
    ("mod", (F, 2), {}), ("maximum", (U8, I.astype("int8")), {}), ("arctan2", (I, F), {}), ("greater", (F, 0), {}),
    ("logical_and", (BOOL, F), {}), ("bitwise_xor", (I, 7), {}), ("right_shift", (I, 1), {}), ("isclose", (F, H), {}),
    ("clip", (I, 0.5, 2), {}), ("clip", (BOOL, 0, 1), {}), ("where", (BOOL, F, I), {}), ("where", (BOOL, 1, 2.5), {}),
    ("sum", (BOOL,), {"axis": 1}), ("sum", (U8,), {"axis": (0, 2), "keepdims": True}), ("prod", (I,), {"dtype": "float32"}),
    ("mean", (I,), {"axis": -1}), ("var", (H,), {"axis": None, "keepdims": True}), ("std", (F,), {}),
    ("max", (I,), {"axis": 0}), ("amin", (F,), {"keepdims": True}), ("all", (F,), {"axis": 1}), ("argmax", (F,), {"axis": 2}),
    ("argmin", (F,), {}), ("median", (I,), {"axis": 1}), ("count_nonzero", (I,), {"axis": (0, 1)}), ("cumsum", (BOOL,), {}),
    ("cumprod", (F,), {"axis": 1}), ("average", (I,), {"axis": 1, "weights": np.ones(3, "float16")}), ("logsumexp", (I,), {"axis": 1}),
    ("reshape", (F, (4, -1)), {}), ("ravel", (I,), {}), ("expand_dims", (F, (0, -1)), {}), ("squeeze", (F[:1],), {}),
    ("transpose", (F, (2, 0, 1)), {}), ("moveaxis", (F, [0, 1], [2, 0]), {}), ("swapaxes", (F, 0, 2), {}),
    ("broadcast_to", (F[0, :1], (5, 3, 4)), {}), ("tile", (F, (2, 1)), {}), ("repeat", (F, 3), {}),
    ("repeat", (F, [1, 0, 2], 1), {}), ("flip", (F,), {"axis": 1}), ("roll", (F, 2), {}),
    ("pad", (F, ((0, 0), (1, 2), (3, 0))), {}), ("pad", (F, 2), {}), ("tril", (F,), {}), ("sort", (F,), {}),
    ("argsort", (F,), {"axis": 0}), ("concatenate", ([F, I],), {"axis": 1}), ("stack", ([F, F],), {"axis": -1}),
    ("hstack", ([F, F],), {}), ("vstack", ([F[0, 0], F[0, 0]],), {}), ("append", (F, I), {}), ("append", (F, F), {"axis": 2}),
    ("split", (F, 2), {"axis": 2}), ("split", (F, [1, 3]), {"axis": -1}), ("meshgrid", (F[0, 0], I[0, :, 0]), {}),
    ("take", (F, np.array([[0, -1]])), {"axis": 1}), ("take", (F, np.array([5, 1])), {}),
    ("take_along_axis", (F, np.zeros((2, 2, 1), "int32")), {"axis": 1}), ("matmul", (F, F[0].T), {}),
    ("matmul", (F[0, :, 0], F), {}), ("matmul", (I.astype("int8"), I[0].T.astype("int8")), {}), ("dot", (F, F[0].T), {}),
    ("dot", (F[0, 0], F[0, 0]), {}), ("tensordot", (F, F, ((1, 2), (1, 2))), {}), ("outer", (F[0], I[0, 0]), {}),
    ("vdot", (F, F), {}), ("einsum", ("abc,adc->bd", F, F), {}), ("einsum", ("...c,dc", F, F[0]), {}),
    ("one_hot", (I[0], 5), {"axis": 0}), ("multi_hot", (np.abs(I[0]), 5), {}), ("cast", (F, "int8"), {}),
    ("softmax", (I,), {"axis": 0}), ("relu", (I,), {}), ("relu6", (I,), {}), ("gelu", (F,), {}), ("glu", (F,), {"axis": 2}),
    ("hard_tanh", (BOOL,), {}), ("moments", (F, [0, 2]), {"keepdims": True}),
    ("batch_normalization", (F, F[0, 0], F[0, 0] ** 2, -1), {}), ("normalize", (I,), {}),
    ("top_k", (F, 2), {}), ("in_top_k", (np.array([0, 1]), F[0, :2]), {"k": 2}), ("erf", (I,), {}),
    ("extract_sequences", (F, 2, 1), {}), ("norm", (F,), {"axis": -1}), ("norm", (I[0],), {}),
    ("categorical_crossentropy", (F, F), {"axis": 1}), ("sparse_categorical_crossentropy", (I[:, :, 0] % 4, F), {}),
    ("binary_crossentropy", (F, F), {}), ("arange", (2, 9, 3), {}), ("arange", (0.5,), {}), ("linspace", (0, 1, 7), {}),
    ("zeros", ((2, 3),), {}), ("full", ((2,), 3), {"dtype": "int8"}), ("ones_like", (I,), {"dtype": "bool"}),
    ("eye", (3, 4), {}), ("tri", (3,), {}), ("identity", (2,), {}), ("digitize", (F, np.array([0.0, 1.0])), {}),
    ("slice", (F, (0, 1, 1), (2, 2, -1)), {}), ("slice_update", (F, (0, 0, 0), F[:1]), {}),
    ("scatter", (np.array([[0, 1]]), np.array([1.0], "float32"), (3, 3)), {}), ("unstack", (F,), {"axis": 1}),
    ("convert_to_tensor", ([1, 2.5],), {}), ("saturate_cast", (F, "uint8"), {}), ("getitem", (F, (Ellipsis, None, 0)), {}),
    ("getitem", (F, (slice(None), np.array([0, 2]), np.array([[1], [3]]))), {}), ("getitem", (F, (np.array([1]), 0)), {}),
    ("getitem", (F, (0, slice(None), np.array([1, 1, 2])),), {}), ("getitem", (F, BOOL[:, :, 0]), {}),
]


def _as_specs(value):
    if isinstance(value, np.ndarray):
        return KerasTensor(value.shape, str(value.dtype))
    if isinstance(value, list) and all(isinstance(v, np.ndarray) for v in value):
        return [_as_specs(v) for v in value]
    return value


@pytest.mark.parametrize("name, args, kwargs", AGREEMENT_CASES, ids=[c[0] for c in AGREEMENT_CASES])
def test_rule_agrees_with_numpy_backend(name, args, kwargs):
    expected = getattr(NP, name)(*args, **kwargs)
    result = getattr(S, name)(*[_as_specs(a) for a in args], **{k: _as_specs(v) for k, v in kwargs.items()})
    expected = list(expected) if isinstance(expected, (list, tuple)) else [expected]
    result = list(result) if isinstance(result, (list, tuple)) else [result]
    assert len(result) == len(expected)
    for got, want in zip(result, expected):
        want = np.asarray(want)
        if name == "getitem" and BOOL.ndim and want.ndim == 2 and got.shape[0] is None:
            assert got.shape[1:] == want.shape[1:]  # a boolean mask selects an unknown count
        else:
            assert isinstance(got, KerasTensor) and got.shape == want.shape
        assert got.dtype == str(want.dtype)


# -- unknown sizes -----------------------------------------------------------------------------------


def test_elementwise_broadcasting_with_unknown_sizes():
    assert S.add(kt(None, 1, 3), kt(4, 1)).shape == (None, 4, 3)
    assert S.multiply(kt(None, 5), kt(None, 1)).shape == (None, 5)
    assert S.subtract(kt(None, 1), kt(1, 1)).shape == (None, 1)
    assert spec_of(S.add(kt(None, 3, dtype="int32"), 1.5)) == ((None, 3), "float32")
    assert spec_of(S.add(kt(None, 3, dtype="int8"), 1)) == ((None, 3), "int8")
    assert spec_of(S.less(kt(None, 3), kt(3))) == ((None, 3), "bool")
    assert spec_of(S.exp(kt(None, dtype="int32"))) == ((None,), "float32")
    with pytest.raises(ValueError, match="add.*cannot be broadcast"):
        S.add(kt(None, 3), kt(None, 4))


def test_reductions_with_axis_and_keepdims():
    x = kt(None, 5, 3, dtype="int32")
    assert spec_of(S.sum(x, axis=1)) == ((None, 3), "int32")
    assert spec_of(S.mean(x, axis=(0, -1), keepdims=True)) == ((1, 5, 1), "float32")
    assert spec_of(S.max(x)) == ((), "int32")
    assert spec_of(S.argmax(kt(None, 7), axis=-1)) == ((None,), "int32")
    assert spec_of(S.argmin(kt(None, 7), axis=None, keepdims=True)) == ((1, 1), "int32")
    assert spec_of(S.any(x, axis=0)) == ((5, 3), "bool")
    assert S.moments(kt(None, 8, 8, 16), axes=[0, 1, 2])[1].shape == (16,)
    with pytest.raises(ValueError, match="sum: axis 3 is out of bounds"):
        S.sum(x, axis=3)


def test_products_with_unknown_sizes():
    assert S.matmul(kt(None, 4, 3), kt(3, 5)).shape == (None, 4, 5)
    assert S.matmul(kt(None, 1, 4, 3), kt(2, None, 3, 5)).shape == (2, None, 4, 5)
    assert S.matmul(kt(3), kt(None, 3, 5)).shape == (None, 5)
    assert S.dot(kt(None, 3), kt(3, 7)).shape == (None, 7)
    assert S.dot(kt(None, 4, 3), kt(3,)).shape == (None, 4)
    assert S.tensordot(kt(None, 4, 3), kt(4, 3, 6), axes=2).shape == (None, 6)
    assert S.einsum("btnh,bsnh->bnts", kt(None, 5, 2, 8), kt(None, 7, 2, 8)).shape == (None, 2, 5, 7)
    assert S.einsum("...ij,jk", kt(None, 4, 3), kt(3, 2)).shape == (None, 4, 2)
    assert spec_of(S.matmul(kt(2, 3, dtype="int8"), kt(3, 2, dtype="int8"))) == ((2, 2), "int32")
    with pytest.raises(ValueError, match="matmul"):
        S.matmul(kt(None, 4), kt(5, 2))


def test_shape_ops_with_unknown_sizes():
    x = kt(None, 6, 4)
    assert S.reshape(x, (-1, 4)).shape == (None, 4)
    assert S.reshape(kt(2, 6, 4), (-1, 8)).shape == (6, 8)
    assert S.reshape(x, (S.shape(x)[0], 24)).shape == (None, 24)
    assert S.transpose(x, (2, 0, 1)).shape == (4, None, 6)
    assert S.expand_dims(x, -1).shape == (None, 6, 4, 1)
    assert S.squeeze(kt(None, 1, 4)).shape == (None, 4)
    assert S.squeeze(kt(None, 1, 4), axis=1).shape == (None, 4)
    assert S.concatenate([x, kt(None, 2, 4)], axis=1).shape == (None, 8, 4)
    assert S.concatenate([x, kt(3, 6, 4)], axis=0).shape == (None, 6, 4)
    assert S.stack([x, x, x], axis=1).shape == (None, 3, 6, 4)
    assert [p.shape for p in S.split(x, 3, axis=1)] == [(None, 2, 4)] * 3
    assert [p.shape for p in S.split(kt(None), [2, 5])] == [(2,), (3,), (None,)]
    assert S.pad(x, ((0, 0), (1, 2), (0, 3))).shape == (None, 9, 7)
    assert S.tile(x, (2, 1, 2)).shape == (None, 6, 8)
    assert S.repeat(x, 2, axis=2).shape == (None, 6, 8)
    assert S.broadcast_to(kt(1, 4), (None, 6, 4)).shape == (None, 6, 4)
    assert S.take(kt(100, 8), kt(None, 5, dtype="int32"), axis=0).shape == (None, 5, 8)
    assert S.take_along_axis(x, kt(None, 2, 4, dtype="int32"), axis=1).shape == (None, 2, 4)
    assert spec_of(S.one_hot(kt(None, 7, dtype="int32"), 10)) == ((None, 7, 10), "float32")
    assert S.where(kt(None, 1, 4, dtype="bool"), x, 0.0).shape == (None, 6, 4)
    assert spec_of(S.cast(x, "bfloat16")) == ((None, 6, 4), "bfloat16")
    with pytest.raises(ValueError, match="concatenate"):
        S.concatenate([x, kt(None, 6, 5)], axis=1)
    with pytest.raises(ValueError, match="reshape"):
        S.reshape(kt(2, 6), (5, -1))


def test_getitem():
    x = kt(None, 6, 4)
    assert S.getitem(x, 0).shape == (6, 4)
    assert S.getitem(x, (slice(None), 1)).shape == (None, 4)
    assert S.getitem(x, (Ellipsis, None, slice(1, None))).shape == (None, 6, 1, 3)
    assert S.getitem(x, (slice(None), slice(None, None, 2), -1)).shape == (None, 3)
    assert S.getitem(x, slice(1, None)).shape == (None, 6, 4)
    assert S.getitem(x, slice(0, 2)).shape == (2, 6, 4)
    assert S.getitem(x, (slice(None), kt(3, dtype="int32"))).shape == (None, 3, 4)
    assert S.getitem(x, (slice(None), 0, kt(2, 5, dtype="int32"))).shape == (None, 2, 5)  # adjacent: in place
    assert S.getitem(x, (0, slice(None), kt(2, 5, dtype="int32"))).shape == (2, 5, 6)  # separated: first
    assert S.getitem(x, kt(None, 6, dtype="bool")).shape == (None, 4)
    assert S.getitem(x, kt(dtype="int32")).shape == (6, 4)
    with pytest.raises(IndexError, match="out of bounds"):
        S.getitem(x, (slice(None), 6))
    with pytest.raises(IndexError, match="too many indices"):
        S.getitem(x, (0, 0, 0, 0))


def test_conv_and_pool_shapes():
    images = kt(None, 32, None, 3)
    assert S.conv(images, kt(3, 3, 3, 8), strides=2, padding="same").shape == (None, 16, None, 8)
    assert S.conv(images, kt(5, 5, 1, 6), padding="valid", dilation_rate=2).shape == (None, 24, None, 6)
    assert S.conv(kt(None, 3, 32, 32), kt(3, 3, 3, 8), data_format="channels_first").shape == (None, 8, 30, 30)
    assert S.depthwise_conv(images, kt(3, 3, 3, 2), padding="same").shape == (None, 32, None, 6)
    assert S.separable_conv(images, kt(3, 3, 3, 2), kt(1, 1, 6, 9), strides=(1, 2)).shape == (None, 30, None, 9)
    assert S.conv_transpose(images, kt(3, 3, 5, 3), strides=2, padding="same").shape == (None, 64, None, 5)
    assert S.conv_transpose(kt(None, 7, 2), kt(3, 4, 2), strides=2).shape == (None, 15, 4)
    assert S.conv_transpose(kt(None, 7, 2), kt(3, 4, 2), strides=2, output_padding=1).shape == (None, 16, 4)
    assert S.max_pool(kt(None, 9, 9, 9, 2), 2).shape == (None, 4, 4, 4, 2)
    assert spec_of(S.average_pool(kt(None, 9, 4, dtype="int32"), 3, strides=2, padding="same")) == ((None, 5, 4), "float32")
    with pytest.raises(ValueError, match="conv"):
        S.conv(images, kt(3, 3, 2, 8))
    with pytest.raises(ValueError, match="max_pool"):
        S.max_pool(kt(None, 9), 2)


def test_nn_ops_shapes():
    logits = kt(None, 10)
    assert spec_of(S.softmax(logits)) == ((None, 10), "float32")
    assert S.log_softmax(kt(None, 4, 10), axis=1).shape == (None, 4, 10)
    assert S.glu(kt(None, 8)).shape == (None, 4)
    values, indices = S.top_k(logits, 3)
    assert spec_of(values) == ((None, 3), "float32") and spec_of(indices) == ((None, 3), "int32")
    assert S.batch_normalization(kt(None, 4, 4, 16), kt(16), kt(16), axis=-1).shape == (None, 4, 4, 16)
    assert S.sparse_categorical_crossentropy(kt(None, dtype="int32"), logits, from_logits=True).shape == (None,)
    assert S.categorical_crossentropy(kt(None, 10), logits).shape == (None,)
    attention = S.dot_product_attention(kt(None, 5, 8, 16), kt(None, 7, 2, 16), kt(None, 7, 2, 32))
    assert attention.shape == (None, 5, 8, 32)
    assert S.segment_sum(kt(None, 3), kt(None, dtype="int32"), num_segments=4).shape == (4, 3)
    assert S.extract_sequences(kt(None, 100), 10, 5).shape == (None, 19, 10)


def test_creation_and_introspection():
    x = kt(None, 3, dtype="int8")
    assert S.shape(x) == (None, 3)
    assert S.dtype(x) == "int8" and S.ndim(x) == 2
    assert S.size(kt(2, 3)) == 6 and isinstance(S.size(x), KerasTensor)
    assert spec_of(S.zeros((S.shape(x)[0], 4))) == ((None, 4), "float32")
    assert spec_of(S.full((2, None), 1, dtype="int32")) == ((2, None), "int32")
    assert spec_of(S.arange(5)) == ((5,), "int32")
    assert spec_of(S.arange(0.0, 1.0, 0.25)) == ((4,), "float32")
    assert spec_of(S.arange(kt(dtype="int32"))) == ((None,), "int32")
    assert S.is_tensor(x) and not S.is_tensor(np.ones(2))
    assert S.convert_to_tensor(x) is x
    assert spec_of(S.convert_to_tensor(np.ones((2, 2), "float16"))) == ((2, 2), "float16")
    assert spec_of(S.convert_to_tensor(1)) == ((), "int32")
    assert spec_of(S.convert_to_tensor([x, x])) == ((2, None, 3), "int8")
    with pytest.raises(TypeError, match="no values"):
        S.convert_to_numpy(x)


# -- the probe fallback ----------------------------------------------------------------------------


def test_probe_fallback_runs_numpy_twice_and_marks_changing_sizes(monkeypatch):
    assert "diff" in S.PROBED_OPS
    calls = []
    real = NP.diff

    def spy(a, n=1, axis=-1):
        calls.append(a.shape)
        return real(a, n=n, axis=axis)

    monkeypatch.setattr(NP, "diff", spy)
    result = S.diff(kt(None, 6, dtype="int16"), n=2, axis=1)
    assert spec_of(result) == ((None, 4), "int16")
    assert calls == [(7, 6), (11, 6)]
    calls.clear()
    assert S.diff(kt(None, 6), axis=0).shape == (None, 6)
    assert S.diff(kt(3, 6)).shape == (3, 5) and len(calls) == 3, "known shapes need one probe"


def test_probe_fallback_other_ops():
    assert S.trace(kt(None, None, 3)).shape == (3,)
    assert spec_of(S.quantile(kt(None, 4, dtype="int32"), np.array([0.1, 0.9]), axis=1)) == ((2, None), "float32")
    assert S.diagonal(kt(None, None)).shape == (None,)
    assert S.diagonal(kt(None, 3, 2), axis1=0, axis2=1).shape == (2, 3)


def test_probe_failure_is_a_clear_error_naming_the_op():
    with pytest.raises(ValueError, match=r"ops\.diff.*probe") as info:
        S.diff(kt(None, 3), axis=4)
    assert "AxisError" in str(info.value) or "axis" in str(info.value)


def test_probe_helper_handles_structures():
    mean, variance = _infer.probe("moments", kt(None, 4), [0])
    assert spec_of(mean) == ((4,), "float32") and spec_of(variance) == ((4,), "float32")


# -- control flow ----------------------------------------------------------------------------------


def test_cond_traces_both_branches_and_checks_them():
    x = kt(None, 4)
    result = S.cond(kt(dtype="bool"), lambda: S.relu(x), lambda: S.multiply(x, 2.0))
    assert spec_of(result) == ((None, 4), "float32")
    merged = S.cond(kt(dtype="bool"), lambda: kt(None, 4), lambda: kt(3, 4))
    assert merged.shape == (3, 4)
    with pytest.raises(ValueError, match="cond.*dtypes"):
        S.cond(kt(dtype="bool"), lambda: x, lambda: S.cast(x, "int32"))
    with pytest.raises(ValueError, match="cond"):
        S.cond(kt(dtype="bool"), lambda: (x, x), lambda: x)
    assert S.cond(True, lambda: "taken", lambda: 1 / 0) == "taken"


def test_loops_trace_their_bodies_once():
    traced = []

    def body(i, value):
        traced.append(i)
        return S.add(value, S.cast(i, "float32"))

    result = S.fori_loop(0, 10, body, kt(None, 3))
    assert spec_of(result) == ((None, 3), "float32") and len(traced) == 1
    counter, grown = S.while_loop(
        lambda i, v: S.less(i, 5), lambda i, v: (S.add(i, 1), S.concatenate([v, v], axis=0)), (0, kt(2, 3))
    )
    assert spec_of(counter) == ((), "int32") and grown.shape == (None, 3)
    carry, ys = S.scan(lambda c, x: (S.add(c, x), {"y": S.multiply(x, 2)}), kt(3), kt(8, 3))
    assert carry.shape == (3,) and ys["y"].shape == (8, 3)
    _, stacked = S.scan(lambda c, _: (c, c), kt(2), length=5)
    assert stacked.shape == (5, 2)
    with pytest.raises(ValueError, match="scan"):
        S.scan(lambda c, x: (S.cast(c, "int32"), x), kt(3), kt(8, 3))


# -- through a layer ---------------------------------------------------------------------------------


class _Dense(Layer):
    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape):
        self.kernel = self.add_weight((input_shape[-1], self.units), initializer="zeros", name="kernel")

    def call(self, inputs):
        outputs = ops.matmul(inputs, self.kernel)
        batch = ops.shape(inputs)[0]
        return ops.reshape(outputs, (batch, self.units, 1)), ops.top_k(outputs, 2)[1]


def test_layer_called_on_keras_tensors_uses_this_backend():
    layer = _Dense(4)
    with kbridge.backend.use("numpy"):
        outputs, indices = layer(kt(None, 3))
    assert spec_of(outputs) == ((None, 4, 1), "float32")
    assert spec_of(indices) == ((None, 2), "int32")
    assert isinstance(layer.kernel.value, np.ndarray), "weights are real arrays of the target backend"
