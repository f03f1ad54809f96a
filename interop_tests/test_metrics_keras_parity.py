"""Metric parity with real Keras 3: same values over several weighted updates, same config keys.

Keras is a test reference only (installed by `nox -s keras_parity`).
"""

import numpy as np
import pytest

import kbridge
from kbridge import metrics as kb_metrics

pytestmark = pytest.mark.keras_parity
keras = pytest.importorskip("keras", reason="Keras 3 is installed only in the keras_parity session")


def _softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def _batch(kind, rng, n=8):
    """(y_true, y_pred, sample_weight) of one batch of the given kind."""
    f32 = np.float32
    if kind == "values":
        return (rng.normal(size=(n, 3)).astype(f32),), rng.uniform(size=(n,)).astype(f32)
    if kind == "binary":
        yt = rng.integers(0, 2, size=(n, 1)).astype(f32)
        yp = rng.uniform(size=(n, 1)).astype(f32)
    elif kind == "binary_logits":
        yt = rng.integers(0, 2, size=(n, 1)).astype(f32)
        yp = rng.normal(size=(n, 1)).astype(f32) * 3
    elif kind == "multilabel":
        yt = rng.integers(0, 2, size=(n, 3)).astype(f32)
        yp = rng.uniform(size=(n, 3)).astype(f32)
        yp[0, 0], yp[1, 1] = 0.0, 1.0  # the edges of the threshold range
    elif kind == "onehot":
        yt = np.eye(4, dtype=f32)[rng.integers(0, 4, size=n)]
        yp = _softmax(rng.normal(size=(n, 4))).astype(f32)
    elif kind == "sparse":
        yt = rng.integers(0, 4, size=(n,)).astype("int32")
        yp = _softmax(rng.normal(size=(n, 4))).astype(f32)
    elif kind == "sparse_logits":
        yt = rng.integers(0, 4, size=(n, 1)).astype("int32")
        yp = rng.normal(size=(n, 4)).astype(f32)
    elif kind == "regression":
        yt = rng.uniform(0.1, 2.0, size=(n, 3)).astype(f32)
        yp = rng.uniform(0.1, 2.0, size=(n, 3)).astype(f32)
    elif kind == "hinge":
        yt = rng.choice([-1.0, 1.0], size=(n, 3)).astype(f32)
        yp = rng.normal(size=(n, 3)).astype(f32)
    elif kind == "segmentation":
        yt = rng.integers(0, 3, size=(n, 5)).astype("int32")
        yp = rng.integers(0, 3, size=(n, 5)).astype("int32")
    else:
        raise AssertionError(kind)
    return (yt, yp), rng.uniform(0.5, 2.0, size=(n,)).astype(f32)


