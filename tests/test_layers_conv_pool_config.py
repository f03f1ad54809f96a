"""Convolution, pooling and spatial reshaping layers on NumPy: configs, weights, argument errors.

Numerics on every backend: interop_tests/test_layers_conv_pool.py; Keras parity:
interop_tests/test_keras_parity_conv_pool.py.
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


# (factory, input shape, expected trainable weight shapes)
CASES = {
    "conv1d": (lambda: layers.Conv1D(4, 3, padding="causal", kernel_regularizer="l2", activity_regularizer="l1"),
               (2, 9, 3), [(3, 3, 4), (4,)]),
    "conv2d": (lambda: layers.Conv2D(6, (3, 2), strides=2, groups=3, use_bias=False, data_format="channels_first"),
               (2, 3, 7, 6), [(3, 2, 1, 6)]),
    "conv3d": (lambda: layers.Convolution3D(2, 2, dilation_rate=2, bias_constraint="non_neg"), (1, 5, 5, 5, 2),
               [(2, 2, 2, 2, 2), (2,)]),
    "conv1d_transpose": (lambda: layers.Conv1DTranspose(2, 3, strides=2, output_padding=1), (2, 5, 3), [(3, 2, 3), (2,)]),
    "conv2d_transpose": (lambda: layers.Conv2DTranspose(4, 3, padding="same", activation="relu"), (2, 4, 4, 3),
                         [(3, 3, 4, 3), (4,)]),
    "conv3d_transpose": (lambda: layers.Conv3DTranspose(2, 2, strides=2), (1, 2, 2, 2, 3), [(2, 2, 2, 2, 3), (2,)]),
    "separable1d": (lambda: layers.SeparableConv1D(4, 3, depth_multiplier=2, pointwise_regularizer="l2"), (2, 9, 3),
                    [(3, 3, 2), (1, 6, 4), (4,)]),
    "separable2d": (lambda: layers.SeparableConv2D(5, 3, padding="same"), (2, 6, 6, 3), [(3, 3, 3, 1), (1, 1, 3, 5), (5,)]),
    "depthwise1d": (lambda: layers.DepthwiseConv1D(3, depth_multiplier=2), (2, 9, 3), [(3, 3, 2), (6,)]),
    "depthwise2d": (lambda: layers.DepthwiseConv2D(3, strides=2, depthwise_constraint="non_neg"), (2, 7, 7, 3),
                    [(3, 3, 3, 1), (3,)]),
    "max_pool1d": (lambda: layers.MaxPooling1D(), (2, 9, 3), []),
    "max_pool2d": (lambda: layers.MaxPool2D((3, 2), strides=1, padding="same"), (2, 5, 6, 3), []),
    "max_pool3d": (lambda: layers.MaxPooling3D(data_format="channels_first"), (1, 2, 4, 4, 4), []),
    "avg_pool1d": (lambda: layers.AveragePooling1D(3, strides=2, padding="same"), (2, 9, 3), []),
    "avg_pool2d": (lambda: layers.AvgPool2D(2), (2, 6, 6, 3), []),
    "avg_pool3d": (lambda: layers.AveragePooling3D((2, 1, 2)), (1, 4, 4, 4, 2), []),
    "global_max1d": (lambda: layers.GlobalMaxPooling1D(keepdims=True), (2, 9, 3), []),
    "global_max2d": (lambda: layers.GlobalMaxPool2D(data_format="channels_first"), (2, 3, 5, 5), []),
    "global_max3d": (lambda: layers.GlobalMaxPooling3D(), (1, 3, 3, 3, 2), []),
    "global_avg1d": (lambda: layers.GlobalAveragePooling1D(), (2, 9, 3), []),
    "global_avg2d": (lambda: layers.GlobalAvgPool2D(keepdims=True), (2, 5, 5, 3), []),
    "global_avg3d": (lambda: layers.GlobalAveragePooling3D(), (1, 3, 3, 3, 2), []),
    "up_sampling1d": (lambda: layers.UpSampling1D(3), (2, 4, 3), []),
    "up_sampling2d": (lambda: layers.UpSampling2D((2, 1), data_format="channels_first"), (2, 3, 4, 4), []),
    "up_sampling3d": (lambda: layers.UpSampling3D(2), (1, 2, 2, 2, 3), []),
    "zero_padding1d": (lambda: layers.ZeroPadding1D((2, 0)), (2, 4, 3), []),
    "zero_padding2d": (lambda: layers.ZeroPadding2D((1, 2)), (2, 4, 4, 3), []),
    "zero_padding3d": (lambda: layers.ZeroPadding3D(((1, 0), (0, 2), 1)), (1, 2, 2, 2, 3), []),
    "cropping1d": (lambda: layers.Cropping1D(1), (2, 4, 3), []),
    "cropping2d": (lambda: layers.Cropping2D(((1, 0), (0, 2))), (2, 4, 5, 3), []),
    "cropping3d": (lambda: layers.Cropping3D(1, data_format="channels_first"), (1, 3, 4, 4, 4), []),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(CASES))
def test_config_round_trip_and_weights(case):
    factory, shape, weight_shapes = CASES[case]
    layer = factory()
    out = layer(_x(*shape))
    assert tuple(layer.compute_output_shape(shape)) == out.shape
    assert [tuple(w.shape) for w in layer.trainable_weights] == weight_shapes
    assert len(layer.non_trainable_weights) == 0
    config = layer.get_config()
    clone = type(layer).from_config(config)
    assert clone.get_config() == config
    clone(_x(*shape))
    assert [w.shape for w in clone.weights] == [w.shape for w in layer.weights]
    serialized = serialization_lib.serialize_keras_object(layer)
    assert serialized["module"] == "keras.layers" and serialized["class_name"] == type(layer).__name__
    restored = serialization_lib.deserialize_keras_object(serialized)
    assert type(restored) is type(layer) and restored.get_config() == config


def test_weight_paths_follow_keras_names():
    separable = layers.SeparableConv2D(4, 3)
    separable(_x(1, 5, 5, 2))
    assert [p for p, _ in separable.named_variables()] == ["depthwise_kernel", "pointwise_kernel", "bias"]
    depthwise = layers.DepthwiseConv2D(3)
    depthwise(_x(1, 5, 5, 2))
    assert [p for p, _ in depthwise.named_variables()] == ["kernel", "bias"]


def test_aliases_are_the_same_classes():
    assert layers.Convolution2D is layers.Conv2D and layers.Convolution2DTranspose is layers.Conv2DTranspose
    assert layers.MaxPool2D is layers.MaxPooling2D and layers.AvgPool1D is layers.AveragePooling1D
    assert layers.GlobalAvgPool2D is layers.GlobalAveragePooling2D and layers.GlobalMaxPool3D is layers.GlobalMaxPooling3D
    assert layers.SeparableConvolution1D is layers.SeparableConv1D


def test_causal_conv1d_does_not_look_ahead():
    layer = layers.Conv1D(1, 3, padding="causal", dilation_rate=2, use_bias=False, kernel_initializer="ones")
    x = np.zeros((1, 8, 1), "float32")
    x[0, 5, 0] = 1.0
    out = np.asarray(layer(x))[0, :, 0]
    np.testing.assert_array_equal(out, [0, 0, 0, 0, 0, 1, 0, 1])


def test_global_average_pooling1d_mask_averages_unmasked_steps():
    x = np.arange(12, dtype="float32").reshape(2, 3, 2)
    mask = np.array([[True, True, False], [True, False, False]])
    out = np.asarray(layers.GlobalAveragePooling1D()(x, mask=mask))
    np.testing.assert_allclose(out, [[1, 2], [6, 7]])
    cf = layers.GlobalAveragePooling1D(data_format="channels_first", keepdims=True)
    np.testing.assert_allclose(np.asarray(cf(np.swapaxes(x, 1, 2), mask=mask)), [[[1], [2]], [[6], [7]]])
    assert layers.GlobalAveragePooling1D().compute_mask(x, mask) is None


def test_sequential_cnn_infers_shapes_and_counts_params():
    model = kbridge.Sequential([
        kbridge.Input((None, None, 3)),
        layers.Conv2D(8, 3, padding="same"),
        layers.MaxPooling2D(),
        layers.SeparableConv2D(4, 3),
        layers.GlobalAveragePooling2D(),
    ])  # fmt: skip
    assert model.output.shape == (None, 4)
    assert model.count_params() == (27 * 8 + 8) + (9 * 8 + 8 * 4 + 4)
    assert model(_x(2, 10, 12, 3)).shape == (2, 4)


BAD_ARGUMENTS = [
    (lambda: layers.Conv2D(2, 3, padding="foo"), "Conv2D.*padding.*foo"),
    (lambda: layers.Conv2D(2, 3, padding="causal"), "Conv2D.*padding.*causal"),
    (lambda: layers.Conv1DTranspose(2, 3, padding="causal"), "Conv1DTranspose.*padding"),
    (lambda: layers.SeparableConv1D(2, 3, padding="causal"), "SeparableConv1D.*padding"),
    (lambda: layers.Conv1D(0, 3), "Conv1D.*filters.*0"),
    (lambda: layers.Conv2D(2, (3, 3, 3)), "Conv2D.*kernel_size.*2 integers"),
    (lambda: layers.Conv2D(2, 0), "Conv2D.*kernel_size"),
    (lambda: layers.Conv1D(3, 3, groups=2), "Conv1D.*groups=2, filters=3"),
    (lambda: layers.Conv2D(2, 3, strides=2, dilation_rate=2), "Conv2D.*strides.*dilation_rate"),
    (lambda: layers.Conv2D(2, 3, data_format="channels_middle"), "data_format"),
    (lambda: layers.Conv2DTranspose(2, 3, strides=2, output_padding=2), "Conv2DTranspose.*output_padding"),
    (lambda: layers.DepthwiseConv2D(3, depth_multiplier=0), "DepthwiseConv2D.*depth_multiplier"),
    (lambda: layers.MaxPooling2D(padding="full"), "MaxPooling2D.*padding.*full"),
    (lambda: layers.AveragePooling1D((2, 2)), "AveragePooling1D.*pool_size"),
    (lambda: layers.UpSampling2D(interpolation="area"), "UpSampling2D.*nearest.*bilinear"),
    (lambda: layers.UpSampling3D(size=(2, 2)), "UpSampling3D.*size"),
    (lambda: layers.ZeroPadding2D((1, 2, 3)), "ZeroPadding2D.*padding"),
    (lambda: layers.Cropping1D((1, 2, 3)), "Cropping1D.*cropping"),
    (lambda: layers.Cropping2D(-1), "Cropping2D.*cropping"),
]


@pytest.mark.parametrize("make,match", BAD_ARGUMENTS, ids=[m.split(".")[0] + str(i) for i, (_, m) in enumerate(BAD_ARGUMENTS)])
def test_bad_arguments_raise_naming_the_layer(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_bad_inputs_name_the_layer_and_the_shapes():
    conv = layers.Conv2D(2, 3, name="stem")
    with pytest.raises(ValueError, match=r'"stem".*ndim=4.*ndim=3'):
        conv(_x(2, 5, 5))
    conv(_x(2, 5, 5, 3))
    with pytest.raises(ValueError, match=r'"stem".*3.*4'):
        conv(_x(2, 5, 5, 4))  # the channels the kernel was built for
    with pytest.raises(ValueError, match=r"stem.*zero or negative.*\(2, 2, 2, 3\)"):
        layers.Conv2D(2, 3, name="stem").compute_output_shape((2, 2, 2, 3))
    with pytest.raises(ValueError, match=r"groups=2.*3 channels"):
        layers.Conv2D(4, 3, groups=2)(_x(1, 5, 5, 3))
    with pytest.raises(ValueError, match=r"ndim=3"):
        layers.MaxPooling1D()(_x(2, 4, 4, 3))
    with pytest.raises(ValueError, match=r"Cropping1D.*cropping.*\(2, 4, 3\)"):
        layers.Cropping1D((2, 2))(_x(2, 4, 3))
    with pytest.raises(ValueError, match=r"channel dimension.*must be known"):
        layers.Conv1D(2, 3).build((None, 5, None))
