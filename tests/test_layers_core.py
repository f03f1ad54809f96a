"""Built-in layers on one backend (NumPy): shapes, configs, masks, errors.

Cross-backend numerics and gradients are in interop_tests/test_layers_backends.py.
"""

import numpy as np
import pytest

import kbridge
from kbridge import layers
from kbridge.saving.safe_mode import SafeModeScope
from kbridge.symbolic import KerasTensor


@pytest.fixture(autouse=True)
def numpy_backend():
    with kbridge.backend.use("numpy"):
        yield


def _rand(*shape, seed=0):
    return np.random.RandomState(seed).randn(*shape).astype("float32")


def square_plus_one(x):
    return x * x + 1.0


# (factory, inputs); every built-in layer appears at least once.
CASES = {
    "dense": (lambda: layers.Dense(5, activation="tanh"), lambda: _rand(3, 4)),
    "dense_3d": (lambda: layers.Dense(2, use_bias=False), lambda: _rand(2, 3, 4)),
    "einsum_dense": (lambda: layers.EinsumDense("abc,cd->abd", output_shape=(None, 6), bias_axes="d"), lambda: _rand(2, 3, 4)),
    "einsum_dense_left_ellipsis": (lambda: layers.EinsumDense("...b,bc->...c", output_shape=5), lambda: _rand(2, 3, 4)),
    "activation": (lambda: layers.Activation("softmax"), lambda: _rand(3, 4)),
    "dropout": (lambda: layers.Dropout(0.5, seed=1), lambda: _rand(3, 4)),
    "flatten": (lambda: layers.Flatten(), lambda: _rand(2, 3, 4)),
    "flatten_cf": (lambda: layers.Flatten(data_format="channels_first"), lambda: _rand(2, 3, 4)),
    "reshape": (lambda: layers.Reshape((-1, 2)), lambda: _rand(2, 3, 4)),
    "permute": (lambda: layers.Permute((2, 1)), lambda: _rand(2, 3, 4)),
    "repeat_vector": (lambda: layers.RepeatVector(3), lambda: _rand(2, 4)),
    "identity": (lambda: layers.Identity(), lambda: _rand(2, 4)),
    "lambda": (lambda: layers.Lambda(square_plus_one), lambda: _rand(2, 4)),
    "concatenate": (lambda: layers.Concatenate(axis=1), lambda: [_rand(2, 3), _rand(2, 5, seed=1)]),
    "add": (lambda: layers.Add(), lambda: [_rand(2, 3), _rand(2, 3, seed=1), _rand(2, 3, seed=2)]),
    "subtract": (lambda: layers.Subtract(), lambda: [_rand(2, 3), _rand(2, 3, seed=1)]),
    "multiply": (lambda: layers.Multiply(), lambda: [_rand(2, 3), _rand(2, 3, seed=1)]),
    "average": (lambda: layers.Average(), lambda: [_rand(2, 3), _rand(2, 3, seed=1)]),
    "maximum": (lambda: layers.Maximum(), lambda: [_rand(2, 3), _rand(2, 3, seed=1)]),
    "minimum": (lambda: layers.Minimum(), lambda: [_rand(2, 3), _rand(2, 3, seed=1)]),
    "dot": (lambda: layers.Dot(axes=(1, 2)), lambda: [_rand(2, 4, 3), _rand(2, 5, 4, seed=1)]),
    "dot_2d": (lambda: layers.Dot(axes=1, normalize=True), lambda: [_rand(2, 4), _rand(2, 4, seed=1)]),
    "embedding": (lambda: layers.Embedding(10, 3, mask_zero=True), lambda: np.array([[0, 3, 9], [1, 2, 0]], "int32")),
    "batch_norm": (lambda: layers.BatchNormalization(), lambda: _rand(4, 3)),
    "batch_norm_axis1": (lambda: layers.BatchNormalization(axis=1, center=False), lambda: _rand(4, 3, 2)),
    "layer_norm": (lambda: layers.LayerNormalization(), lambda: _rand(4, 3)),
    "layer_norm_axes": (lambda: layers.LayerNormalization(axis=[1, 2], rms_scaling=True), lambda: _rand(2, 3, 4)),
    "rescaling": (lambda: layers.Rescaling(1 / 255.0, offset=-1.0), lambda: _rand(2, 3)),
}


def _shape_of(x):
    return [_shape_of(v) for v in x] if isinstance(x, list) else tuple(x.shape)