CASES = [
    ("Mean", {}, "values"),
    ("Sum", {}, "values"),
    ("Accuracy", {}, "segmentation"),
    ("BinaryAccuracy", {"threshold": 0.4}, "binary"),
    ("CategoricalAccuracy", {}, "onehot"),
    ("SparseCategoricalAccuracy", {}, "sparse"),
    ("TopKCategoricalAccuracy", {"k": 2}, "onehot"),
    ("SparseTopKCategoricalAccuracy", {"k": 2}, "sparse_logits"),
    ("MeanSquaredError", {}, "regression"),
    ("MeanAbsoluteError", {}, "regression"),
    ("MeanAbsolutePercentageError", {}, "regression"),
    ("MeanSquaredLogarithmicError", {}, "regression"),
    ("RootMeanSquaredError", {}, "regression"),
    ("LogCoshError", {}, "regression"),
    ("CosineSimilarity", {}, "regression"),
    ("R2Score", {}, "regression"),
    ("R2Score", {"class_aggregation": "variance_weighted_average", "num_regressors": 2}, "regression"),
    ("BinaryCrossentropy", {"label_smoothing": 0.1}, "binary"),
    ("BinaryCrossentropy", {"from_logits": True}, "binary_logits"),
    ("CategoricalCrossentropy", {"label_smoothing": 0.2}, "onehot"),
    ("SparseCategoricalCrossentropy", {}, "sparse"),
    ("SparseCategoricalCrossentropy", {"from_logits": True, "ignore_class": 2}, "sparse_logits"),
    ("KLDivergence", {}, "onehot"),
    ("Poisson", {}, "regression"),
    ("Hinge", {}, "hinge"),
    ("SquaredHinge", {}, "hinge"),
    ("CategoricalHinge", {}, "onehot"),
    ("TruePositives", {}, "binary"),
    ("FalsePositives", {"thresholds": [0.3, 0.6]}, "multilabel"),
    ("TrueNegatives", {"thresholds": [0.0, 0.25, 0.5, 0.75, 1.0]}, "multilabel"),
    ("FalseNegatives", {}, "multilabel"),
    ("Precision", {}, "binary"),
    ("Precision", {"top_k": 2}, "multilabel"),
    ("Recall", {"thresholds": [0.2, 0.7], "class_id": 1}, "multilabel"),
    ("AUC", {}, "binary"),
    ("AUC", {"curve": "PR"}, "multilabel"),
    ("AUC", {"summation_method": "minoring", "num_thresholds": 50}, "multilabel"),
    ("AUC", {"curve": "PR", "summation_method": "majoring"}, "binary"),
    ("AUC", {"multi_label": True, "label_weights": [1.0, 2.0, 0.5]}, "multilabel"),
    ("AUC", {"thresholds": [0.1, 0.5, 0.8], "from_logits": True}, "binary_logits"),
    ("PrecisionAtRecall", {"recall": 0.5}, "binary"),
    ("RecallAtPrecision", {"precision": 0.6}, "multilabel"),
    ("SensitivityAtSpecificity", {"specificity": 0.4, "num_thresholds": 20}, "binary"),
    ("SpecificityAtSensitivity", {"sensitivity": 0.7, "class_id": 2}, "multilabel"),
    ("MeanIoU", {"num_classes": 3}, "segmentation"),
    ("IoU", {"num_classes": 3, "target_class_ids": [0, 2], "ignore_class": 1}, "segmentation"),
    ("BinaryIoU", {"threshold": 0.3}, "multilabel"),
    ("F1Score", {"average": "macro"}, "onehot"),
    ("FBetaScore", {"beta": 2.0, "threshold": 0.5, "average": "weighted"}, "multilabel"),
    ("F1Score", {"average": "micro", "threshold": 0.4}, "multilabel"),
]


@pytest.mark.parametrize("class_name,kwargs,kind", CASES, ids=[f"{c}-{i}" for i, (c, _, _) in enumerate(CASES)])
@pytest.mark.filterwarnings("ignore:More independent predictors:UserWarning")  # Keras's, at reset
def test_values_match_keras(class_name, kwargs, kind):
    rng = np.random.default_rng(7)
    with kbridge.backend.use("numpy"):
        ours = getattr(kb_metrics, class_name)(**kwargs)
    theirs = getattr(keras.metrics, class_name)(**kwargs)
    weights_ignored = class_name in ("MeanIoU", "IoU", "BinaryIoU")  # int state: float weights truncate
    # Without weights Keras 3 counts ignored-class entries as zeros of the mean (with weights it
    # leaves them out); kbridge always leaves them out, so only weighted updates compare.
    always_weighted = "ignore_class" in kwargs and class_name == "SparseCategoricalCrossentropy"
    for step in range(3):
        args, sample_weight = _batch(kind, rng)
        if (step == 1 and not always_weighted) or weights_ignored:
            sample_weight = None
        ours.update_state(*args, sample_weight=sample_weight)
        theirs.update_state(*args, sample_weight=sample_weight)
        np.testing.assert_allclose(
            np.asarray(ours.result()), keras.ops.convert_to_numpy(theirs.result()), rtol=1e-5, atol=1e-6,
            err_msg=f"{class_name}{kwargs} after update {step}",
        )  # fmt: skip
    assert [v.name for v in ours.variables] == [v.name for v in theirs.variables]
    assert [v.shape for v in ours.variables] == [tuple(v.shape) for v in theirs.variables]
    ours.reset_state()
    theirs.reset_state()
    np.testing.assert_allclose(np.asarray(ours.result()), keras.ops.convert_to_numpy(theirs.result()), atol=1e-6)


