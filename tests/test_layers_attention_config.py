"""Attention layers on NumPy: configs, weights, mask propagation, argument errors.

Numerics on every backend: interop_tests/test_layers_attention.py; Keras parity:
interop_tests/test_keras_parity_attention.py.
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


# (factory, call args, expected (weight name, shape) list)
CASES = {
    "mha": (lambda: layers.MultiHeadAttention(2, 3, value_dim=4, output_shape=5, kernel_regularizer="l2"),
            (_x(2, 5, 6), _x(2, 4, 7)),
            [("kernel", (6, 2, 3)), ("bias", (2, 3)), ("kernel", (7, 2, 3)), ("bias", (2, 3)), ("kernel", (7, 2, 4)),
             ("bias", (2, 4)), ("kernel", (2, 4, 5)), ("bias", (5,))]),
    "mha_gate_no_bias": (lambda: layers.MultiHeadAttention(2, 3, use_bias=False, use_gate=True), (_x(2, 5, 6), _x(2, 5, 6)),
                         [("kernel", (6, 2, 3))] * 2 + [("kernel", (6, 2, 3)), ("kernel", (6, 2, 3)), ("kernel", (2, 3, 6))]),
    "mha_2d": (lambda: layers.MultiHeadAttention(2, 2, attention_axes=(1, 2)), (_x(1, 3, 4, 5), _x(1, 3, 4, 5)),
               [("kernel", (5, 2, 2)), ("bias", (2, 2))] * 3 + [("kernel", (2, 2, 5)), ("bias", (5,))]),
    "gqa": (lambda: layers.GroupQueryAttention(4, 4, 2, dropout=0.1, seed=1), (_x(2, 5, 6), _x(2, 3, 6)),
            [("kernel", (6, 4, 4)), ("bias", (4, 4)), ("kernel", (6, 2, 4)), ("bias", (2, 4)), ("kernel", (6, 2, 4)),
             ("bias", (2, 4)), ("kernel", (4, 4, 6)), ("bias", (6,))]),
    "attention": (lambda: layers.Attention(use_scale=True, score_mode="concat", dropout=0.2), ([_x(2, 5, 6), _x(2, 3, 6)],),
                  [("scale", ()), ("concat_score_weight", ())]),
    "additive": (lambda: layers.AdditiveAttention(), ([_x(2, 5, 6), _x(2, 3, 6)],), [("scale", (6,))]),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(CASES))
def test_config_round_trip_and_weights(case):
    factory, args, weights = CASES[case]
    layer = factory()
    out = layer(*args)
    assert [(w.name, tuple(w.shape)) for w in layer.weights] == weights
    shapes = [a.shape for a in args[0]] if isinstance(args[0], list) else None
    expected = layer.compute_output_shape(shapes) if shapes else layer.compute_output_shape(*[a.shape for a in args])
    assert tuple(expected) == out.shape
    config = layer.get_config()
    clone = type(layer).from_config(config)
    assert clone.get_config() == config
    clone(*args)
    assert [w.shape for w in clone.weights] == [w.shape for w in layer.weights]
    serialized = serialization_lib.serialize_keras_object(layer)
    # Keras 3 writes GroupedQueryAttention under its exported name.
    keras_name = {"GroupedQueryAttention": "GroupQueryAttention"}.get(type(layer).__name__, type(layer).__name__)
    assert serialized["module"] == "keras.layers" and serialized["class_name"] == keras_name
    restored = serialization_lib.deserialize_keras_object(serialized)
    assert type(restored) is type(layer) and restored.get_config() == config


def test_aliases_and_sublayer_names():
    assert layers.GroupQueryAttention is layers.GroupedQueryAttention
    mha = layers.MultiHeadAttention(2, 3)
    mha(_x(1, 4, 6), _x(1, 4, 6))
    assert [mha.query_dense.name, mha.key_dense.name, mha.value_dense.name, mha.output_dense.name] == [
        "query", "key", "value", "attention_output"]  # fmt: skip
    assert [p for p, _ in mha.named_variables(weights_only=True)][:2] == ["query_dense.kernel", "query_dense.bias"]
    assert mha.count_params() == 3 * (6 * 6 + 6) + (6 * 6 + 6)


def test_mha_regularizer_losses_and_dropout_only_in_training():
    mha = layers.MultiHeadAttention(2, 3, dropout=0.5, kernel_regularizer="l2", seed=2)
    x = _x(2, 4, 6)
    a = np.asarray(mha(x, x))
    assert len(mha.losses) == 4
    np.testing.assert_allclose(a, np.asarray(mha(x, x, training=False)))
    assert not np.allclose(a, np.asarray(mha(x, x, training=True)))


def test_functional_mask_propagation_into_attention():
    ids = kbridge.Input((5,), dtype="int32")
    embedded = layers.Embedding(10, 6, mask_zero=True)(ids)
    attended, scores = layers.MultiHeadAttention(2, 3)(embedded, embedded, return_attention_scores=True)
    luong = layers.Attention()([embedded, embedded])
    model = kbridge.Model(ids, [attended, scores, luong])
    x = np.array([[1, 2, 3, 0, 0], [4, 5, 6, 7, 8]])
    _, s, l_out = [np.asarray(o) for o in model(x)]
    assert np.all(s[0, :, :, 3:] == 0) and np.all(s[0, :, 3:] == 0)  # padded keys and queries
    assert np.all(s[1] > 0)
    assert np.all(l_out[0, 3:] == 0) and np.all(l_out[1] != 0)


BAD_ARGUMENTS = [
    (lambda: layers.MultiHeadAttention(0, 3), "MultiHeadAttention.*num_heads=0"),
    (lambda: layers.MultiHeadAttention(2, -1), "MultiHeadAttention.*key_dim=-1"),
    (lambda: layers.MultiHeadAttention(2, 3, value_dim=0), "MultiHeadAttention.*value_dim"),
    (lambda: layers.MultiHeadAttention(2, 3, attention_axes="x"), "MultiHeadAttention.*attention_axes"),
    (lambda: layers.MultiHeadAttention(2, 3, dropout=2.0), "MultiHeadAttention.*dropout"),
    (lambda: layers.GroupQueryAttention(4, 3, 2), "GroupedQueryAttention.*divisible"),
    (lambda: layers.GroupQueryAttention(0, 4, 2), "GroupedQueryAttention.*head_dim"),
    (lambda: layers.Attention(score_mode="sum"), "Attention.*score_mode"),
    (lambda: layers.AdditiveAttention(dropout=-1), "AdditiveAttention.*dropout"),
]


@pytest.mark.parametrize("make,match", BAD_ARGUMENTS, ids=[m.split(".")[0] + str(i) for i, (_, m) in enumerate(BAD_ARGUMENTS)])
def test_bad_arguments_raise_naming_the_layer(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_mismatched_shapes_name_the_layer():
    with pytest.raises(ValueError, match=r'"att".*MultiHeadAttention.*value.*key'):
        layers.MultiHeadAttention(2, 3, name="att")(_x(2, 5, 6), _x(2, 4, 6), key=_x(2, 3, 6))
    with pytest.raises(ValueError, match=r"GroupedQueryAttention.*rank 3"):
        layers.GroupQueryAttention(2, 2, 1)(_x(2, 5, 6), _x(2, 3, 4, 6))
    with pytest.raises(ValueError, match=r"Attention layer must be called on a list"):
        layers.Attention()(_x(2, 5, 6))
    with pytest.raises(ValueError, match=r"Attention layer accepts inputs list of length 2 or 3"):
        layers.Attention()([_x(2, 5, 6)])