@pytest.mark.parametrize("case", sorted(CASES))
def test_compute_output_shape_matches_the_real_output(case):
    factory, make_inputs = CASES[case]
    layer = factory()
    inputs = make_inputs()
    out = layer(inputs)
    assert tuple(layer.compute_output_shape(_shape_of(inputs))) == tuple(np.shape(out))


@pytest.mark.parametrize("case", sorted(CASES))
def test_symbolic_call_infers_shape_with_unknown_batch(case):
    factory, make_inputs = CASES[case]
    inputs = make_inputs()
    layer = factory()
    concrete = np.shape(factory()(inputs))

    def spec(x):
        return KerasTensor((None,) + x.shape[1:], dtype=str(x.dtype))

    symbolic = layer([spec(x) for x in inputs] if isinstance(inputs, list) else spec(inputs))
    assert isinstance(symbolic, KerasTensor)
    assert symbolic.shape == (None,) + tuple(concrete[1:])


@pytest.mark.parametrize("case", sorted(CASES))
def test_config_round_trip(case):
    factory, make_inputs = CASES[case]
    layer = factory()
    layer(make_inputs())
    config = layer.get_config()
    if isinstance(layer, layers.Lambda):
        clone = layers.Lambda.from_config(config, custom_objects={"square_plus_one": square_plus_one})
    else:
        clone = type(layer).from_config(config)
    assert clone.get_config() == config
    clone(make_inputs())
    assert [w.shape for w in clone.weights] == [w.shape for w in layer.weights]


def test_configs_keep_regularizers_constraints_and_activity_regularizer():
    layer = layers.Dense(
        3, kernel_regularizer=kbridge.regularizers.L1L2(0.1, 0.2), bias_constraint="non_neg",
        activity_regularizer="l2", kernel_initializer=kbridge.initializers.Orthogonal(gain=2.0, seed=4),
    )  # fmt: skip
    config = layer.get_config()
    assert config["kernel_regularizer"]["class_name"] == "L1L2"
    assert config["activity_regularizer"]["class_name"] == "L2"
    clone = layers.Dense.from_config(config)
    assert isinstance(clone.kernel_regularizer, kbridge.regularizers.L1L2) and clone.kernel_regularizer.l2 == 0.2
    assert isinstance(clone.bias_constraint, kbridge.constraints.NonNeg)
    assert clone.kernel_initializer.gain == 2.0
    layer(np.ones((2, 4), "float32"))
    clone(np.ones((2, 4), "float32"))
    np.testing.assert_array_equal(clone.kernel.numpy(), layer.kernel.numpy())  # same seeded initializer
    assert clone.get_config() == config


def test_variable_paths_and_trainability():
    bn = layers.BatchNormalization()
    bn(_rand(4, 3))
    assert [path for path, _ in bn.named_variables()] == ["gamma", "beta", "moving_mean", "moving_variance"]
    assert [v.name for v in bn.trainable_weights] == ["gamma", "beta"]
    dropout = layers.Dropout(0.3, seed=2)
    assert dropout.variables == [] and not dropout.built
    dropout(_rand(2, 3))
    assert [path for path, _ in dropout.named_variables()] == ["seed_generator.state"]
    np.testing.assert_array_equal(dropout.seed_generator.state.numpy(), [2, 0])  # inference draws nothing
    assert dropout.weights == []
    dense = layers.EinsumDense("ab,bc->ac", output_shape=4, bias_axes="c")
    dense(_rand(2, 3))
    assert [(p, v.shape) for p, v in dense.named_variables()] == [("kernel", (3, 4)), ("bias", (4,))]


def test_dense_errors_name_layer_and_dims():
    dense = layers.Dense(3, name="head")
    dense(_rand(2, 4))
    with pytest.raises(ValueError, match=r'layer "head".*axis -1.*value 4.*\(2, 5\)'):
        dense(_rand(2, 5))
    with pytest.raises(ValueError, match=r'layer "head".*min_ndim=2, found ndim=1'):
        dense(_rand(4))
    with pytest.raises(ValueError, match="units"):
        layers.Dense(0)


def test_rank_errors_of_shape_layers():
    with pytest.raises(ValueError, match=r"expected ndim=2, found ndim=3"):
        layers.RepeatVector(2)(_rand(2, 3, 4))
    with pytest.raises(ValueError, match=r"expected ndim=3"):
        layers.Permute((2, 1))(_rand(2, 3))
    with pytest.raises(ValueError, match="consecutive"):
        layers.Permute((1, 3))
    with pytest.raises(ValueError, match="total size"):
        layers.Reshape((7,))(_rand(2, 3, 4))
    with pytest.raises(ValueError, match="matching shapes"):
        layers.Concatenate(axis=1)([_rand(2, 3), _rand(3, 3)[:, None, :]])
    with pytest.raises(ValueError, match="exactly 2 inputs"):
        layers.Subtract()([_rand(2, 3)] * 3)
    with pytest.raises(ValueError, match="Invalid einsum equation"):
        layers.EinsumDense("ab->b", output_shape=2)