@pytest.mark.parametrize("class_name,kwargs,kind", CASES, ids=[f"{c}-{i}" for i, (c, _, _) in enumerate(CASES)])
def test_config_matches_keras(class_name, kwargs, kind):
    with kbridge.backend.use("numpy"):
        ours = getattr(kb_metrics, class_name)(name="m", **kwargs)
    theirs = getattr(keras.metrics, class_name)(name="m", **kwargs)
    ours_config, theirs_config = ours.get_config(), theirs.get_config()
    if theirs_config["dtype"] == "int64":
        theirs_config["dtype"] = "int32"  # Keras's "int" is int64 on TensorFlow only; kbridge uses int32 everywhere
    if "label_weights" in theirs_config and theirs_config["label_weights"] is not None:
        theirs_config["label_weights"] = keras.ops.convert_to_numpy(theirs_config["label_weights"]).tolist()
    assert ours_config == theirs_config


@pytest.mark.parametrize("class_name,kwargs,kind", CASES[::4], ids=[c for c, _, _ in CASES[::4]])
def test_keras_configs_load_in_kbridge(class_name, kwargs, kind):
    theirs = getattr(keras.metrics, class_name)(name="from_keras", **kwargs)
    config = keras.saving.serialize_keras_object(theirs)
    ours = kb_metrics.deserialize(config)
    assert type(ours).__name__ == class_name and ours.name == "from_keras"
    back = keras.saving.deserialize_keras_object(kb_metrics.serialize(ours))
    assert type(back).__name__ == class_name and back.get_config() == theirs.get_config()


def test_shortcut_resolution_matches_keras():
    from keras.src.trainers import compile_utils

    shapes = [((8, 1), (8, 1)), ((8,), (8, 4)), ((8, 1), (8, 4)), ((8, 4), (8, 4)), ((8, 3, 1), (8, 3, 5))]
    for true_shape, pred_shape in shapes:
        y_true, y_pred = np.zeros(true_shape, "float32"), np.zeros(pred_shape, "float32")
        for identifier in ["accuracy", "acc", "mse", "mae", "AUC", "binary_crossentropy", "mape"]:
            ours = kb_metrics.shortcuts.resolve_metric(identifier, y_true, y_pred)
            theirs = compile_utils.get_metric(identifier, y_true, y_pred)
            assert (type(ours).__name__, ours.name) == (type(theirs).__name__, theirs.name), (identifier, true_shape)
        theirs_loss = compile_utils.get_loss("ce", y_true, y_pred).fn.__name__
        assert kb_metrics.shortcuts.crossentropy_loss_name(y_true, y_pred) == theirs_loss


@pytest.mark.parametrize("fn_name", ["binary_accuracy", "mean_squared_error", "categorical_hinge"])
def test_keras_mean_metric_wrapper_configs_load(fn_name):
    fn = getattr(keras.metrics, fn_name)
    theirs = keras.metrics.MeanMetricWrapper(fn=fn, name="wrapped")
    ours = kb_metrics.deserialize(keras.saving.serialize_keras_object(theirs))
    assert type(ours) is kb_metrics.MeanMetricWrapper and ours._fn is getattr(kb_metrics, fn_name)
    y_true = np.array([[1.0, 0.0], [0.0, 1.0]], "float32")
    y_pred = np.array([[0.8, 0.3], [0.6, 0.9]], "float32")
    theirs.update_state(y_true, y_pred)
    ours.update_state(y_true, y_pred)
    np.testing.assert_allclose(np.asarray(ours.result()), keras.ops.convert_to_numpy(theirs.result()), rtol=1e-6)
