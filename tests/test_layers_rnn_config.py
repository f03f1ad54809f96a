"""Recurrent layers, `TimeDistributed` and `Masking` on NumPy: configs, weights, masks, errors.

Numerics on every backend: interop_tests/test_layers_rnn.py; Keras parity:
interop_tests/test_keras_parity_rnn.py.
"""

import numpy as np
import pytest

import kbridge
from kbridge import layers
from kbridge.saving import serialization_lib


@pytest.fixture(autouse=True)
def numpy_backend():
    with kbridge.backend.use("numpy"):
        yield


def _x(*shape):
    return np.random.RandomState(0).randn(*shape).astype("float32")


_BASE = ["name", "trainable", "dtype"]
_RNN = ["return_sequences", "return_state", "go_backwards", "stateful", "unroll", "zero_output_for_mask"]
_WEIGHTS = ["kernel_initializer", "recurrent_initializer", "bias_initializer", "kernel_regularizer",
            "recurrent_regularizer", "bias_regularizer", "kernel_constraint", "recurrent_constraint", "bias_constraint",
            "dropout", "recurrent_dropout"]  # fmt: skip
# Keras 3.15's get_config() keys, in order.
KEYS = {
    "SimpleRNNCell": _BASE + ["units", "activation", "use_bias"] + _WEIGHTS + ["seed"],
    "LSTMCell": _BASE + ["units", "activation", "recurrent_activation", "use_bias", "unit_forget_bias"] + _WEIGHTS
    + ["seed"],
    "GRUCell": _BASE + ["units", "activation", "recurrent_activation", "use_bias"] + _WEIGHTS + ["reset_after", "seed"],
    "SimpleRNN": _BASE + _RNN + ["units", "activation", "use_bias", "kernel_initializer", "recurrent_initializer",
                                 "bias_initializer", "kernel_regularizer", "recurrent_regularizer", "bias_regularizer",
                                 "activity_regularizer", "kernel_constraint", "recurrent_constraint", "bias_constraint",
                                 "dropout", "recurrent_dropout"],
    "LSTM": _BASE + _RNN + ["units", "activation", "recurrent_activation", "use_bias", "kernel_initializer",
                            "recurrent_initializer", "bias_initializer", "unit_forget_bias", "kernel_regularizer",
                            "recurrent_regularizer", "bias_regularizer", "activity_regularizer", "kernel_constraint",
                            "recurrent_constraint", "bias_constraint", "dropout", "recurrent_dropout", "seed"],
    "GRU": _BASE + _RNN + ["units", "activation", "recurrent_activation", "use_bias", "kernel_initializer",
                           "recurrent_initializer", "bias_initializer", "kernel_regularizer", "recurrent_regularizer",
                           "bias_regularizer", "activity_regularizer", "kernel_constraint", "recurrent_constraint",
                           "bias_constraint", "dropout", "recurrent_dropout", "reset_after", "seed"],
    "RNN": _BASE + _RNN + ["cell"],
    "StackedRNNCells": _BASE + ["cells"],
    "Bidirectional": _BASE + ["merge_mode", "layer", "backward_layer"],
    "TimeDistributed": _BASE + ["layer"],
    "Masking": _BASE + ["mask_value"],
}  # fmt: skip
# (factory, input shape, expected weight shapes)
CASES = {
    "SimpleRNNCell": (lambda: layers.SimpleRNNCell(4, dropout=0.1, seed=2), (2, 3), [(3, 4), (4, 4), (4,)]),
    "LSTMCell": (lambda: layers.LSTMCell(4, use_bias=False), (2, 3), [(3, 16), (4, 16)]),
    "GRUCell": (lambda: layers.GRUCell(4, reset_after=False), (2, 3), [(3, 12), (4, 12), (12,)]),
    "SimpleRNN": (lambda: layers.SimpleRNN(4, activation="relu", return_sequences=True), (2, 5, 3),
                  [(3, 4), (4, 4), (4,)]),
    "LSTM": (lambda: layers.LSTM(3, kernel_regularizer="l2", activity_regularizer="l1", go_backwards=True), (2, 5, 3),
             [(3, 12), (3, 12), (12,)]),
    "GRU": (lambda: layers.GRU(3, recurrent_dropout=0.2, seed=1, return_state=True), (2, 5, 3),
            [(3, 9), (3, 9), (2, 9)]),
    "RNN": (lambda: layers.RNN(layers.GRUCell(2), unroll=True), (2, 5, 3), [(3, 6), (2, 6), (2, 6)]),
    "StackedRNNCells": (lambda: layers.StackedRNNCells([layers.SimpleRNNCell(3), layers.LSTMCell(2)]), (2, 4),
                        [(4, 3), (3, 3), (3,), (3, 8), (2, 8), (8,)]),
    "Bidirectional": (lambda: layers.Bidirectional(layers.LSTM(2, return_sequences=True), merge_mode="sum"),
                      (2, 5, 3), [(3, 8), (2, 8), (8,)] * 2),
    "TimeDistributed": (lambda: layers.TimeDistributed(layers.Dense(2)), (2, 5, 3), [(3, 2), (2,)]),
    "Masking": (lambda: layers.Masking(mask_value=-1.0), (2, 5, 3), []),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(CASES))
