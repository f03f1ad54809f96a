"""Keras 3 parity of the normalization and regularization layers.

Each layer is built with the same arguments in Keras 3 and kbridge; Keras's weights are
copied into kbridge with `set_weights`; outputs (1e-5; inference mode for the random
layers), weight names/order and `get_config()` keys/values must agree, and configs must
load both ways. SpectralNormalization is also compared in training mode (deterministic).
"""

import numpy as np
import pytest

import kbridge

pytestmark = pytest.mark.keras_parity
keras = pytest.importorskip("keras", reason="Keras 3 is installed only in the keras_parity session")

CF = {"data_format": "channels_first"}
# (class name, args, kwargs, input shape)
CASES = [
    ("GroupNormalization", (2,), {"epsilon": 1e-4}, (2, 5, 6)),
    ("GroupNormalization", (3,), {"axis": 1, "center": False, "gamma_regularizer": "l2"}, (2, 6, 3, 3)),
    ("GroupNormalization", (-1,), {"beta_constraint": "non_neg"}, (2, 4, 3)),
    ("UnitNormalization", (), {}, (2, 5, 6)),
    ("UnitNormalization", (), {"axis": [1, 2]}, (2, 3, 4)),
    ("SpatialDropout1D", (0.3,), {"seed": 1}, (2, 5, 4)),
    ("SpatialDropout2D", (0.3,), {**CF}, (2, 3, 4, 4)),
    ("SpatialDropout3D", (0.2,), {"seed": 3}, (1, 2, 2, 2, 3)),
    ("GaussianNoise", (0.2,), {"seed": 3}, (2, 5)),
    ("GaussianDropout", (0.4,), {}, (2, 5)),
    ("AlphaDropout", (0.1,), {"noise_shape": (None, 1), "seed": 4}, (2, 5)),
    ("ActivityRegularization", (), {"l1": 0.1, "l2": 0.01}, (2, 5)),
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
    theirs(x)
    weights = [w + rng.uniform(-0.5, 0.5, size=w.shape).astype(w.dtype) for w in theirs.get_weights()]
    theirs.set_weights(weights)
    expected = keras.ops.convert_to_numpy(theirs(x))
    with kbridge.backend.use("numpy"):
        ours = getattr(kbridge.layers, name)(*args, **kwargs)
        ours(x)
        assert [w.path.split("/")[-1] for w in theirs.weights] == [w.name for w in ours.weights]
        ours.set_weights(weights)
        received = np.asarray(kbridge.ops.convert_to_numpy(ours(x)))
        losses = [float(np.asarray(loss)) for loss in ours.losses]
    assert tuple(ours.compute_output_shape(shape)) == tuple(theirs.compute_output_shape(shape))
    np.testing.assert_allclose(received, expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(losses, [float(keras.ops.convert_to_numpy(v)) for v in theirs.losses], rtol=1e-5)


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


@pytest.mark.parametrize("inner", ["dense", "conv"])
def test_spectral_normalization_matches_keras_in_both_modes(inner):
    def make(lib):
        layer = lib.layers.Dense(3) if inner == "dense" else lib.layers.Conv1D(2, 3)
        return lib.layers.SpectralNormalization(layer, power_iterations=2)

    x = np.random.RandomState(1).randn(2, 6, 4).astype("float32")
    theirs = make(keras)
    theirs(x)
    with kbridge.backend.use("numpy"):
        ours = make(kbridge)
        ours(x)
    assert [w.path.split("/")[-1] for w in theirs.weights] == [w.name for w in ours.weights]
    # Fixed weights: Keras draws its kernel and power-iteration vector unseeded, and some draws leave
    # the top singular values so close that float32 rounding moves the iterate by ~1e-5.
    rng = np.random.RandomState(7)
    weights = [rng.uniform(-1, 1, w.shape).astype("float32") for w in theirs.get_weights()]
    theirs.set_weights(weights)
    ours.set_weights(weights)
    for training in (False, True, True):
        expected = keras.ops.convert_to_numpy(theirs(x, training=training))
        with kbridge.backend.use("numpy"):
            received = np.asarray(ours(x, training=training))
        np.testing.assert_allclose(received, expected, rtol=1e-5, atol=1e-5)
        for got, want in zip(ours.get_weights(), theirs.get_weights()):
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    config, their_config = ours.get_config(), theirs.get_config()
    assert list(config) == list(their_config)
    assert config["layer"]["class_name"] == their_config["layer"]["class_name"]
    with kbridge.backend.use("numpy"):
        loaded = kbridge.layers.SpectralNormalization.from_config(their_config)
    assert loaded.power_iterations == 2 and type(loaded.layer).__name__ == type(theirs.layer).__name__
