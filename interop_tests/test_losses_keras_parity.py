"""Losses against real Keras 3: equal values for every reduction and sample weight, config keys, names.

Keras is a test reference only (installed by `nox -s keras_parity`).
"""

import json

import numpy as np
import pytest

from kbridge import losses
from kbridge.backend import use

pytestmark = pytest.mark.keras_parity
keras = pytest.importorskip("keras", reason="Keras 3 is installed only in the keras_parity session")

RNG = np.random.default_rng(2)
B, C = 6, 4
REG_T, REG_P = RNG.normal(size=(2, B, C)).astype("float32")
PROB_T = RNG.uniform(0, 1, (B, C)).astype("float32")
PROB_P = RNG.uniform(0.05, 0.95, (B, C)).astype("float32")
BIN = (RNG.uniform(size=(B, C)) > 0.5).astype("float32")
LABELS = np.array([0, 3, 1, 2, 3, 1])
ONEHOT = np.eye(C, dtype="float32")[LABELS]
LOGITS = (3 * RNG.normal(size=(B, C))).astype("float32")
SOFT = (np.exp(LOGITS) / np.exp(LOGITS).sum(-1, keepdims=True)).astype("float32")
EMB = (REG_P / np.linalg.norm(REG_P, axis=-1, keepdims=True)).astype("float32")
WEIGHTS = np.array([1.0, 0.5, 0.0, 2.0, 1.5, 0.75], "float32")  # sums to 5.75, not B

# (class name, kwargs, y_true, y_pred)
CASES = [
    ("MeanSquaredError", {}, REG_T, REG_P),
    ("MeanAbsoluteError", {}, REG_T, REG_P),
    ("MeanAbsolutePercentageError", {}, REG_T, REG_P),
    ("MeanSquaredLogarithmicError", {}, PROB_T, PROB_P),
    ("Huber", {"delta": 0.6}, REG_T, REG_P),
    ("LogCosh", {}, REG_T, REG_P),
    ("CosineSimilarity", {"axis": 0}, REG_T, REG_P),
    ("KLDivergence", {}, PROB_T, PROB_P),
    ("Poisson", {}, PROB_T, PROB_P),
    ("BinaryCrossentropy", {}, BIN, PROB_P),
    ("BinaryCrossentropy", {"from_logits": True, "label_smoothing": 0.2}, BIN, LOGITS),
    ("BinaryFocalCrossentropy", {"apply_class_balancing": True, "alpha": 0.4, "gamma": 1.5}, BIN, PROB_P),
    ("BinaryFocalCrossentropy", {"from_logits": True, "label_smoothing": 0.1}, BIN, LOGITS),
    ("CategoricalCrossentropy", {"label_smoothing": 0.1}, ONEHOT, PROB_P),
    ("CategoricalCrossentropy", {"from_logits": True}, ONEHOT, LOGITS),
    ("CategoricalFocalCrossentropy", {}, ONEHOT, PROB_P),
    ("CategoricalFocalCrossentropy", {"alpha": 0.5, "gamma": 1.0, "from_logits": True, "label_smoothing": 0.1},
     ONEHOT, LOGITS),
    ("SparseCategoricalCrossentropy", {}, LABELS, PROB_P),
    ("SparseCategoricalCrossentropy", {"from_logits": True}, LABELS[:, None], LOGITS),
    ("SparseCategoricalCrossentropy", {"ignore_class": 1}, LABELS, PROB_P),
    ("SparseCategoricalCrossentropy", {"from_logits": True, "ignore_class": 3}, LABELS, LOGITS),
    ("Hinge", {}, BIN, REG_P),
    ("Hinge", {}, 2 * BIN - 1, REG_P),
    ("SquaredHinge", {}, BIN, REG_P),
    ("CategoricalHinge", {}, ONEHOT, REG_P),
    ("Dice", {}, BIN, PROB_P),
    ("Dice", {"axis": 1}, BIN, PROB_P),
    ("Tversky", {"alpha": 0.3, "beta": 0.7, "axis": 1}, BIN, PROB_P),
    ("CategoricalGeneralizedCrossEntropy", {"q": 0.7}, LABELS, SOFT),
    ("Circle", {"gamma": 40.0}, np.array([0, 1, 0, 1, 2, 3]), EMB),
]  # fmt: skip
REDUCTIONS = ["sum_over_batch_size", "sum", "mean_with_sample_weight", None]
# Keras 3.15 drops these constructor arguments from get_config (so its configs lose them); kbridge keeps them.
EXTRA_KEYS = {"Huber": {"delta"}, "CosineSimilarity": {"axis"}, "SparseCategoricalCrossentropy": {"axis"}}


