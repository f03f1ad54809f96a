"""Keras 3 parity of `ops.image` and the image preprocessing layers.

`resize` and `affine_transform` must equal Keras's JAX backend (the reference numerics:
half-pixel centres, no antialias, `map_coordinates` fill modes) to 1e-5 for the same
inputs, and Keras's active backend where its backends agree with each other. Resizing,
CenterCrop and bilinear UpSampling2D must equal Keras's layers; the random layers' configs
must load both ways and the layers must be identity at inference, as Keras's are.
"""

import numpy as np
import pytest

import kbridge

pytestmark = pytest.mark.keras_parity
keras = pytest.importorskip("keras", reason="Keras 3 is installed only in the keras_parity session")
pytest.importorskip("jax", reason="Keras's JAX backend is the reference")
from keras.src.backend.jax import image as keras_jax_image  # noqa: E402

CF = {"data_format": "channels_first"}
BACKENDS = [b for b in ("numpy", "jax") if kbridge.backend.registry.is_installed(b)]


def _x(*shape, seed=0):
    return np.random.RandomState(seed).uniform(-1, 1, shape).astype("float32")


def _ours(backend, fn, *args, **kwargs):
    with kbridge.backend.use(backend):
        return np.asarray(kbridge.ops.convert_to_numpy(fn(*args, **kwargs)))


RESIZE_CASES = [
    ((2, 5, 7, 3), (8, 4), {"interpolation": "bilinear"}),
    ((2, 5, 7, 3), (3, 11), {"interpolation": "bilinear", **CF}),
    ((5, 7, 3), (9, 2), {"interpolation": "nearest"}),
    ((2, 6, 4, 2), (3, 10), {"interpolation": "nearest", **CF}),
    ((2, 5, 7, 3), (9, 4), {"interpolation": "bicubic"}),
    ((2, 5, 7, 3), (4, 9), {"interpolation": "lanczos3"}),
    ((2, 5, 7, 3), (11, 6), {"interpolation": "lanczos5", **CF}),
    ((2, 4, 9, 2), (3, 3), {"crop_to_aspect_ratio": True}),
    ((2, 3, 8, 2), (6, 6), {"pad_to_aspect_ratio": True, "fill_value": 0.5}),
    ((2, 8, 3, 2), (4, 4), {"pad_to_aspect_ratio": True, "fill_value": -1.0, **CF}),
]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("shape,size,kwargs", RESIZE_CASES)
def test_resize_equals_keras_jax_backend(backend, shape, size, kwargs):
    x = _x(*shape)
    expected = np.asarray(keras_jax_image.resize(x, size, **kwargs))
    received = _ours(backend, kbridge.ops.image.resize, x, size, **kwargs)
    assert received.shape == expected.shape
    np.testing.assert_allclose(received, expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("shape,size,kwargs", [c for c in RESIZE_CASES if c[2].get("interpolation") != "bicubic"])
def test_resize_equals_keras_active_backend(shape, size, kwargs):
    x = _x(*shape)
    expected = keras.ops.convert_to_numpy(keras.ops.image.resize(x, size, **kwargs))
    np.testing.assert_allclose(_ours("numpy", kbridge.ops.image.resize, x, size, **kwargs), expected, atol=1e-5)


TRANSFORMS = np.array([[0.9, 0.2, 0.7, -0.3, 1.1, -0.4, 0, 0], [1.2, -0.1, -1.6, 0.15, 0.8, 1.3, 0, 0]], "float32")


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("interpolation", ["bilinear", "nearest"])
@pytest.mark.parametrize("fill_mode", ["constant", "nearest", "wrap", "mirror", "reflect"])
def test_affine_transform_equals_keras_jax_backend(backend, fill_mode, interpolation, data_format):
    x = _x(2, 5, 6, 3) if data_format == "channels_last" else _x(2, 3, 5, 6)
    kwargs = dict(interpolation=interpolation, fill_mode=fill_mode, fill_value=0.25, data_format=data_format)
    expected = np.asarray(keras_jax_image.affine_transform(x, TRANSFORMS, **kwargs))
    received = _ours(backend, kbridge.ops.image.affine_transform, x, TRANSFORMS, **kwargs)
    np.testing.assert_allclose(received, expected, rtol=1e-5, atol=1e-5)
    single = _ours(backend, kbridge.ops.image.affine_transform, x[0], TRANSFORMS[1], **kwargs)
    np.testing.assert_allclose(single, keras_jax_image.affine_transform(x[0], TRANSFORMS[1], **kwargs), atol=1e-5)


@pytest.mark.parametrize("fill_mode", ["constant", "nearest", "reflect"])  # Keras's TF backend wraps differently
def test_affine_transform_equals_keras_active_backend(fill_mode):
    x = _x(2, 5, 6, 3)
    expected = keras.ops.convert_to_numpy(keras.ops.image.affine_transform(x, TRANSFORMS, fill_mode=fill_mode))
    received = _ours("numpy", kbridge.ops.image.affine_transform, x, TRANSFORMS, fill_mode=fill_mode)
    np.testing.assert_allclose(received, expected, rtol=1e-5, atol=1e-5)


# -- layers --------------------------------------------------------------------------------------------

LAYERS = [
    ("Resizing", (4, 9), {}, (2, 6, 7, 3)),
    ("Resizing", (8, 3), {"interpolation": "nearest", **CF}, (2, 3, 6, 7)),
    ("Resizing", (5, 5), {"crop_to_aspect_ratio": True}, (2, 6, 9, 2)),
    ("Resizing", (5, 5), {"pad_to_aspect_ratio": True, "fill_value": 0.5}, (6, 9, 2)),
    ("CenterCrop", (4, 5), {}, (2, 6, 7, 3)),
    ("CenterCrop", (3, 2), {**CF}, (2, 3, 6, 7)),
    ("CenterCrop", (8, 5), {}, (2, 6, 7, 3)),  # smaller than the target: crop to aspect, then resize
    ("UpSampling2D", ((2, 3),), {"interpolation": "bilinear"}, (2, 3, 4, 2)),
    ("UpSampling2D", (2,), {"interpolation": "bilinear", **CF}, (2, 2, 3, 4)),
]
LAYER_IDS = [f"{c[0]}-{i}" for i, c in enumerate(LAYERS)]


def _plain(value):
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, float):
        return float(np.float32(value))
    return value


