"""Keras 3 parity of the recurrent layers, `TimeDistributed` and `Masking`.

Each layer is built with the same arguments in Keras 3 and kbridge; Keras's weights are
copied into kbridge with `set_weights`, and the outputs (1e-5, masks included), weight
names/shapes and `get_config()` keys/values must agree, and configs must load both ways.
"""

import copy

import numpy as np
import pytest

import kbridge

pytestmark = pytest.mark.keras_parity
keras = pytest.importorskip("keras", reason="Keras 3 is installed only in the keras_parity session")

SEQ = (2, 5, 3)
# (class name, args, kwargs, input shape); a `"cell"`/`"layer"` kwarg is built by `_make`.
CASES = [
    ("SimpleRNN", (4,), {"return_sequences": True}, SEQ),
    ("SimpleRNN", (3,), {"activation": "relu", "go_backwards": True, "use_bias": False}, SEQ),
    ("LSTM", (4,), {}, SEQ),
    ("LSTM", (3,), {"return_sequences": True, "return_state": True, "go_backwards": True}, SEQ),
    ("LSTM", (3,), {"unit_forget_bias": False, "recurrent_activation": "hard_sigmoid", "unroll": True}, SEQ),
    ("GRU", (4,), {"return_sequences": True}, SEQ),
    ("GRU", (3,), {"reset_after": False, "return_state": True}, SEQ),
    ("GRU", (3,), {"reset_after": False, "go_backwards": True, "return_sequences": True, "use_bias": False}, SEQ),
    ("RNN", (), {"cell": ("LSTMCell", 3), "return_sequences": True}, SEQ),
    ("RNN", (), {"cell": [("SimpleRNNCell", 3), ("GRUCell", 2)], "return_state": True}, SEQ),
    ("Bidirectional", (), {"layer": ("LSTM", 3, {"return_sequences": True})}, SEQ),
    ("Bidirectional", (), {"layer": ("GRU", 2, {}), "merge_mode": "sum"}, SEQ),
    ("Bidirectional", (), {"layer": ("SimpleRNN", 2, {"return_sequences": True}), "merge_mode": "mul"}, SEQ),
    ("Bidirectional", (), {"layer": ("LSTM", 2, {}), "merge_mode": "ave"}, SEQ),
    ("Bidirectional", (), {"layer": ("GRU", 2, {"return_sequences": True}), "merge_mode": None}, SEQ),
    ("Bidirectional", (), {"layer": ("LSTM", 2, {"return_state": True})}, SEQ),
    ("TimeDistributed", (), {"layer": ("Dense", 3, {})}, SEQ),
    ("TimeDistributed", (), {"layer": ("Conv2D", 2, {"kernel_size": 3})}, (2, 3, 5, 5, 2)),
    ("Masking", (), {"mask_value": 0.5}, SEQ),
]
IDS = [f"{c[0]}-{i}" for i, c in enumerate(CASES)]
MASK = np.array([[1, 1, 0, 1, 0], [0, 1, 1, 1, 1]], bool)


def _make(lib, name, args, kwargs):
    kwargs = dict(kwargs)
    if "cell" in kwargs:
        spec = kwargs.pop("cell")
        specs = spec if isinstance(spec, list) else [spec]
        cells = [getattr(lib.layers, cls)(units) for cls, units in specs]
        args = (cells if isinstance(spec, list) else cells[0],)
    if "layer" in kwargs:
        cls, units, inner = kwargs.pop("layer")
        args = (getattr(lib.layers, cls)(units, **inner),)
    return getattr(lib.layers, name)(*args, **kwargs)


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
    theirs = _make(keras, name, args, kwargs)
    theirs(x)
    weights = [w + rng.uniform(-0.5, 0.5, size=w.shape).astype(w.dtype) for w in theirs.get_weights()]
    theirs.set_weights(weights)
    with kbridge.backend.use("numpy"):
        ours = _make(kbridge, name, args, kwargs)
        ours(x)
        assert [tuple(w.shape) for w in ours.get_weights()] == [w.shape for w in weights]
        assert [w.path.split("/")[-1] for w in theirs.weights] == [w.name for w in ours.weights]
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
    their_shape = theirs.compute_output_shape(x.shape)
    assert _plain(ours.compute_output_shape(x.shape)) == _plain(their_shape)


@pytest.mark.parametrize("case", [c for c in CASES if c[0] not in ("Masking",) and c[3] == SEQ], ids=lambda c: c[0])
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
    theirs = _make(keras, name, args, kwargs).get_config()
    ours = _make(kbridge, name, args, kwargs).get_config()
    assert list(ours) == list(theirs)
    assert _plain(ours) == _plain(theirs)
    with kbridge.backend.use("numpy"):
        loaded = getattr(kbridge.layers, name).from_config(copy.deepcopy(theirs))
    assert _plain(loaded.get_config()) == _plain(theirs)
    # Keras pops nested configs in place: give it a copy.
    assert _plain(getattr(keras.layers, name).from_config(copy.deepcopy(ours)).get_config()) == _plain(ours)


def test_regularized_lstm_config_key_order_matches_keras():
    kwargs = {"activity_regularizer": "l2", "kernel_regularizer": "l1", "dropout": 0.25, "seed": 3}
    theirs = keras.layers.LSTM(3, **kwargs).get_config()
    ours = kbridge.layers.LSTM(3, **kwargs).get_config()
    assert list(ours) == list(theirs)
    assert _plain(ours) == _plain(theirs)


def test_embedding_masking_and_lstm_models_match_keras():
    def build(lib):
        L = lib.layers
        tokens = lib.Input((6,), dtype="int32")
        h = L.Embedding(10, 4, mask_zero=True)(tokens)
        h = L.Bidirectional(L.LSTM(3, return_sequences=True))(h)
        h = L.GRU(3)(h)
        return lib.Model(tokens, L.Dense(2)(h))

    reference = build(keras)
    with kbridge.backend.use("numpy"):
        model = build(kbridge)
    model.set_weights(reference.get_weights())
    tokens = np.array([[3, 4, 5, 0, 0, 0], [1, 2, 3, 4, 5, 6], [7, 0, 0, 0, 0, 0]], "int32")
    np.testing.assert_allclose(model(tokens), keras.ops.convert_to_numpy(reference(tokens)), rtol=1e-5, atol=1e-5)

    seq = np.random.RandomState(1).randn(2, 5, 3).astype("float32")
    seq[0, 3:] = 0.0
    seq[1, 1] = 0.0
    ref2 = keras.Sequential([keras.Input((5, 3)), keras.layers.Masking(), keras.layers.SimpleRNN(2)])
    with kbridge.backend.use("numpy"):
        ours2 = kbridge.Sequential([kbridge.Input((5, 3)), kbridge.layers.Masking(), kbridge.layers.SimpleRNN(2)])
    ours2.set_weights(ref2.get_weights())
    np.testing.assert_allclose(ours2(seq), keras.ops.convert_to_numpy(ref2(seq)), rtol=1e-5, atol=1e-5)