def test_unknown_names_list_the_valid_ones():
    with pytest.raises(ValueError, match=r"Could not interpret activation.*'relux'.*'relu'"):
        layers.Dense(3, activation="relux")
    with pytest.raises(ValueError, match=r"Could not interpret initializer.*'glorot'.*'glorot_uniform'"):
        layers.Dense(3, kernel_initializer="glorot")
    with pytest.raises(ValueError, match="regularizer"):
        layers.Dense(3, kernel_regularizer="l3")
    with pytest.raises(ValueError, match="constraint"):
        layers.Dense(3, kernel_constraint="positive")


def test_embedding_mask_and_integer_inputs():
    layer = layers.Embedding(5, 2, mask_zero=True)
    ids = np.array([[0, 1, 4]], "int64")
    out = layer(ids)
    np.testing.assert_array_equal(out[0, 2], layer.embeddings.numpy()[4])
    np.testing.assert_array_equal(layer.compute_mask(ids), [[False, True, True]])
    assert layers.Embedding(5, 2).compute_mask(ids) is None
    assert layer(ids.astype("float32")).dtype == np.float32
    with pytest.raises(ValueError, match="input_dim"):
        layers.Embedding(0, 2)


def test_embedding_accepts_initial_weights():
    table = _rand(4, 2)
    layer = layers.Embedding(4, 2, weights=table)
    np.testing.assert_array_equal(layer(np.array([3], "int32")), table[3:4])


def test_dropout_only_in_training_and_rate_fraction():
    layer = layers.Dropout(0.25, seed=5)
    x = np.ones((200, 50), "float32")
    np.testing.assert_array_equal(layer(x), x)
    out = layer(x, training=True)
    kept = out != 0
    assert abs(kept.mean() - 0.75) < 0.02
    np.testing.assert_allclose(out[kept], 1 / 0.75, rtol=1e-6)
    again = layer(x, training=True)
    assert not np.array_equal(kept, again != 0)  # the generator advanced
    with pytest.raises(ValueError, match="rate"):
        layers.Dropout(1.5)


def test_dropout_noise_shape_broadcasts():
    out = layers.Dropout(0.5, noise_shape=(None, 1, 4), seed=0)(np.ones((3, 5, 4), "float32"), training=True)
    assert (out == out[:, :1, :]).all()
    with pytest.raises(ValueError, match="noise_shape"):
        layers.Dropout(0.5, noise_shape=(0, 1))


