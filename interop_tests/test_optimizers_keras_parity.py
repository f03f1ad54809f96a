"""Optimizers and schedules against real Keras 3: same gradients in, same variables out;
same constructor signatures, config keys and defaults; configs load both ways."""

import inspect

import numpy as np
import pytest

import kbridge
from kbridge import optimizers
from kbridge.backend import use
from kbridge.optimizers import schedules

pytestmark = pytest.mark.keras_parity
keras = pytest.importorskip("keras", reason="Keras 3 is installed only in the keras_parity session")

RNG = np.random.RandomState(2)
INITIAL = [RNG.randn(4, 3).astype("float32"), RNG.randn(3).astype("float32")]
GRADS = [[RNG.randn(4, 3).astype("float32"), RNG.randn(3).astype("float32")] for _ in range(4)]
NAMES = ["SGD", "RMSprop", "Adam", "AdamW", "Adagrad", "Adadelta", "Adamax", "Nadam", "Lion", "Ftrl"]

CASES = {
    "SGD": {"learning_rate": 0.1, "momentum": 0.9, "nesterov": True, "clipnorm": 1.0},
    "RMSprop": {"learning_rate": 0.01, "momentum": 0.5, "centered": True, "weight_decay": 0.1},
    "Adam": {"learning_rate": 0.01, "amsgrad": True, "global_clipnorm": 2.0, "use_ema": True,
             "ema_overwrite_frequency": 2},
    "AdamW": {"learning_rate": 0.01, "weight_decay": 0.2},
    "Adagrad": {"learning_rate": 0.1, "clipvalue": 0.5},
    "Adadelta": {"learning_rate": 1.0, "rho": 0.9, "use_ema": True, "ema_momentum": 0.5},
    "Adamax": {"learning_rate": 0.01, "loss_scale_factor": 2.0},
    "Nadam": {"learning_rate": 0.01, "gradient_accumulation_steps": 2},
    "Lion": {"learning_rate": 0.01, "beta_2": 0.9},
    "Ftrl": {"learning_rate": 0.1, "l1_regularization_strength": 0.01, "l2_regularization_strength": 0.1,
             "l2_shrinkage_regularization_strength": 0.1, "beta": 0.1},
}  # fmt: skip


def _kbridge_run(name, kwargs, steps=4):
    with use("numpy"):
        variables = [kbridge.Variable(v, name=f"w{i}") for i, v in enumerate(INITIAL)]
        optimizer = getattr(optimizers, name)(**kwargs)
        for grads in GRADS[:steps]:
            optimizer.apply(grads, variables)
    return [v.numpy() for v in variables], [v.numpy() for v in optimizer.variables]


def _keras_run(name, kwargs, steps=4):
    variables = [keras.Variable(v, name=f"w{i}") for i, v in enumerate(INITIAL)]
    optimizer = getattr(keras.optimizers, name)(**kwargs)
    for grads in GRADS[:steps]:
        optimizer.apply([keras.ops.convert_to_tensor(g) for g in grads], variables)
    return [keras.ops.convert_to_numpy(v) for v in variables], [
        keras.ops.convert_to_numpy(v) for v in optimizer.variables
    ]


@pytest.mark.parametrize("name", NAMES)
def test_same_updates_as_keras(name):
    weights, state = _kbridge_run(name, CASES[name])
    keras_weights, keras_state = _keras_run(name, CASES[name])
    for got, want in zip(weights, keras_weights):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6, err_msg=name)
    # Same optimizer variables in the same order (the .keras format stores them by position).
    assert [s.shape for s in state] == [s.shape for s in keras_state]
    for got, want in zip(state, keras_state):
        np.testing.assert_allclose(got.astype("float64"), want.astype("float64"), rtol=1e-5, atol=1e-6, err_msg=name)


def test_schedule_driven_optimizer_matches_keras():
    kb = optimizers.SGD(schedules.PolynomialDecay(0.1, 3, 0.01, power=2.0), momentum=0.5)
    ke = keras.optimizers.SGD(keras.optimizers.schedules.PolynomialDecay(0.1, 3, 0.01, power=2.0), momentum=0.5)
    with use("numpy"):
        kb_vars = [kbridge.Variable(v, name=f"w{i}") for i, v in enumerate(INITIAL)]
    ke_vars = [keras.Variable(v) for v in INITIAL]
    for grads in GRADS:
        kb.apply(grads, kb_vars)
        ke.apply([keras.ops.convert_to_tensor(g) for g in grads], ke_vars)
    for a, b in zip(kb_vars, ke_vars):
        np.testing.assert_allclose(a.numpy(), keras.ops.convert_to_numpy(b), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", NAMES)
def test_signature_and_default_config_match_keras(name):
    ours, theirs = getattr(optimizers, name), getattr(keras.optimizers, name)
    ours_params = inspect.signature(ours.__init__).parameters
    theirs_params = inspect.signature(theirs.__init__).parameters
    assert list(ours_params) == list(theirs_params)
    for key, param in theirs_params.items():
        assert ours_params[key].default == param.default, f"{name}.{key}"
    ours_config = ours().get_config()
    theirs_config = theirs().get_config()
    assert list(ours_config) == list(theirs_config)
    for key in theirs_config:
        if key != "name":
            assert ours_config[key] == pytest.approx(theirs_config[key]), f"{name}.{key}"


SCHEDULES = [
    ("ExponentialDecay", (0.1, 10, 0.5), {"staircase": True}),
    ("PiecewiseConstantDecay", ([5, 10], [1.0, 0.5, 0.1]), {}),
    ("PolynomialDecay", (0.1, 10), {"cycle": True, "power": 2.0}),
    ("InverseTimeDecay", (0.1, 10, 0.5), {}),
    ("CosineDecay", (0.1, 10), {"alpha": 0.1, "warmup_target": 0.3, "warmup_steps": 4}),
    ("CosineDecayRestarts", (0.1, 10), {"m_mul": 0.5, "alpha": 0.1}),
]


@pytest.mark.parametrize("name, args, kwargs", SCHEDULES, ids=[s[0] for s in SCHEDULES])
def test_schedules_match_keras(name, args, kwargs):
    ours = getattr(schedules, name)(*args, **kwargs)
    theirs = getattr(keras.optimizers.schedules, name)(*args, **kwargs)
    steps = [0, 1, 3, 4, 5, 9, 10, 14, 21, 33]
    got = [float(np.asarray(ours(step))) for step in steps]
    want = [float(keras.ops.convert_to_numpy(theirs(step))) for step in steps]
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-7)
    assert ours.get_config() == theirs.get_config()


def test_configs_load_both_ways():
    ours = optimizers.Adam(schedules.CosineDecay(0.1, 100, warmup_target=0.2, warmup_steps=5), clipnorm=1.0)
    theirs = keras.optimizers.deserialize(optimizers.serialize(ours))
    assert isinstance(theirs, keras.optimizers.Adam)
    assert isinstance(theirs._learning_rate, keras.optimizers.schedules.CosineDecay)
    assert theirs.get_config()["clipnorm"] == 1.0
    keras_config = keras.optimizers.serialize(keras.optimizers.Nadam(0.02, beta_1=0.8, use_ema=True))
    back = optimizers.deserialize(keras_config)
    assert isinstance(back, optimizers.Nadam) and back.beta_1 == 0.8 and back.use_ema
    assert float(back.learning_rate.numpy()) == pytest.approx(0.02)
