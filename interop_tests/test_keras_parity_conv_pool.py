"""Keras 3 parity of the convolution, pooling and spatial reshaping layers.

Each layer is built with the same arguments in Keras 3 and kbridge; Keras's weights are
copied into kbridge with `set_weights`, and the outputs (1e-5), weight shapes and
`get_config()` keys/values must agree, and configs must load both ways.
"""

import numpy as np
import pytest

import kbridge

pytestmark = pytest.mark.keras_parity
keras = pytest.importorskip("keras", reason="Keras 3 is installed only in the keras_parity session")

CF = {"data_format": "channels_first"}
# (class name, args, kwargs, input shape)
CASES = [
    ("Conv1D", (4, 3), {"padding": "causal", "dilation_rate": 2, "activation": "relu"}, (2, 9, 3)),
    ("Conv1D", (4, 4), {"strides": 2, "padding": "same", **CF}, (2, 3, 9)),
    ("Conv2D", (6, (3, 2)), {"groups": 3, "kernel_regularizer": "l2", "activity_regularizer": "l1"}, (2, 7, 6, 3)),
    ("Conv2D", (4, 2), {"strides": 2, "padding": "same", "use_bias": False, **CF}, (2, 3, 7, 6)),
    ("Conv3D", (2, 2), {"padding": "same", "bias_constraint": "non_neg"}, (1, 5, 4, 4, 2)),
    ("Conv1DTranspose", (2, 3), {"strides": 2, "output_padding": 1}, (2, 5, 3)),
    ("Conv2DTranspose", (3, 3), {"strides": 2, "padding": "same"}, (2, 3, 4, 2)),
    ("Conv2DTranspose", (3, 4), {"strides": 2, "padding": "same", "output_padding": 1, **CF}, (2, 2, 3, 4)),
    ("Conv2DTranspose", (2, 3), {"dilation_rate": 2}, (2, 3, 4, 2)),
    ("Conv3DTranspose", (2, 2), {"strides": (2, 1, 1)}, (1, 2, 3, 2, 2)),
    ("SeparableConv1D", (4, 3), {"depth_multiplier": 2, "padding": "same"}, (2, 9, 3)),
    ("SeparableConv2D", (5, 3), {"strides": 2, "pointwise_regularizer": "l2", **CF}, (2, 3, 7, 6)),
    ("DepthwiseConv1D", (3,), {"depth_multiplier": 2, "dilation_rate": 2}, (2, 9, 3)),
    ("DepthwiseConv2D", (3,), {"strides": 2, "padding": "same", "depthwise_constraint": "non_neg"}, (2, 7, 6, 3)),
    ("MaxPooling1D", (3,), {"strides": 2, "padding": "same"}, (2, 9, 3)),
    ("MaxPooling2D", (), {**CF}, (2, 3, 7, 6)),
    ("MaxPooling3D", (2,), {"padding": "same"}, (1, 5, 4, 4, 2)),
    ("AveragePooling1D", (2,), {}, (2, 9, 3)),
    ("AveragePooling2D", (3,), {"strides": 2, "padding": "same"}, (2, 7, 6, 3)),
    ("AveragePooling3D", ((2, 2, 1),), {**CF}, (1, 2, 4, 4, 3)),
    ("GlobalMaxPooling1D", (), {"keepdims": True}, (2, 9, 3)),
    ("GlobalMaxPooling2D", (), {**CF}, (2, 3, 7, 6)),
    ("GlobalMaxPooling3D", (), {}, (1, 3, 3, 3, 2)),
    ("GlobalAveragePooling1D", (), {**CF}, (2, 3, 9)),
    ("GlobalAveragePooling2D", (), {"keepdims": True}, (2, 7, 6, 3)),
    ("GlobalAveragePooling3D", (), {}, (1, 3, 3, 3, 2)),
    ("UpSampling1D", (3,), {}, (2, 4, 3)),
    ("UpSampling2D", ((2, 3),), {**CF}, (2, 3, 4, 4)),
    ("UpSampling3D", (), {}, (1, 2, 2, 2, 3)),
    ("ZeroPadding1D", ((1, 2),), {}, (2, 4, 3)),
    ("ZeroPadding2D", (((1, 0), (2, 3)),), {**CF}, (2, 3, 4, 4)),
    ("ZeroPadding3D", (1,), {}, (1, 2, 2, 2, 3)),
    ("Cropping1D", ((2, 1),), {}, (2, 6, 3)),
    ("Cropping2D", ((1, 2),), {}, (2, 6, 7, 3)),
    ("Cropping3D", ((1, (0, 1), 1),), {**CF}, (1, 2, 4, 4, 3)),
]
IDS = [f"{c[0]}-{i}" for i, c in enumerate(CASES)]


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


