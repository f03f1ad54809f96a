"""One model instance, four backends: equal outputs (1e-5) in inference and training mode,
Dropout and BatchNormalization included, for Sequential, Functional and subclassed models."""

import numpy as np
import pytest

import kbridge
from kbridge import layers, ops

BACKENDS = ["numpy", "jax", "torch", "tensorflow"]


def _sequential():
    return kbridge.Sequential(
        [
            layers.Dense(16, activation="relu"),
            layers.BatchNormalization(),
            layers.Dropout(0.4, seed=11),
            layers.Dense(4, activation="softmax"),
        ]
    )


def _functional():
    inputs = kbridge.Input((10,))
    a = layers.Dense(8, activation="tanh")(inputs)
    b = layers.LayerNormalization()(layers.Dense(8)(inputs))
    x = layers.Concatenate()([a, layers.Dropout(0.25, seed=5)(b)])
    x = layers.BatchNormalization(momentum=0.5)(x)
    return kbridge.Model(inputs, [layers.Dense(3)(x), layers.Add()([a, b])])


class Residual(kbridge.Model):
    def __init__(self):
        super().__init__()
        self.blocks = [layers.Dense(10, activation="gelu") for _ in range(2)]
        self.norm = layers.BatchNormalization()
        self.drop = layers.Dropout(0.5, seed=3)
        self.head = layers.Dense(2)

    def call(self, x, training=False):
        for block in self.blocks:
            x = x + block(x)
        return self.head(self.drop(self.norm(x, training=training), training=training))


BUILDERS = {"sequential": _sequential, "functional": _functional, "subclassed": Residual}


def _numpy(outputs):
    return [ops.convert_to_numpy(o) for o in (outputs if isinstance(outputs, (list, tuple)) else [outputs])]


@pytest.mark.parametrize("kind", sorted(BUILDERS))
@pytest.mark.parametrize("training", [False, True])
def test_one_instance_moved_across_backends_gives_equal_outputs(kind, training):
    x = np.random.RandomState(0).randn(6, 10).astype("float32")
    with kbridge.backend.use("numpy"):
        model = BUILDERS[kind]()
        model(x)
    start_state = [v.numpy() for v in model.non_trainable_variables]
    results = {}
    for name in BACKENDS:
        model.to_backend(name)
        # Same starting state (BatchNormalization statistics, seed counters) on every backend.
        for variable, value in zip(model.non_trainable_variables, start_state):
            variable.assign(value)
        results[name] = _numpy(model(x, training=training))
        if training:
            moved = [v.numpy() for v in model.non_trainable_variables]
            assert any(not np.array_equal(a, b) for a, b in zip(moved, start_state)), "training updated no state"
    for name in BACKENDS[1:]:
        for expected, received in zip(results["numpy"], results[name]):
            np.testing.assert_allclose(received, expected, rtol=1e-5, atol=1e-5, err_msg=name)


@pytest.mark.parametrize("kind", sorted(BUILDERS))
def test_dropout_is_active_only_in_training(kind):
    x = np.random.RandomState(1).randn(6, 10).astype("float32")
    with kbridge.backend.use("numpy"):
        model = BUILDERS[kind]()
    first = _numpy(model(x))
    assert all(np.array_equal(a, b) for a, b in zip(first, _numpy(model(x))))
    trained = _numpy(model(x, training=True))
    assert any(not np.allclose(a, b) for a, b in zip(first, trained))


@pytest.mark.parametrize("name", BACKENDS)
def test_stateless_call_matches_stateful_call(name):
    x = np.random.RandomState(2).randn(5, 10).astype("float32")
    with kbridge.backend.use(name):
        model = _functional()
        model(x)
    trainable = [v.value for v in model.trainable_variables]
    non_trainable = [v.value for v in model.non_trainable_variables]
    pure, new_state = model.stateless_call(trainable, non_trainable, x, training=True)
    before = [v.numpy() for v in model.non_trainable_variables]
    stateful = model(x, training=True)
    after = [v.numpy() for v in model.non_trainable_variables]
    for a, b in zip(_numpy(pure), _numpy(stateful)):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)
    for returned, assigned in zip(new_state, after):
        np.testing.assert_allclose(ops.convert_to_numpy(returned), assigned, rtol=1e-6, atol=1e-6)
    assert any(not np.array_equal(a, b) for a, b in zip(before, after))


def test_two_builds_share_paths_and_weights_move_between_them():
    with kbridge.backend.use("numpy"):
        first, second = _functional(), _functional()
    paths = [p for p, _ in first.named_variables()]
    assert paths == [p for p, _ in second.named_variables()]
    assert "layers.1.kernel" in paths
    second.set_weights(first.get_weights())
    x = np.random.RandomState(3).randn(2, 10).astype("float32")
    for a, b in zip(_numpy(first(x)), _numpy(second(x))):
        np.testing.assert_array_equal(a, b)
