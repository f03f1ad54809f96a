"""Keras 3 parity of `ConvLSTM1D`, `ConvLSTM2D` and `ConvLSTM3D`.

Each layer is built with the same arguments in Keras 3 and kbridge; Keras's weights are
copied into kbridge with `set_weights`, and the outputs (1e-5, masks included), weight
names/shapes, output shapes and `get_config()` keys/values must agree, and configs must
load both ways.
"""

import copy

import numpy as np
import pytest

import kbridge

pytestmark = pytest.mark.keras_parity
keras = pytest.importorskip("keras", reason="Keras 3 is installed only in the keras_parity session")

SEQ1 = (2, 4, 7, 3)
SEQ2 = (2, 4, 6, 5, 2)
SEQ2_CF = (2, 4, 2, 6, 5)
# (class name, args, kwargs, input shape)
CASES = [
    ("ConvLSTM1D", (3, 3), {}, SEQ1),
    ("ConvLSTM1D", (2, 2), {"padding": "same", "return_sequences": True, "return_state": True}, SEQ1),
    ("ConvLSTM1D", (2, 3), {"strides": 2, "go_backwards": True, "unit_forget_bias": False}, SEQ1),
    ("ConvLSTM2D", (3, 3), {}, SEQ2),
    ("ConvLSTM2D", (2, (2, 3)), {"padding": "same", "return_sequences": True, "go_backwards": True}, SEQ2),
    ("ConvLSTM2D", (2, 2), {"dilation_rate": 2, "return_state": True, "use_bias": False}, SEQ2),
    ("ConvLSTM2D", (2, 3), {"data_format": "channels_first", "padding": "same", "return_sequences": True}, SEQ2_CF),
    ("ConvLSTM2D", (2, 2), {"data_format": "channels_first", "strides": (2, 1), "return_state": True,
                            "recurrent_activation": "hard_sigmoid", "activation": "relu"}, SEQ2_CF),
    ("ConvLSTM3D", (2, 2), {"return_sequences": True}, (2, 3, 4, 3, 3, 2)),
]  # fmt: skip
IDS = [f"{c[0]}-{i}" for i, c in enumerate(CASES)]
MASK = np.array([[1, 1, 0, 1], [0, 1, 1, 1]], bool)


def _flat(out, convert):
    items = out if isinstance(out, (list, tuple)) else [out]
    return [np.asarray(convert(o)) for o in items]


def _plain(value):
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if k != "name"}
    if isinstance(value, float):
        return float(np.float32(value))
    return value


def _pair(case, seed):
    name, args, kwargs, shape = case
    rng = np.random.RandomState(seed)
    x = rng.randn(*shape).astype("float32")
    theirs = getattr(keras.layers, name)(*args, **kwargs)
    theirs(x)
    weights = [w + rng.uniform(-0.5, 0.5, size=w.shape).astype(w.dtype) for w in theirs.get_weights()]
    theirs.set_weights(weights)
    with kbridge.backend.use("numpy"):
        ours = getattr(kbridge.layers, name)(*args, **kwargs)
        ours(x)
        assert [tuple(w.shape) for w in ours.get_weights()] == [w.shape for w in weights]
        assert [w.path.split("/")[-1] for w in theirs.weights] == [w.name for w in ours.weights]
        assert theirs.cell.name == ours.cell.name
        ours.set_weights(weights)
    return theirs, ours, x


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_same_weights_same_outputs(case):
    theirs, ours, x = _pair(case, CASES.index(case))
    expected = _flat(theirs(x), keras.ops.convert_to_numpy)
    with kbridge.backend.use("numpy"):
        received = _flat(ours(x), kbridge.ops.convert_to_numpy)
    assert len(received) == len(expected)
    for got, want in zip(received, expected):
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
    assert _plain(ours.compute_output_shape(x.shape)) == _plain(theirs.compute_output_shape(x.shape))


@pytest.mark.parametrize("case", CASES[:-1], ids=IDS[:-1])
def test_same_outputs_with_a_mask(case):
    theirs, ours, x = _pair(case, 7)
    expected = _flat(theirs(x, mask=MASK), keras.ops.convert_to_numpy)
    with kbridge.backend.use("numpy"):
        received = _flat(ours(x, mask=MASK), kbridge.ops.convert_to_numpy)
    for got, want in zip(received, expected):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_configs_equal_keras_and_load_both_ways(case):
    name, args, kwargs, _ = case
    theirs = getattr(keras.layers, name)(*args, **kwargs).get_config()
    ours = getattr(kbridge.layers, name)(*args, **kwargs).get_config()
    assert list(ours) == list(theirs)
    assert _plain(ours) == _plain(theirs)
    with kbridge.backend.use("numpy"):
        loaded = getattr(kbridge.layers, name).from_config(copy.deepcopy(theirs))
    assert _plain(loaded.get_config()) == _plain(theirs)
    assert _plain(getattr(keras.layers, name).from_config(copy.deepcopy(ours)).get_config()) == _plain(ours)


def test_regularized_config_key_order_matches_keras():
    kwargs = {"activity_regularizer": "l2", "kernel_regularizer": "l1", "dropout": 0.25, "seed": 3}
    theirs = keras.layers.ConvLSTM2D(3, 2, **kwargs).get_config()
    ours = kbridge.layers.ConvLSTM2D(3, 2, **kwargs).get_config()
    assert list(ours) == list(theirs)
    assert _plain(ours) == _plain(theirs)


def test_conv_lstm_model_matches_keras():
    def build(lib):
        L = lib.layers
        frames = lib.Input(SEQ2[1:])
        h = L.ConvLSTM2D(3, 3, padding="same", return_sequences=True)(frames)
        h = L.ConvLSTM2D(2, 3)(h)
        return lib.Model(frames, L.Dense(2)(L.Flatten()(h)))

    reference = build(keras)
    with kbridge.backend.use("numpy"):
        model = build(kbridge)
    model.set_weights(reference.get_weights())
    x = np.random.RandomState(3).randn(*SEQ2).astype("float32")
    np.testing.assert_allclose(model(x), keras.ops.convert_to_numpy(reference(x)), rtol=1e-5, atol=1e-5)
