"""Image preprocessing layers (and bilinear UpSampling2D) on numpy, jax, torch and tensorflow.

Deterministic layers are compared with the loop references of test_ops_image.py. Random
layers are identity at inference; with `training=True` they change the images, repeat
themselves from the same seed, and, for a degenerate factor range (one fixed value), equal
the NumPy reference of their transform. Configs: tests/test_layers_image_preprocessing_config.py;
Keras parity: test_keras_parity_image.py.
"""

import math

import numpy as np
import pytest
from test_ops_image import affine_ref, resize_ref

import kbridge
from kbridge import layers, ops
from kbridge.backend import registry

BACKENDS = ("numpy", "jax", "torch", "tensorflow")
CF = {"data_format": "channels_first"}


def _rand(*shape, seed=0):
    return np.random.RandomState(seed).uniform(0, 1, shape).astype("float32")


def _numpy(x):
    return np.asarray(ops.convert_to_numpy(x))


@pytest.fixture(params=BACKENDS)
def backend(request):
    if not registry.is_installed(request.param):
        pytest.skip(f"{request.param} is not installed")
    with kbridge.backend.use(request.param):
        yield request.param


def _cf(x):
    return np.ascontiguousarray(np.moveaxis(x, -1, -3))


# -- deterministic layers ----------------------------------------------------------------------------


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("interpolation", ["bilinear", "nearest", "bicubic"])
def test_resizing_matches_reference(backend, interpolation, data_format):
    x = _rand(2, 5, 7, 3)
    x = _cf(x) if data_format == "channels_first" else x
    layer = layers.Resizing(8, 4, interpolation=interpolation, data_format=data_format)
    out = layer(x)
    assert ops.dtype(out) == "float32"
    assert tuple(out.shape) == layer.compute_output_shape(x.shape)
    np.testing.assert_allclose(_numpy(out), resize_ref(x, (8, 4), interpolation, data_format), rtol=1e-5, atol=1e-5)