def test_batch_norm_masked_moments_ignore_padding():
    x = _rand(2, 5, 3)
    mask = np.array([[1, 1, 1, 0, 0], [1, 1, 0, 0, 0]], bool)
    bn = layers.BatchNormalization(momentum=0.0)
    bn(x, training=True, mask=mask)
    valid = x[mask]
    np.testing.assert_allclose(bn.moving_mean.numpy(), valid.mean(0), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(bn.moving_variance.numpy(), valid.var(0), rtol=1e-4, atol=1e-6)


def test_frozen_batch_norm_uses_moving_statistics_even_in_training():
    bn = layers.BatchNormalization()
    x = _rand(8, 3) * 3 + 2
    bn(x)
    bn.trainable = False
    out = bn(x, training=True)
    np.testing.assert_allclose(out, x / np.sqrt(1 + 1e-3), rtol=1e-5)
    np.testing.assert_array_equal(bn.moving_mean.numpy(), np.zeros(3))


def test_merge_masks_and_rank_broadcast():
    add = layers.Add()
    out = add([_rand(2, 3, 4), _rand(2, 4, seed=1)])
    np.testing.assert_allclose(out, _rand(2, 3, 4) + _rand(2, 4, seed=1)[:, None, :], rtol=1e-6)
    m1, m2 = np.array([[True, False]]), np.array([[False, False]])
    np.testing.assert_array_equal(layers.Maximum().compute_mask([None, None], [m1, m2]), [[True, False]])
    assert layers.Maximum().compute_mask([None, None], [m1, None]) is None
    concat_mask = layers.Concatenate(axis=1).compute_mask([_rand(1, 2, 3), _rand(1, 2, 3)], [m1, None])
    np.testing.assert_array_equal(concat_mask, [[True, False, True, True]])


def test_lambda_config_names_function_and_safe_mode_refuses_code():
    layer = layers.Lambda(square_plus_one)
    config = layer.get_config()
    assert config["function"]["class_name"] == "function" and config["function"]["config"] == "square_plus_one"
    with pytest.raises(ValueError, match="square_plus_one"):
        layers.Lambda.from_config(config)
    clone = layers.Lambda.from_config(config, custom_objects={"square_plus_one": square_plus_one})
    np.testing.assert_allclose(clone(np.full((1, 2), 2.0, "float32")), [[5.0, 5.0]])

    builtin = layers.Lambda(kbridge.activations.relu).get_config()
    assert layers.Lambda.from_config(builtin).function is kbridge.activations.relu

    offset = 3.0
    anonymous = layers.Lambda(lambda x, k=2.0: x * k + offset, output_shape=(2,))
    config = anonymous.get_config()
    assert config["function"]["class_name"] == "__lambda__"
    with pytest.raises(ValueError, match="safe_mode"):
        layers.Lambda.from_config(config)
    with pytest.raises(ValueError, match="safe_mode"):
        layers.Lambda.from_config(config, safe_mode=True)
    with SafeModeScope(False):
        restored = layers.Lambda.from_config(config)
    np.testing.assert_allclose(restored(np.ones((1, 2), "float32")), [[5.0, 5.0]])
    assert restored.compute_output_shape((7, 2)) == (7, 2)


def test_lambda_passes_arguments_mask_and_training():
    seen = {}

    def fn(x, scale, mask=None, training=None):
        seen.update(mask=mask, training=training)
        return x * scale

    layer = layers.Lambda(fn, arguments={"scale": 2.0}, mask=lambda inputs, mask: mask)
    np.testing.assert_allclose(layer(np.ones((1, 2), "float32"), training=True), [[2.0, 2.0]])
    assert seen["training"] is True
    assert layer.supports_masking and layer.compute_mask(None, "m") == "m"


def test_layer_norm_matches_numpy_and_keeps_axis_list():
    x = _rand(2, 3, 4)
    layer = layers.LayerNormalization(axis=[1, 2], epsilon=1e-5)
    out = layer(x)
    mean = x.mean(axis=(1, 2), keepdims=True)
    var = x.var(axis=(1, 2), keepdims=True)
    np.testing.assert_allclose(out, (x - mean) / np.sqrt(var + 1e-5), rtol=1e-4, atol=1e-5)
    assert layer.gamma.shape == (3, 4)
    assert layer.get_config()["axis"] == [1, 2]
    with pytest.raises(TypeError, match="axis"):
        layers.LayerNormalization(axis="last")


def test_mixed_precision_dense_computes_in_float16():
    layer = layers.Dense(3, dtype="mixed_float16")
    out = layer(_rand(2, 4))
    assert out.dtype == np.float16
    assert layer.kernel.dtype == "float32"


def test_functional_helpers_build_layers():
    a, b = _rand(2, 3), _rand(2, 3, seed=1)
    np.testing.assert_allclose(layers.add([a, b]), a + b, rtol=1e-6)
    np.testing.assert_allclose(layers.concatenate([a, b]), np.concatenate([a, b], -1))
    np.testing.assert_allclose(layers.dot([a, b], axes=1), (a * b).sum(1, keepdims=True), rtol=1e-5)


def test_registered_function_lambda_loads_in_safe_mode():
    from kbridge.saving import serialization_lib

    @serialization_lib.register_keras_serializable(package="test_layers_core")
    def halve(x):
        return x * 0.5

    config = layers.Lambda(halve).get_config()
    assert config["function"]["registered_name"] == "test_layers_core>halve"
    restored = layers.Lambda.from_config(config)
    assert restored.function is halve
    np.testing.assert_allclose(restored(np.ones((1, 2), "float32")), [[0.5, 0.5]])


@pytest.mark.parametrize("case", sorted(set(CASES) - {"lambda"}))
def test_layers_round_trip_through_the_serialization_lib(case):
    from kbridge.saving import serialization_lib

    layer = CASES[case][0]()
    serialized = serialization_lib.serialize_keras_object(layer)
    assert serialized["module"] == "keras.layers" and serialized["class_name"] == type(layer).__name__
    restored = serialization_lib.deserialize_keras_object(serialized)
    assert type(restored) is type(layer) and restored.get_config() == layer.get_config()