def _np(value):
    return np.asarray(keras.ops.convert_to_numpy(value))


def _ids(case):
    name, kwargs = case[0], case[1]
    return name + "".join(f"-{k}={v}" for k, v in kwargs.items())


@pytest.mark.parametrize("backend", ["numpy", "jax"])
@pytest.mark.parametrize("case", CASES, ids=[_ids(c) for c in CASES])
def test_values_match_keras(case, backend):
    name, kwargs, y_true, y_pred = case
    for reduction in REDUCTIONS:
        for weights in (None, WEIGHTS):
            try:
                expected = _np(getattr(keras.losses, name)(reduction=reduction, **kwargs)(y_true, y_pred, weights))
            except Exception:  # weights that do not fit the losses' shape: kbridge says so too
                with use(backend), pytest.raises(ValueError, match="sample_weight"):
                    getattr(losses, name)(reduction=reduction, **kwargs)(y_true, y_pred, weights)
                continue
            with use(backend):
                got = getattr(losses, name)(reduction=reduction, **kwargs)(y_true, y_pred, weights)
            np.testing.assert_allclose(
                np.asarray(got), expected, rtol=2e-5, atol=1e-5, err_msg=f"{name} reduction={reduction} w={weights}"
            )


@pytest.mark.parametrize("case", CASES, ids=[_ids(c) for c in CASES])
def test_configs_match_and_load_both_ways(case):
    name, kwargs, y_true, y_pred = case
    ours = getattr(losses, name)(reduction="sum", name="custom", **kwargs)
    theirs = getattr(keras.losses, name)(reduction="sum", name="custom", **kwargs)
    ours_config, theirs_config = ours.get_config(), theirs.get_config()
    assert set(ours_config) - set(theirs_config) == EXTRA_KEYS.get(name, set())
    assert {k: ours_config[k] for k in theirs_config} == theirs_config
    # A kbridge config read by Keras, and a Keras config read by kbridge, compute the same loss.
    from_ours = keras.saving.deserialize_keras_object(json.loads(json.dumps(losses.serialize(ours))))
    from_theirs = losses.deserialize(json.loads(json.dumps(keras.losses.serialize(theirs))))
    assert type(from_ours).__name__ == name and type(from_theirs).__name__ == name
    if not EXTRA_KEYS.get(name, set()) & set(kwargs):
        with use("numpy"):
            ours_value = from_theirs(y_true, y_pred)
        np.testing.assert_allclose(ours_value, _np(from_ours(y_true, y_pred)), rtol=2e-5, atol=1e-5)


def test_serialized_forms_match_keras():
    assert losses.serialize(losses.mean_squared_error) == keras.losses.serialize(keras.losses.mean_squared_error)
    ours, theirs = losses.serialize(losses.Huber()), keras.losses.serialize(keras.losses.Huber())
    assert {k: v for k, v in ours.items() if k != "config"} == {k: v for k, v in theirs.items() if k != "config"}


def test_names_match_keras():
    from keras.src.losses import ALL_OBJECTS_DICT as KERAS_NAMES

    missing = set(KERAS_NAMES) - set(losses.ALL_OBJECTS_DICT)
    assert missing == {"CTC", "ctc"}  # no ctc_loss op in kbridge.ops yet
    for name, obj in KERAS_NAMES.items():
        if name in missing:
            continue
        ours = losses.ALL_OBJECTS_DICT[name]
        assert ours.__name__ == obj.__name__, name
        if name == "LossFunctionWrapper":
            continue  # needs `fn`: `get` cannot instantiate it in either library
        if isinstance(obj, type):
            assert isinstance(losses.get(name), getattr(losses, obj.__name__))
        else:
            assert losses.get(name) is ours
    for name in ("MeanSquaredError", "mse", "kl_divergence", "huber", "Huber", "bce"):
        ours, theirs = losses.get(name), keras.losses.get(name)
        assert isinstance(ours, losses.Loss) == isinstance(theirs, keras.losses.Loss), name
        assert _label(ours) == _label(theirs), name


def _label(loss):
    return loss.name if hasattr(loss, "name") else loss.__name__