def _without_name(config):
    return {k: v for k, v in config.items() if k != "name"}


@pytest.mark.parametrize("name,args,kwargs,shape", LAYERS, ids=LAYER_IDS)
def test_deterministic_layers_equal_keras(name, args, kwargs, shape):
    x = (_x(*shape) + 1.0) * 100.0
    theirs = getattr(keras.layers, name)(*args, **kwargs)
    expected = keras.ops.convert_to_numpy(theirs(x))
    with kbridge.backend.use("numpy"):
        ours = getattr(kbridge.layers, name)(*args, **kwargs)
        received = np.asarray(kbridge.ops.convert_to_numpy(ours(x)))
    assert received.shape == expected.shape
    assert tuple(ours.compute_output_shape(shape)) == tuple(theirs.compute_output_shape(shape))
    np.testing.assert_allclose(received, expected, rtol=1e-5, atol=1e-4)


RANDOM = [
    ("RandomFlip", (), {"mode": "horizontal", "seed": 3}),
    ("RandomFlip", (), {**CF}),
    ("RandomRotation", ((-0.2, 0.1),), {"fill_mode": "constant", "fill_value": 1.0, "seed": 2}),
    ("RandomRotation", (0.3,), {"interpolation": "nearest", **CF}),
    ("RandomZoom", (0.2,), {}),
    ("RandomZoom", ((-0.3, 0.1), 0.4), {"fill_mode": "wrap", "seed": 4, **CF}),
    ("RandomTranslation", (0.1, (0.2, 0.3)), {"fill_mode": "nearest", "interpolation": "nearest"}),
    ("RandomContrast", (0.3,), {"value_range": (0, 1), "seed": 5}),
    ("RandomContrast", ((0.1, 0.6),), {}),
]
RANDOM_IDS = [f"{c[0]}-{i}" for i, c in enumerate(RANDOM)]


@pytest.mark.parametrize("name,args,kwargs", RANDOM + [c[:3] for c in LAYERS], ids=RANDOM_IDS + LAYER_IDS)
def test_configs_equal_keras_and_load_both_ways(name, args, kwargs):
    theirs = getattr(keras.layers, name)(*args, **kwargs).get_config()
    ours = getattr(kbridge.layers, name)(*args, **kwargs).get_config()
    assert list(ours) == list(theirs)
    assert _plain(_without_name(ours)) == _plain(_without_name(theirs))
    with kbridge.backend.use("numpy"):
        loaded = getattr(kbridge.layers, name).from_config(theirs)
    assert _plain(loaded.get_config()) == _plain(theirs)
    assert _plain(getattr(keras.layers, name).from_config(ours).get_config()) == _plain(ours)


@pytest.mark.parametrize("name,args,kwargs", RANDOM, ids=RANDOM_IDS)
def test_random_layers_are_identity_at_inference_like_keras(name, args, kwargs):
    shape = (2, 3, 6, 5) if kwargs.get("data_format") == "channels_first" else (2, 6, 5, 3)
    x = (_x(*shape) + 1.0) / 2.0
    expected = keras.ops.convert_to_numpy(getattr(keras.layers, name)(*args, **kwargs)(x, training=False))
    np.testing.assert_array_equal(expected, x)
    with kbridge.backend.use("numpy"):
        received = kbridge.ops.convert_to_numpy(getattr(kbridge.layers, name)(*args, **kwargs)(x, training=False))
    np.testing.assert_array_equal(received, expected)
