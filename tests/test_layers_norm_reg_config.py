"""Normalization and regularization layers on NumPy: configs, weights, argument errors.

Numerics on every backend: interop_tests/test_layers_norm_reg.py; Keras parity:
interop_tests/test_keras_parity_norm_reg.py.
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


# (factory, input shape, trainable weight shapes, non-trainable weight shapes)
CASES = {
    "group_norm": (lambda: layers.GroupNormalization(2, gamma_regularizer="l2", beta_constraint="non_neg"), (2, 5, 4),
                   [(4,), (4,)], []),
    "group_norm_cf": (lambda: layers.GroupNormalization(-1, axis=1, center=False), (2, 3, 4, 4), [(3,)], []),
    "unit_norm": (lambda: layers.UnitNormalization(axis=[1, 2]), (2, 3, 4), [], []),
    "spectral_dense": (lambda: layers.SpectralNormalization(layers.Dense(3), power_iterations=2), (2, 4),
                       [(4, 3), (3,)], [(1, 3)]),
    "spectral_conv": (lambda: layers.SpectralNormalization(layers.Conv2D(2, 3, use_bias=False)), (1, 5, 5, 3),
                      [(3, 3, 3, 2)], [(1, 2)]),
    "spectral_embedding": (lambda: layers.SpectralNormalization(layers.Embedding(10, 4)), (2, 3), [(10, 4)], [(1, 4)]),
    "spatial_dropout1d": (lambda: layers.SpatialDropout1D(0.3, seed=1), (2, 5, 4), [], []),
    "spatial_dropout2d": (lambda: layers.SpatialDropout2D(0.3, data_format="channels_first"), (2, 3, 4, 4), [], []),
    "spatial_dropout3d": (lambda: layers.SpatialDropout3D(0.3, seed=2), (1, 2, 2, 2, 3), [], []),
    "gaussian_noise": (lambda: layers.GaussianNoise(0.2, seed=3), (2, 5), [], []),
    "gaussian_dropout": (lambda: layers.GaussianDropout(0.4), (2, 5), [], []),
    "alpha_dropout": (lambda: layers.AlphaDropout(0.1, noise_shape=(None, 1), seed=4), (2, 5), [], []),
    "activity_regularization": (lambda: layers.ActivityRegularization(l1=0.1), (2, 5), [], []),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(CASES))
def test_config_round_trip_and_weights(case):
    factory, shape, trainable, non_trainable = CASES[case]
    layer = factory()
    x = _x(*shape) if case != "spectral_embedding" else np.arange(6).reshape(2, 3)
    out = layer(x)
    assert tuple(layer.compute_output_shape(shape)) == out.shape
    assert [tuple(w.shape) for w in layer.trainable_weights] == trainable
    assert [tuple(w.shape) for w in layer.non_trainable_weights] == non_trainable
    config = layer.get_config()
    clone = type(layer).from_config(config)
    assert clone.get_config() == config
    clone(x)
    assert [w.shape for w in clone.weights] == [w.shape for w in layer.weights]
    serialized = serialization_lib.serialize_keras_object(layer)
    assert serialized["module"] == "keras.layers" and serialized["class_name"] == type(layer).__name__
    restored = serialization_lib.deserialize_keras_object(serialized)
    assert type(restored) is type(layer) and restored.get_config() == config


def test_instance_normalization_records_the_group_count():
    layer = layers.GroupNormalization(groups=-1)
    layer(_x(2, 3, 6))
    assert layer.get_config()["groups"] == 6


def test_spectral_normalization_wraps_the_layer_config():
    layer = layers.SpectralNormalization(layers.Dense(3, name="inner"))
    config = layer.get_config()
    assert config["layer"]["class_name"] == "Dense" and config["layer"]["config"]["name"] == "inner"
    assert config["power_iterations"] == 1


def test_random_layers_are_identity_without_training_and_hold_a_seed_state():
    x = _x(4, 6)
    for layer in (layers.GaussianNoise(0.3, seed=1), layers.AlphaDropout(0.3, seed=1), layers.SpatialDropout1D(0.3)):
        y = x[:, :, None] if isinstance(layer, layers.SpatialDropout1D) else x
        np.testing.assert_array_equal(layer(y), y)
        assert [p for p, _ in layer.named_variables()] == ["seed_generator.state"]
        assert layer.weights == []
    # rate 0: nothing random, no state
    assert layers.GaussianDropout(0.0)(x) is not None and layers.GaussianDropout(0.0).seed_generator is None


@pytest.mark.parametrize(
    "factory,match",
    [
        (lambda: layers.GroupNormalization(3)(_x(2, 4)), "group_normalization.*groups \\(3\\) must divide"),
        (lambda: layers.GroupNormalization(8)(_x(2, 4)), "group_normalization.*cannot be more than"),
        (lambda: layers.GroupNormalization(0), "GroupNormalization.*groups"),
        (lambda: layers.GroupNormalization(1.5), "GroupNormalization.*groups"),
        (lambda: layers.SpectralNormalization(layers.Dense(2), power_iterations=0), "SpectralNormalization.*power_iterations"),
        (lambda: layers.SpectralNormalization(layers.Flatten())(_x(2, 3)), "no attribute 'kernel' nor 'embeddings'"),
        (lambda: layers.SpectralNormalization("dense"), "SpectralNormalization"),
        (lambda: layers.SpatialDropout1D(1.5), "SpatialDropout1D.*rate"),
        (lambda: layers.SpatialDropout2D(0.2, data_format="nhwc"), "data_format"),
        (lambda: layers.GaussianNoise(-0.1), "GaussianNoise.*stddev"),
        (lambda: layers.GaussianDropout(1.0), "GaussianDropout.*rate"),
        (lambda: layers.GaussianDropout(-0.5), "GaussianDropout.*rate"),
        (lambda: layers.AlphaDropout(2), "AlphaDropout.*rate"),
        (lambda: layers.AlphaDropout(0.1, noise_shape=(0, 1)), "noise_shape"),
        (lambda: layers.ActivityRegularization(l1=-1.0), "ActivityRegularization.*l1"),
    ],
)
def test_bad_arguments_raise_value_error_naming_the_layer(factory, match):
    with pytest.raises(ValueError, match=match):
        factory()


def test_unit_normalization_rejects_a_bad_axis_type():
    with pytest.raises(TypeError, match="UnitNormalization"):
        layers.UnitNormalization(axis="last")


def test_spatial_dropout_checks_the_rank():
    with pytest.raises(ValueError, match="ndim"):
        layers.SpatialDropout2D(0.2)(_x(2, 3, 4))
