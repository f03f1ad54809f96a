"""Image preprocessing layers on NumPy: configs (Keras 3 keys and order), round trips, shapes, argument errors.

Numerics on every backend: interop_tests/test_layers_image_preprocessing.py; Keras parity:
interop_tests/test_keras_parity_image.py.
"""

import numpy as np
import pytest

import kbridge
from kbridge import layers, ops
from kbridge.backend import image_impl
from kbridge.saving import serialization_lib


@pytest.fixture(autouse=True)
def numpy_backend():
    with kbridge.backend.use("numpy"):
        yield


BASE = ["name", "trainable", "dtype", "data_format"]

# (factory, config keys after the base ones, in Keras 3's order)
CASES = {
    "resizing": (lambda: layers.Resizing(4, 5, interpolation="nearest", pad_to_aspect_ratio=True, fill_value=1.0),
                 ["height", "width", "interpolation", "crop_to_aspect_ratio", "pad_to_aspect_ratio", "fill_mode",
                  "fill_value", "antialias"]),
    "center_crop": (lambda: layers.CenterCrop(3, 2, data_format="channels_first"), ["height", "width"]),
    "random_flip": (lambda: layers.RandomFlip("vertical", seed=4), ["seed", "mode"]),
    "random_rotation": (lambda: layers.RandomRotation((-0.2, 0.1), fill_mode="constant", seed=2),
                        ["factor", "fill_mode", "fill_value", "interpolation", "seed"]),
    "random_zoom": (lambda: layers.RandomZoom(0.2, (-0.1, 0.3), interpolation="nearest"),
                    ["height_factor", "width_factor", "fill_mode", "interpolation", "seed", "fill_value"]),
    "random_translation": (lambda: layers.RandomTranslation(0.1, (0.2, 0.3), fill_mode="wrap", seed=1),
                           ["height_factor", "width_factor", "fill_mode", "interpolation", "seed", "fill_value"]),
    "random_contrast": (lambda: layers.RandomContrast(0.3, value_range=(0, 1), seed=5),
                        ["factor", "value_range", "seed"]),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_config_keys_in_keras_order_and_round_trip(name):
    make, keys = CASES[name]
    layer = make()
    config = layer.get_config()
    assert list(config) == BASE + keys
    clone = type(layer).from_config(config)
    assert clone.get_config() == config
    serialized = serialization_lib.serialize_keras_object(layer)
    assert serialized["module"] == "keras.layers" and serialized["class_name"] == type(layer).__name__
    restored = serialization_lib.deserialize_keras_object(serialized)
    assert type(restored) is type(layer) and restored.get_config() == config


def test_defaults_and_factor_normalization_follow_keras():
    assert layers.RandomRotation(0.2).factor == (-0.2, 0.2)
    assert layers.RandomRotation(-0.2).factor == (-0.2, 0.2)
    assert layers.RandomRotation([0.3, -0.1]).factor == (-0.1, 0.3)
    assert layers.RandomContrast(0.2).factor == (0, 0.2)  # Keras: a number only raises contrast
    zoom = layers.RandomZoom(0.2)
    assert (zoom.height_lower, zoom.height_upper, zoom.width_factor) == (-0.2, 0.2, None)
    flip = layers.RandomFlip()
    assert (flip.mode, flip.seed, flip.data_format) == ("horizontal_and_vertical", None, "channels_last")
    rotation = layers.RandomRotation(0.1)
    assert (rotation.fill_mode, rotation.interpolation, rotation.fill_value) == ("reflect", "bilinear", 0.0)
    resizing = layers.Resizing(2, 3)
    assert (resizing.interpolation, resizing.antialias, resizing.fill_mode) == ("bilinear", False, "constant")
    assert layers.RandomContrast(0.1).value_range == (0, 255)


def test_up_sampling2d_bilinear_config_and_output():
    layer = layers.UpSampling2D(2, interpolation="bilinear")
    assert layer.get_config()["interpolation"] == "bilinear"
    x = np.arange(4, dtype="float32").reshape(1, 2, 2, 1)
    out = np.asarray(layer(x))
    # Half-pixel centres: a row [0, 1] becomes [0, 0.25, 0.75, 1].
    np.testing.assert_allclose(out[0, 0, :, 0], [0, 0.25, 0.75, 1])
    with pytest.raises(ValueError, match="UpSampling2D.*interpolation.*area"):
        layers.UpSampling2D(interpolation="area")


def test_output_shapes_and_symbolic_model():
    inputs = kbridge.Input((None, None, 3))
    y = layers.RandomZoom(0.1)(inputs)
    y = layers.Resizing(6, 4)(y)
    y = layers.CenterCrop(3, 2)(y)
    model = kbridge.Model(inputs, y)
    assert model.output.shape == (None, 3, 2, 3)
    assert model(np.ones((2, 9, 7, 3), "float32")).shape == (2, 3, 2, 3)
    assert layers.Resizing(5, 6, data_format="channels_first").compute_output_shape((None, 3, 8, 8)) == (None, 3, 5, 6)
    assert layers.RandomFlip().compute_output_shape((4, 4, 3)) == (4, 4, 3)


def test_resize_weights_rows_sum_to_one_and_interpolate_linearly():
    for interpolation in ("bilinear", "bicubic", "lanczos3", "lanczos5"):
        weights = image_impl.resize_weights(5, 9, interpolation)
        np.testing.assert_allclose(weights.sum(axis=1), np.ones(9))
    # Bilinear reproduces a linear ramp away from the clamped edges.
    ramp = np.arange(6.0)
    resampled = image_impl.resize_weights(6, 12, "bilinear") @ ramp
    np.testing.assert_allclose(resampled[1:-1], (np.arange(1, 11) + 0.5) / 2 - 0.5)
    np.testing.assert_array_equal(image_impl.nearest_indices(3, 7), [0, 0, 1, 1, 1, 2, 2])  # floor((i + .5) * 3 / 7)


def test_symbolic_rules():
    x = kbridge.Input((5, 6, 3), dtype="uint8")
    assert ops.image.resize(x, (2, 3)).shape == (None, 2, 3, 3)
    assert ops.image.resize(x, (2, 3)).dtype == "float32"
    assert ops.image.resize(x, (2, 3), interpolation="nearest").dtype == "uint8"
    assert ops.image.affine_transform(x, kbridge.Input((8,))).shape == (None, 5, 6, 3)
    with pytest.raises(ValueError, match="resize.*size"):
        ops.image.resize(x, (2,))


BAD = [
    (lambda: layers.Resizing(0, 3), ValueError, 'Layer "resizing.*" \\(Resizing\\).*height'),
    (lambda: layers.Resizing(3, 3, interpolation="cubic"), ValueError, "Resizing.*interpolation"),
    (lambda: layers.Resizing(3, 3, antialias=True), NotImplementedError, "Resizing.*antialias"),
    (lambda: layers.Resizing(3, 3, crop_to_aspect_ratio=True, pad_to_aspect_ratio=True), ValueError, "Resizing"),
    (lambda: layers.CenterCrop(2, -1), ValueError, "CenterCrop.*width"),
    (lambda: layers.RandomRotation(0.1, fill_mode="mirror"), ValueError, "RandomRotation.*fill_mode"),
    (lambda: layers.RandomZoom(0.1, interpolation="bicubic"), ValueError, "RandomZoom.*interpolation"),
    (lambda: layers.RandomTranslation(1.1, 0.1), ValueError, "RandomTranslation.*height_factor"),
    (lambda: layers.RandomContrast(-0.1), ValueError, "RandomContrast.*factor"),
    (lambda: layers.RandomContrast(0.1, value_range=5), ValueError, "RandomContrast.*value_range"),
]


@pytest.mark.parametrize("make,error,match", BAD)
def test_bad_arguments_raise_naming_the_layer(make, error, match):
    with pytest.raises(error, match=match):
        make()