def test_resizing_keeps_integer_dtype_and_unbatched_rank(backend):
    x = (np.arange(4 * 6 * 3) % 251).reshape(4, 6, 3).astype("uint8")
    out = layers.Resizing(7, 3, crop_to_aspect_ratio=True)(x)
    assert ops.dtype(out) == "uint8" and tuple(out.shape) == (7, 3, 3)
    expected = np.clip(np.round(resize_ref(x, (7, 3), crop_to_aspect_ratio=True)), 0, 255)
    np.testing.assert_array_equal(_numpy(out), expected.astype("uint8"))


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_center_crop_matches_slicing(backend, data_format):
    x = _rand(2, 7, 6, 3)
    xs = _cf(x) if data_format == "channels_first" else x
    out = _numpy(layers.CenterCrop(4, 3, data_format=data_format)(xs))
    expected = x[:, 1:5, 1:4]
    np.testing.assert_array_equal(out, _cf(expected) if data_format == "channels_first" else expected)
    # Smaller than the target: crop to the aspect ratio, then resize.
    small = _numpy(layers.CenterCrop(8, 3)(x[0]))
    np.testing.assert_allclose(small, resize_ref(x[0], (8, 3), crop_to_aspect_ratio=True), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_up_sampling2d_bilinear_matches_resize_reference(backend, data_format):
    x = _rand(2, 3, 4, 2)
    xs = _cf(x) if data_format == "channels_first" else x
    layer = layers.UpSampling2D((2, 3), data_format=data_format, interpolation="bilinear")
    out = layer(xs)
    assert tuple(out.shape) == layer.compute_output_shape(xs.shape)
    np.testing.assert_allclose(_numpy(out), resize_ref(xs, (6, 12), "bilinear", data_format), rtol=1e-5, atol=1e-5)


# -- random layers ---------------------------------------------------------------------------------------

RANDOM = {
    "flip": lambda **kw: layers.RandomFlip(seed=3, **kw),
    "rotation": lambda **kw: layers.RandomRotation(0.2, seed=3, **kw),
    "zoom": lambda **kw: layers.RandomZoom(0.3, (-0.2, 0.4), seed=3, **kw),
    "translation": lambda **kw: layers.RandomTranslation(0.2, 0.3, seed=3, fill_mode="constant", **kw),
    "contrast": lambda **kw: layers.RandomContrast(0.5, value_range=(-10, 10), seed=3, **kw),
}


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("name", sorted(RANDOM))
def test_random_layer_identity_at_inference_and_changes_in_training(backend, name, data_format):
    x = _rand(8, 6, 5, 3)
    x = _cf(x) if data_format == "channels_first" else x
    layer = RANDOM[name](data_format=data_format)
    inference = layer(x)
    assert ops.dtype(inference) == "float32"
    np.testing.assert_array_equal(_numpy(inference), x)
    first = layer(x, training=True)
    assert tuple(first.shape) == x.shape and ops.dtype(first) == "float32"
    assert not np.allclose(_numpy(first), x)
    second = _numpy(layer(x, training=True))
    assert not np.array_equal(second, _numpy(first))  # the generator advanced
    again = RANDOM[name](data_format=data_format)
    np.testing.assert_array_equal(_numpy(again(x, training=True)), _numpy(first))  # same seed, same draws
    single = layer(x[0], training=True)
    assert tuple(single.shape) == x.shape[1:]


def test_random_layer_stateless_call_is_pure(backend):
    x = _rand(2, 5, 5, 1)
    layer = layers.RandomRotation(0.3, seed=4)
    layer(x)
    state = [v.value for v in layer.non_trainable_variables]
    out1, state1 = layer.stateless_call([], state, x, training=True)
    again, _ = layer.stateless_call([], state, x, training=True)
    out2, _ = layer.stateless_call([], state1, x, training=True)
    np.testing.assert_array_equal(_numpy(out1), _numpy(again))
    assert not np.array_equal(_numpy(out1), _numpy(out2))


def _rotation(degrees, height, width):
    angle = math.radians(degrees)
    cx, cy = (width - 1) / 2, (height - 1) / 2
    a0, a1, b0, b1 = math.cos(angle), -math.sin(angle), math.sin(angle), math.cos(angle)
    return [a0, a1, cx - cx * a0 - cy * a1, b0, b1, cy - cx * b0 - cy * b1, 0, 0]


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_fixed_factor_transforms_match_reference(backend, data_format):
    x = _rand(2, 5, 6, 2)
    xs = _cf(x) if data_format == "channels_first" else x
    kw = {"data_format": data_format}

    def run(layer):
        out = _numpy(layer(xs, training=True))
        return np.moveaxis(out, -3, -1) if data_format == "channels_first" else out

    rotation = layers.RandomRotation((0.1, 0.1), fill_mode="wrap", **kw)
    np.testing.assert_allclose(run(rotation), affine_ref(x, _rotation(36.0, 5, 6), fill_mode="wrap"), atol=1e-5)

    zoom = layers.RandomZoom((0.5, 0.5), (-0.25, -0.25), fill_mode="constant", fill_value=2.0, **kw)
    zoom_t = [0.75, 0, 2.5 * 0.25, 0, 1.5, 2 * -0.5, 0, 0]  # x: 1 + (-0.25), y: 1 + 0.5, about the centre
    np.testing.assert_allclose(run(zoom), affine_ref(x, zoom_t, fill_mode="constant", fill_value=2.0), atol=1e-5)

    translation = layers.RandomTranslation((0.4, 0.4), (-0.5, -0.5), interpolation="nearest", **kw)
    shift_t = [1, 0, 3.0, 0, 1, -2.0, 0, 0]  # content moves 2 rows down and 3 columns left
    np.testing.assert_allclose(
        run(translation), affine_ref(x, shift_t, interpolation="nearest", fill_mode="reflect"), atol=1e-6
    )


def test_random_flip_outcomes_are_flips(backend):
    x = _rand(16, 4, 5, 2)
    for mode, axes in (("horizontal", (2,)), ("vertical", (1,)), ("horizontal_and_vertical", (1, 2))):
        out = _numpy(layers.RandomFlip(mode, seed=9)(x, training=True))
        flipped = np.flip(x, axis=axes)
        is_flipped = [np.array_equal(o, f) for o, f in zip(out, flipped)]
        is_same = [np.array_equal(o, i) for o, i in zip(out, x)]
        assert all(a or b for a, b in zip(is_flipped, is_same)), mode
        assert any(is_flipped) and any(is_same), mode


def test_random_contrast_is_an_affine_map_about_the_mean(backend):
    x = _rand(6, 4, 5, 3)
    out = _numpy(layers.RandomContrast((0.3, 0.6), value_range=(-100, 100), seed=2)(x, training=True))
    mean = x.mean(axis=(1, 2), keepdims=True)
    factors = (out - mean) / (x - mean)
    per_image = factors.reshape(6, -1)
    np.testing.assert_allclose(per_image, per_image[:, :1] * np.ones_like(per_image), rtol=1e-3)
    assert ((per_image[:, 0] >= 0.7 - 1e-6) & (per_image[:, 0] <= 1.6 + 1e-6)).all()
    clipped = _numpy(layers.RandomContrast(1.0, value_range=(0.2, 0.8), seed=2)(x, training=True))
    assert clipped.min() >= 0.2 and clipped.max() <= 0.8


def test_random_layers_in_a_functional_model(backend):
    inputs = kbridge.Input((6, 6, 3))
    y = layers.RandomFlip(seed=1)(inputs)
    y = layers.RandomRotation(0.1, seed=1)(y)
    y = layers.Resizing(4, 4)(y)
    model = kbridge.Model(inputs, y)
    x = _rand(2, 6, 6, 3)
    assert tuple(model(x).shape) == (2, 4, 4, 3)
    np.testing.assert_allclose(_numpy(model(x)), resize_ref(x, (4, 4)), rtol=1e-5, atol=1e-5)


# -- errors ---------------------------------------------------------------------------------------------

BAD_FACTORS = [
    (lambda: layers.RandomRotation(1.5), "RandomRotation.*factor"),
    (lambda: layers.RandomRotation((0.1, 0.2, 0.3)), "RandomRotation.*factor"),
    (lambda: layers.RandomZoom(-1.0), "RandomZoom.*height_factor"),
    (lambda: layers.RandomZoom(0.2, (0.1, 2.0)), "RandomZoom.*width_factor"),
    (lambda: layers.RandomTranslation(0.1, -1.2), "RandomTranslation.*width_factor"),
    (lambda: layers.RandomContrast(1.5), "RandomContrast.*factor"),
    (lambda: layers.RandomContrast("high"), "RandomContrast.*factor"),
    (lambda: layers.RandomFlip("diagonal"), "RandomFlip.*mode"),
]


@pytest.mark.parametrize("make,match", BAD_FACTORS)
def test_bad_arguments_name_the_layer(make, match):
    with pytest.raises(ValueError, match=match):
        make()


@pytest.mark.parametrize(
    "make", [lambda: layers.RandomFlip(), lambda: layers.RandomZoom(0.1), lambda: layers.Resizing(2, 2),
             lambda: layers.CenterCrop(2, 2), lambda: layers.RandomContrast(0.1)],
)
def test_wrong_rank_names_the_layer(backend, make):
    layer = make()
    with pytest.raises(ValueError, match=f'Layer "{layer.name}" \\({type(layer).__name__}\\).*rank 3.*rank 4'):
        layer(_rand(2, 3, 4, 4, 1), training=True)
