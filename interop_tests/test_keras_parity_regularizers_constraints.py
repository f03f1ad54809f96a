"""Keras 3 parity of the weight regularizers and constraints.

The same object is built in Keras 3 and kbridge: penalties and constrained weights must
agree on the same array (1e-6), configs must load both ways, and a Dense layer with a
kernel regularizer reports the same `losses` after the same weights.
"""

import numpy as np
import pytest

import kbridge

pytestmark = pytest.mark.keras_parity
keras = pytest.importorskip("keras", reason="Keras 3 is installed only in the keras_parity session")

W = np.random.RandomState(7).randn(5, 3).astype("float32")


def _keras_value(obj):
    # A Keras tensor, not the NumPy array: Keras's own normalize mishandles axis=0 on NumPy input.
    return keras.ops.convert_to_numpy(obj(keras.ops.convert_to_tensor(W)))

REGULARIZERS = [
    ("L1", {"l1": 0.03}),
    ("L2", {"l2": 0.2}),
    ("L1L2", {"l1": 0.1, "l2": 0.05}),
    ("OrthogonalRegularizer", {"factor": 0.3}),
    ("OrthogonalRegularizer", {"factor": 0.4, "mode": "columns"}),
]
CONSTRAINTS = [
    ("MaxNorm", {"max_value": 1.5}),
    ("MaxNorm", {"max_value": 0.8, "axis": 1}),
    ("NonNeg", {}),
    ("UnitNorm", {}),
    ("UnitNorm", {"axis": [0, 1]}),
    ("MinMaxNorm", {"min_value": 1.2, "max_value": 1.6, "rate": 0.7}),
]


def _ids(cases):
    return [f"{name}-{i}" for i, (name, _) in enumerate(cases)]


@pytest.mark.parametrize("backend", ["numpy", "jax", "torch", "tensorflow"])
@pytest.mark.parametrize("name,kwargs", REGULARIZERS, ids=_ids(REGULARIZERS))
def test_regularizer_penalties_match(backend, name, kwargs):
    expected = float(_keras_value(getattr(keras.regularizers, name)(**kwargs)))
    with kbridge.backend.use(backend):
        got = getattr(kbridge.regularizers, name)(**kwargs)(kbridge.ops.convert_to_tensor(W))
        np.testing.assert_allclose(float(kbridge.ops.convert_to_numpy(got)), expected, rtol=1e-6)


@pytest.mark.parametrize("backend", ["numpy", "jax", "torch", "tensorflow"])
@pytest.mark.parametrize("name,kwargs", CONSTRAINTS, ids=_ids(CONSTRAINTS))
def test_constraint_outputs_match(backend, name, kwargs):
    expected = _keras_value(getattr(keras.constraints, name)(**kwargs))
    with kbridge.backend.use(backend):
        got = getattr(kbridge.constraints, name)(**kwargs)(kbridge.ops.convert_to_tensor(W))
        np.testing.assert_allclose(kbridge.ops.convert_to_numpy(got), expected, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize(
    "package,name,kwargs",
    [("regularizers", n, k) for n, k in REGULARIZERS] + [("constraints", n, k) for n, k in CONSTRAINTS],
)
def test_configs_load_both_ways(package, name, kwargs):
    theirs = getattr(keras, package).serialize(getattr(getattr(keras, package), name)(**kwargs))
    ours = getattr(kbridge, package).serialize(getattr(getattr(kbridge, package), name)(**kwargs))
    assert ours == theirs
    assert getattr(kbridge, package).deserialize(theirs).get_config() == ours["config"]
    assert getattr(keras, package).deserialize(ours).get_config() == theirs["config"]


def test_dense_layer_losses_match():
    kwargs = {"kernel_regularizer": {"class_name": "L1L2", "config": {"l1": 0.01, "l2": 0.02}},
              "bias_regularizer": "l2", "activity_regularizer": "l1"}  # fmt: skip
    x = np.random.RandomState(1).randn(2, 5).astype("float32")
    theirs = keras.layers.Dense(3, **kwargs)
    theirs(x)
    theirs.set_weights([W, np.array([0.5, -1.0, 2.0], "float32")])
    theirs(x)
    expected = sorted(float(keras.ops.convert_to_numpy(loss)) for loss in theirs.losses)
    ours = kbridge.layers.Dense(3, **kwargs)
    ours(x)
    ours.set_weights(theirs.get_weights())
    ours(x)
    got = sorted(float(kbridge.ops.convert_to_numpy(loss)) for loss in ours.losses)
    np.testing.assert_allclose(got, expected, rtol=1e-6)