def test_config_keys_equal_keras_and_round_trip(name):
    factory, shape, _ = CASES[name]
    layer = factory()
    config = layer.get_config()
    expected = KEYS[name]
    if layer.activity_regularizer is not None:  # Keras's base config puts it right after dtype when set
        expected = _BASE + ["activity_regularizer"] + [k for k in expected[3:] if k != "activity_regularizer"]
    assert list(config) == expected
    again = type(layer).from_config(config).get_config()
    assert {k: v for k, v in again.items() if k != "name"} == {k: v for k, v in config.items() if k != "name"}
    restored = serialization_lib.deserialize_keras_object(serialization_lib.serialize_keras_object(layer))
    assert type(restored) is type(layer)


@pytest.mark.parametrize("name", sorted(CASES))
def test_weight_shapes_and_names(name):
    factory, shape, expected = CASES[name]
    layer = factory()
    layer.build(shape)
    assert [tuple(w.shape) for w in layer.weights] == expected
    full = ["kernel", "recurrent_kernel", "bias"]
    names = {"LSTMCell": full[:2], "StackedRNNCells": full * 2, "Bidirectional": full * 2,
             "TimeDistributed": ["kernel", "bias"], "Masking": []}.get(name, full)  # fmt: skip
    assert [w.name for w in layer.weights] == names


def test_lstm_and_gru_configs_hold_cell_values():
    config = layers.LSTM(5, unit_forget_bias=False, dropout=0.5, seed=4).get_config()
    assert config["units"] == 5 and config["unit_forget_bias"] is False and config["dropout"] == 0.5
    assert config["seed"] == 4
    assert config["recurrent_initializer"]["class_name"] == "Orthogonal"
    assert config["activation"] == "tanh" and config["recurrent_activation"] == "sigmoid"
    assert layers.GRU(2).get_config()["reset_after"] is True
    assert "seed" not in layers.SimpleRNN(2, seed=3).get_config()  # as Keras 3.15
    cell_config = layers.RNN(layers.LSTMCell(2)).get_config()["cell"]
    assert cell_config["module"] == "keras.layers" and cell_config["class_name"] == "LSTMCell"


def test_unit_forget_bias_initializes_the_forget_block_to_one():
    layer = layers.LSTMCell(3)
    layer.build((1, 2))
    np.testing.assert_array_equal(layer.bias.numpy(), [0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0])
    kernel = layers.LSTMCell(3, recurrent_initializer="orthogonal")
    kernel.build((1, 2))
    r = kernel.recurrent_kernel.numpy()
    np.testing.assert_allclose(r @ r.T, np.eye(3), atol=1e-5)  # orthogonal rows


def test_bidirectional_copies_the_layer_as_keras_does():
    layer = layers.Bidirectional(layers.GRU(2, name="enc", return_sequences=True))
    assert layer.forward_layer.name == "forward_enc" and layer.backward_layer.name == "backward_enc"
    assert not layer.forward_layer.go_backwards and layer.backward_layer.go_backwards
    assert layer.forward_layer.zero_output_for_mask and layer.backward_layer.zero_output_for_mask
    layer(_x(2, 4, 3))
    paths = [p for p, _ in layer.named_variables()]
    assert paths[0] == "forward_layer.cell.kernel" and paths[3] == "backward_layer.cell.kernel"


def test_rnn_output_masks():
    mask = np.array([[1, 1, 0], [1, 0, 0]], bool)
    assert layers.LSTM(2).compute_mask(None, mask) is None
    assert layers.LSTM(2, return_sequences=True).compute_mask(None, mask) is mask
    assert layers.GRU(2, return_sequences=True, return_state=True).compute_mask(None, mask) == [mask, None]
    assert layers.Bidirectional(layers.LSTM(2, return_sequences=True), merge_mode=None).compute_mask(None, mask) == [
        mask,
        mask,
    ]
    x = _x(2, 3, 2)
    x[0, 1] = 0.0
    np.testing.assert_array_equal(layers.Masking().compute_mask(x), [[True, False, True], [True, True, True]])


