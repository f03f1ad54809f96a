"""`ConvLSTM1D/2D/3D` and `ConvLSTMCell` on NumPy: configs, weights, shapes, masks, errors.

Numerics on every backend: interop_tests/test_layers_conv_lstm.py; Keras parity:
interop_tests/test_keras_parity_conv_lstm.py.
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
_CONV = ["filters", "kernel_size", "strides", "padding", "data_format", "dilation_rate", "activation",
         "recurrent_activation", "use_bias", "kernel_initializer", "recurrent_initializer", "bias_initializer",
         "unit_forget_bias", "kernel_regularizer", "recurrent_regularizer", "bias_regularizer"]  # fmt: skip
_TAIL = ["kernel_constraint", "recurrent_constraint", "bias_constraint", "dropout", "recurrent_dropout", "seed"]
# Keras 3.15's get_config() keys, in order (the cell adds `rank`, which Keras's private cell omits).
LAYER_KEYS = _BASE + _RNN + _CONV + ["activity_regularizer"] + _TAIL
CELL_KEYS = _BASE + ["rank"] + _CONV + _TAIL

# (factory, input shape, expected weight shapes, expected output shape)
CASES = {
    "ConvLSTM1D": (lambda: layers.ConvLSTM1D(4, 3, return_sequences=True), (2, 5, 7, 3),
                   [(3, 3, 16), (3, 4, 16), (16,)], (2, 5, 5, 4)),
    "ConvLSTM2D": (lambda: layers.ConvLSTM2D(2, (3, 2), strides=2, padding="same", use_bias=False), (2, 4, 6, 5, 3),
                   [(3, 2, 3, 8), (3, 2, 2, 8)], (2, 3, 3, 2)),
    "ConvLSTM2D_cf": (lambda: layers.ConvLSTM2D(2, 2, data_format="channels_first", return_state=True),
                      (2, 4, 3, 5, 5), [(2, 2, 3, 8), (2, 2, 2, 8), (8,)],
                      ((2, 2, 4, 4), (2, 2, 4, 4), (2, 2, 4, 4))),
    "ConvLSTM3D": (lambda: layers.ConvLSTM3D(2, 2, dilation_rate=(1, 2, 1), kernel_regularizer="l2", seed=3),
                   (2, 3, 4, 5, 3, 1), [(2, 2, 2, 1, 8), (2, 2, 2, 2, 8), (8,)], (2, 3, 3, 2, 2)),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(CASES))
def test_config_keys_equal_keras_and_round_trip(name):
    layer = CASES[name][0]()
    config = layer.get_config()
    assert list(config) == LAYER_KEYS
    again = type(layer).from_config(config).get_config()
    assert {k: v for k, v in again.items() if k != "name"} == {k: v for k, v in config.items() if k != "name"}
    restored = serialization_lib.deserialize_keras_object(serialization_lib.serialize_keras_object(layer))
    assert type(restored) is type(layer)
    assert restored.get_config()["kernel_size"] == config["kernel_size"]


def test_activity_regularizer_sits_after_dtype_as_in_keras():
    config = layers.ConvLSTM2D(2, 3, activity_regularizer="l1").get_config()
    assert list(config) == _BASE + ["activity_regularizer"] + [k for k in LAYER_KEYS[3:] if k != "activity_regularizer"]
    assert config["activity_regularizer"]["class_name"] == "L1"


def test_config_values_and_defaults():
    config = layers.ConvLSTM2D(5, 3).get_config()
    assert config["kernel_size"] == (3, 3) and config["strides"] == (1, 1) and config["dilation_rate"] == (1, 1)
    assert config["padding"] == "valid" and config["data_format"] == "channels_last"
    assert config["activation"] == "tanh" and config["recurrent_activation"] == "sigmoid"
    assert config["unit_forget_bias"] is True and config["use_bias"] is True and config["seed"] is None
    assert config["recurrent_initializer"]["class_name"] == "Orthogonal"
    assert config["unroll"] is False and config["return_sequences"] is False
    positional = layers.ConvLSTM1D(2, 3, 2, "same").get_config()  # Keras accepts strides, padding positionally
    assert positional["strides"] == (2,) and positional["padding"] == "same"
    layer = layers.ConvLSTM2D(3, 2, padding="SAME", dropout=0.25)
    assert layer.filters == 3 and layer.padding == "same" and layer.dropout == 0.25 and layer.rank == 2


def test_cell_config_round_trips_and_steps_on_its_own():
    cell = layers.ConvLSTMCell(2, 3, 2, padding="same", seed=4)
    config = cell.get_config()
    assert list(config) == CELL_KEYS
    assert layers.ConvLSTMCell.from_config(config).get_config() == config
    cell.build((2, 5, 5, 2))
    states = cell.get_initial_state(batch_size=2)
    assert [tuple(s.shape) for s in states] == [(2, 5, 5, 3)] * 2
    h, (h_again, c) = cell.call(_x(2, 5, 5, 2), states)
    assert tuple(h.shape) == (2, 5, 5, 3) and h is h_again and np.abs(np.asarray(c)).max() > 0
    restored = serialization_lib.deserialize_keras_object(serialization_lib.serialize_keras_object(cell))
    assert isinstance(restored, layers.ConvLSTMCell) and restored.rank == 2 and restored.kernel_size == (2, 2)


@pytest.mark.parametrize("name", sorted(CASES))
def test_weight_shapes_names_and_output_shape(name):
    factory, shape, weights, output = CASES[name]
    layer = factory()
    out = layer(_x(*shape))
    assert [tuple(w.shape) for w in layer.weights] == weights
    assert [w.name for w in layer.weights] == ["kernel", "recurrent_kernel", "bias"][: len(weights)]
    assert [p for p, _ in layer.named_variables()][0] == "cell.kernel"
    assert layer.cell.name == "conv_lstm_cell"
    outs = out if isinstance(out, (list, tuple)) else [out]
    expected = output if isinstance(output[0], tuple) else (output,)
    assert [tuple(o.shape) for o in outs] == list(expected)
    computed = layer.compute_output_shape((None,) + shape[1:])
    computed = computed if isinstance(computed[0], tuple) else (computed,)
    assert [c[1:] for c in computed] == [e[1:] for e in expected]


def test_unit_forget_bias_initializes_the_forget_block_to_one():
    layer = layers.ConvLSTM1D(2, 2)
    layer(_x(1, 2, 4, 1))
    np.testing.assert_array_equal(layer.cell.bias.numpy(), [0, 0, 1, 1, 0, 0, 0, 0])
    plain = layers.ConvLSTM1D(2, 2, unit_forget_bias=False)
    plain(_x(1, 2, 4, 1))
    assert not plain.cell.bias.numpy().any()


def test_output_masks_follow_return_sequences():
    mask = np.array([[1, 1, 0], [1, 0, 0]], bool)
    assert layers.ConvLSTM2D(2, 2).compute_mask(None, mask) is None
    assert layers.ConvLSTM2D(2, 2, return_sequences=True).compute_mask(None, mask) is mask
    assert layers.ConvLSTM2D(2, 2, return_sequences=True, return_state=True).compute_mask(None, mask) == [
        mask, None, None,
    ]  # fmt: skip


def test_stateful_states_are_state_not_weights():
    layer = layers.ConvLSTM1D(2, 3, padding="same", stateful=True)
    first = np.asarray(layer(_x(3, 4, 5, 2)))
    assert len(layer.weights) == 3 and len(layer.states) == 2
    assert tuple(layer.states[0].shape) == (3, 5, 2)
    np.testing.assert_allclose(layer.states[0].numpy(), first, rtol=1e-6)
    layer.reset_states()
    assert not layer.states[0].numpy().any() and not layer.states[1].numpy().any()


def test_functional_model_with_a_conv_lstm():
    inputs = kbridge.Input((3, 6, 6, 1))
    h = layers.ConvLSTM2D(2, 3, return_sequences=True)(inputs)
    h = layers.ConvLSTM2D(2, 3)(h)
    model = kbridge.Model(inputs, layers.Flatten()(h))
    assert tuple(model.output.shape) == (None, 8)
    assert model(_x(2, 3, 6, 6, 1)).shape == (2, 8)


def test_argument_errors():
    with pytest.raises(ValueError, match="ConvLSTMCell.*filters"):
        layers.ConvLSTM2D(0, 3)
    with pytest.raises(ValueError, match="kernel_size"):
        layers.ConvLSTM2D(2, (3, 3, 3))
    with pytest.raises(ValueError, match="padding"):
        layers.ConvLSTM1D(2, 3, padding="causal")
    with pytest.raises(ValueError, match="dilation_rate"):
        layers.ConvLSTM2D(2, 3, strides=2, dilation_rate=2)
    with pytest.raises(ValueError, match="data_format"):
        layers.ConvLSTM2D(2, 3, data_format="channels_middle")
    with pytest.raises(ValueError, match="rank"):
        layers.ConvLSTMCell(4, 2, 3)


def test_shape_errors_name_the_layer():
    layer = layers.ConvLSTM2D(2, 5, name="small")
    with pytest.raises(ValueError, match=r'Layer "conv_lstm_cell" \(ConvLSTMCell\).*zero or negative'):
        layer(_x(2, 3, 4, 4, 1))
    with pytest.raises(ValueError, match=r'Layer "mask" \(ConvLSTM1D\).*mask.*\(2, 3\)'):
        layers.ConvLSTM1D(2, 2, name="mask")(_x(2, 3, 4, 1), mask=np.ones((2, 4), bool))
    with pytest.raises(ValueError, match=r'Layer "rank" \(ConvLSTM1D\) expects 4-D inputs'):
        layers.ConvLSTM1D(2, 2, name="rank").compute_output_shape((2, 3, 4))