@pytest.mark.parametrize("name,args,kwargs,shape", CASES, ids=IDS)
def test_same_weights_same_outputs(name, args, kwargs, shape):
    rng = np.random.RandomState(len(name) + len(shape))
    x = rng.randn(*shape).astype("float32")
    theirs = getattr(keras.layers, name)(*args, **kwargs)
    expected = keras.ops.convert_to_numpy(theirs(x))
    weights = [w + rng.uniform(-0.5, 0.5, size=w.shape).astype(w.dtype) for w in theirs.get_weights()]
    theirs.set_weights(weights)
    expected = keras.ops.convert_to_numpy(theirs(x))
    with kbridge.backend.use("numpy"):
        ours = getattr(kbridge.layers, name)(*args, **kwargs)
        ours.build(shape)
        assert [tuple(w.shape) for w in ours.get_weights()] == [w.shape for w in weights]
        assert [w.path.split("/")[-1] for w in theirs.weights] == [w.name for w in ours.weights]
        ours.set_weights(weights)
        received = np.asarray(kbridge.ops.convert_to_numpy(ours(x)))
    assert received.shape == expected.shape
    assert tuple(ours.compute_output_shape(shape)) == tuple(theirs.compute_output_shape(shape))
    np.testing.assert_allclose(received, expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name,args,kwargs,shape", CASES, ids=IDS)
def test_configs_equal_keras_and_load_both_ways(name, args, kwargs, shape):
    theirs = getattr(keras.layers, name)(*args, **kwargs).get_config()
    ours = getattr(kbridge.layers, name)(*args, **kwargs).get_config()
    assert list(ours) == list(theirs)
    assert _plain(_without_name(ours)) == _plain(_without_name(theirs))
    with kbridge.backend.use("numpy"):
        loaded = getattr(kbridge.layers, name).from_config(theirs)
    assert _plain(loaded.get_config()) == _plain(theirs)
    assert _plain(getattr(keras.layers, name).from_config(ours).get_config()) == _plain(ours)


def test_global_average_pooling1d_mask_matches_keras():
    x = np.random.RandomState(3).randn(2, 5, 3).astype("float32")
    mask = np.array([[1, 1, 1, 0, 0], [1, 0, 1, 1, 0]], bool)
    expected = keras.ops.convert_to_numpy(keras.layers.GlobalAveragePooling1D()(x, mask=mask))
    with kbridge.backend.use("numpy"):
        received = kbridge.layers.GlobalAveragePooling1D()(x, mask=mask)
    np.testing.assert_allclose(received, expected, rtol=1e-6, atol=1e-6)


def test_small_cnn_model_config_and_outputs_match_keras():
    def build(lib):
        L = lib.layers
        return lib.Sequential([
            lib.Input((12, 12, 3)), L.ZeroPadding2D(1), L.Conv2D(4, 3, activation="relu"), L.MaxPooling2D(),
            L.DepthwiseConv2D(3, padding="same"), L.UpSampling2D(), L.Cropping2D(2), L.SeparableConv2D(6, 3),
            L.AveragePooling2D(2), L.Conv2DTranspose(3, 2, strides=2), L.GlobalMaxPooling2D(), L.Dense(2),
        ])  # fmt: skip

    reference = build(keras)
    with kbridge.backend.use("numpy"):
        model = build(kbridge)
    model.set_weights(reference.get_weights())
    x = np.random.RandomState(0).randn(2, 12, 12, 3).astype("float32")
    np.testing.assert_allclose(model(x), keras.ops.convert_to_numpy(reference(x)), rtol=1e-5, atol=1e-5)
    ours = [sorted(entry) for entry in model.get_config()["layers"]]
    theirs = [sorted(entry) for entry in reference.get_config()["layers"]]
    assert ours == theirs