def test_stateful_states_are_state_not_weights():
    layer = layers.SimpleRNN(2, stateful=True)
    first = np.asarray(layer(_x(3, 4, 2)))
    assert len(layer.weights) == 3 and len(layer.states) == 1
    assert any(v is layer.states[0] for v in layer.non_trainable_variables)
    np.testing.assert_allclose(layer.states[0].numpy(), first, rtol=1e-6)
    layer.reset_states()
    assert not layer.states[0].numpy().any()


@pytest.mark.parametrize(
    "factory",
    [lambda: layers.LSTM(2), lambda: layers.RNN(layers.GRUCell(2)), lambda: layers.SimpleRNN(2)],
)
def test_rnn_rejects_inputs_that_are_not_3d(factory):
    layer = factory()
    with pytest.raises(ValueError, match=rf'Layer "{layer.name}".*3'):
        layer(_x(2, 3))
    built = factory()
    built(_x(2, 4, 3))
    with pytest.raises(ValueError, match=rf'"{built.name}"'):
        built(_x(2, 4, 3, 1))


def test_rnn_rejects_a_mask_of_the_wrong_shape():
    layer = layers.GRU(2)
    with pytest.raises(ValueError, match=rf'Layer "{layer.name}" \(GRU\).*mask.*\(2, 4\)'):
        layer(_x(2, 4, 3), mask=np.ones((2, 5), bool))
    with pytest.raises(ValueError, match="mask"):
        layer(_x(2, 4, 3), mask=np.ones((2, 4, 1), bool))
    td = layers.TimeDistributed(layers.Dense(2))
    with pytest.raises(ValueError, match=rf'Layer "{td.name}" \(TimeDistributed\).*mask'):
        td(_x(2, 4, 3), mask=np.ones((2, 3), bool))


def test_argument_errors_name_the_layer():
    with pytest.raises(ValueError, match=r'Layer "bi" \(Bidirectional\).*merge mode.*"concat"'):
        layers.Bidirectional(layers.LSTM(2), merge_mode="max", name="bi")
    with pytest.raises(ValueError, match="must wrap a `kbridge.layers.Layer` instance"):
        layers.Bidirectional("lstm")
    with pytest.raises(ValueError, match="go_backwards"):
        layers.Bidirectional(layers.LSTM(2), backward_layer=layers.LSTM(2))
    with pytest.raises(ValueError, match="return_sequences"):
        layers.Bidirectional(layers.LSTM(2), backward_layer=layers.LSTM(2, go_backwards=True, return_sequences=True))
    with pytest.raises(ValueError, match="units"):
        layers.LSTM(0)
    with pytest.raises(ValueError, match="state_size"):
        layers.RNN(layers.Dense(2))
    with pytest.raises(ValueError, match="use_cudnn"):
        layers.GRU(2, use_cudnn="yes")
    td = layers.TimeDistributed(layers.Dense(2), name="td")
    with pytest.raises(ValueError, match=r'Layer "td" \(TimeDistributed\).*3 dimensions'):
        td(_x(2, 3))
    with pytest.raises(ValueError, match=r"stateful=True.*batch size must be static"):
        layers.LSTM(2, stateful=True)(kbridge.Input((4, 3)))
    with pytest.raises(ValueError, match="initial state"):
        layers.LSTM(2)(_x(2, 4, 3), initial_state=[np.zeros((2, 2), "float32")])


def test_symbolic_shapes_in_a_functional_model():
    tokens = kbridge.Input((None,), dtype="int32")
    h = layers.Embedding(7, 3, mask_zero=True)(tokens)
    seq, h_state, c_state = layers.LSTM(4, return_sequences=True, return_state=True)(h)
    both = layers.Bidirectional(layers.GRU(2, return_sequences=True), merge_mode="concat")(seq)
    out = layers.TimeDistributed(layers.Dense(5))(both)
    assert seq.shape == (None, None, 4) and h_state.shape == (None, 4) and c_state.shape == (None, 4)
    assert both.shape == (None, None, 4) and out.shape == (None, None, 5)
    model = kbridge.Model(tokens, out)
    y = model(np.array([[1, 2, 0], [3, 0, 0]], "int32"))
    assert np.asarray(y).shape == (2, 3, 5)
