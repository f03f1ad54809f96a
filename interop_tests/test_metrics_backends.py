"""Every metric on numpy, jax, torch and tensorflow: same values (1e-5), stateless updates
under `jax.jit`, stateful updates inside `tf.function` and `torch.compile(fullgraph=True)`."""

import numpy as np
import pytest

import kbridge
from kbridge import metrics as M
from kbridge.backend import registry


def _softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return (e / e.sum(-1, keepdims=True)).astype("float32")


def _batch(kind, seed, n=8):
    """(y_true, y_pred) NumPy arrays of one batch."""
    rng = np.random.default_rng(seed)
    f32 = np.float32
    if kind == "values":
        return (rng.normal(size=(n, 3)).astype(f32),)
    if kind == "binary":
        return rng.integers(0, 2, (n, 1)).astype(f32), rng.uniform(size=(n, 1)).astype(f32)
    if kind == "logits":
        return rng.integers(0, 2, (n, 1)).astype(f32), rng.normal(size=(n, 1)).astype(f32)
    if kind == "multilabel":
        y_pred = rng.uniform(size=(n, 3)).astype(f32)
        y_pred[0, 0], y_pred[1, 1] = 0.0, 1.0
        return rng.integers(0, 2, (n, 3)).astype(f32), y_pred
    if kind == "onehot":
        return np.eye(4, dtype=f32)[rng.integers(0, 4, n)], _softmax(rng.normal(size=(n, 4)))
    if kind == "sparse":
        return rng.integers(0, 4, (n,)).astype("int32"), _softmax(rng.normal(size=(n, 4)))
    if kind == "regression":
        return rng.uniform(0.1, 2, (n, 3)).astype(f32), rng.uniform(0.1, 2, (n, 3)).astype(f32)
    if kind == "hinge":
        return rng.choice([-1.0, 1.0], (n, 3)).astype(f32), rng.normal(size=(n, 3)).astype(f32)
    if kind == "segmentation":
        return rng.integers(0, 3, (n, 5)).astype("int32"), rng.integers(0, 3, (n, 5)).astype("int32")
    raise AssertionError(kind)


CASES = [
    (M.Mean, "values"), (M.Sum, "values"),
    (M.Accuracy, "segmentation"), (M.BinaryAccuracy, "binary"), (M.CategoricalAccuracy, "onehot"),
    (M.SparseCategoricalAccuracy, "sparse"), (lambda: M.TopKCategoricalAccuracy(k=2), "onehot"),
    (lambda: M.SparseTopKCategoricalAccuracy(k=2), "sparse"),
    (M.MeanSquaredError, "regression"), (M.MeanAbsoluteError, "regression"),
    (M.MeanAbsolutePercentageError, "regression"), (M.MeanSquaredLogarithmicError, "regression"),
    (M.RootMeanSquaredError, "regression"), (M.LogCoshError, "regression"), (M.CosineSimilarity, "regression"),
    (M.R2Score, "regression"),
    (lambda: M.BinaryCrossentropy(label_smoothing=0.1), "binary"), (lambda: M.BinaryCrossentropy(from_logits=True), "logits"),
    (lambda: M.CategoricalCrossentropy(label_smoothing=0.1), "onehot"),
    (M.SparseCategoricalCrossentropy, "sparse"), (lambda: M.SparseCategoricalCrossentropy(ignore_class=1), "sparse"),
    (M.KLDivergence, "onehot"), (M.Poisson, "regression"),
    (M.Hinge, "hinge"), (M.SquaredHinge, "hinge"), (M.CategoricalHinge, "onehot"),
    (M.TruePositives, "binary"), (lambda: M.FalsePositives(thresholds=[0.2, 0.7]), "multilabel"),
    (lambda: M.TrueNegatives(thresholds=[0.0, 0.25, 0.5, 0.75, 1.0]), "multilabel"), (M.FalseNegatives, "multilabel"),
    (M.Precision, "binary"), (lambda: M.Precision(top_k=2), "multilabel"),
    (lambda: M.Recall(thresholds=[0.3, 0.6], class_id=2), "multilabel"),
    (M.AUC, "multilabel"), (lambda: M.AUC(curve="PR"), "binary"),
    (lambda: M.AUC(multi_label=True, summation_method="majoring"), "multilabel"),
    (lambda: M.AUC(thresholds=[0.2, 0.5], from_logits=True), "logits"),
    (lambda: M.PrecisionAtRecall(0.5), "binary"), (lambda: M.RecallAtPrecision(0.5), "multilabel"),
    (lambda: M.SensitivityAtSpecificity(0.5), "multilabel"), (lambda: M.SpecificityAtSensitivity(0.5), "binary"),
    (lambda: M.MeanIoU(3), "segmentation"), (lambda: M.IoU(3, [0, 2], ignore_class=1), "segmentation"),
    (M.BinaryIoU, "multilabel"),
    (lambda: M.F1Score(average="macro"), "onehot"), (lambda: M.FBetaScore(beta=2.0, threshold=0.5), "multilabel"),
]  # fmt: skip
IDS = [f"{i}-{kind}" for i, (_, kind) in enumerate(CASES)]
_INT_STATE = (M.MeanIoU, M.IoU, M.BinaryIoU)  # float weights would truncate to 0/1/2


def _weight(metric, seed, shape=(8,)):
    weight = np.random.default_rng(seed).uniform(0.5, 2.0, shape).astype("float32")
    return np.round(weight).astype("int32") if isinstance(metric, _INT_STATE) else weight


def _updates(metric, kind):
    """Two updates: the first weighted, the second not."""
    first = _batch(kind, 1)
    # The IoU metrics weigh every entry (pixel), the others every sample.
    shape = first[0].shape if isinstance(metric, _INT_STATE) else first[0].shape[:1]
    return [(first, _weight(metric, 1, shape)), (_batch(kind, 2), None)]


def _numpy_reference(make, kind):
    with kbridge.backend.use("numpy"):
        metric = make()
    for args, weight in _updates(metric, kind):
        metric.update_state(*args, sample_weight=weight)
    return np.asarray(metric.result())


def _require(name):
    if not registry.is_installed(name):
        pytest.skip(f"{name} is not installed")
    return registry.get(name)


@pytest.mark.parametrize("backend_name", ["torch", "tensorflow"])
@pytest.mark.parametrize("make,kind", CASES, ids=IDS)
def test_eager_backends_agree_with_numpy(make, kind, backend_name):
    module = _require(backend_name)
    with kbridge.backend.use(backend_name):
        metric = make()
    for args, weight in _updates(metric, kind):
        metric.update_state(*(module.convert_to_tensor(a) for a in args), sample_weight=weight)
    assert {v.backend for v in metric.variables} == {backend_name}
    result = metric.result()
    assert isinstance(result, module.TENSOR_TYPES)
    np.testing.assert_allclose(module.convert_to_numpy(result), _numpy_reference(make, kind), rtol=1e-5, atol=1e-5)
    metric.reset_state()
    assert all(not np.any(v.numpy()) for v in metric.variables)


@pytest.mark.parametrize("make,kind", CASES, ids=IDS)
def test_stateless_updates_under_jax_jit(make, kind):
    _require("jax")
    import jax

    with kbridge.backend.use("jax"):
        metric = make()
    (first, weight), (second, _) = _updates(metric, kind)

    @jax.jit
    def run(values, first, weight, second):
        # A metric that creates its state on first use (R2Score, F1Score) does so while tracing.
        values = metric.stateless_update_state(values, *first, sample_weight=weight)
        values = metric.stateless_update_state(values, *second)
        return values, metric.stateless_result(values)

    before = [v.numpy() for v in metric.variables]
    values, result = run([v.value for v in metric.variables], first, weight, second)
    assert all(np.array_equal(v.numpy(), b) for v, b in zip(metric.variables, before))  # untouched
    assert [str(v.dtype) for v in values] == [v.dtype for v in metric.variables]
    np.testing.assert_allclose(np.asarray(result), _numpy_reference(make, kind), rtol=1e-5, atol=1e-5)
    assert all(not np.any(np.asarray(v)) for v in metric.stateless_reset_state())


def test_jax_stateful_api_matches_jitted_stateless():
    _require("jax")
    import jax

    with kbridge.backend.use("jax"):
        auc, mean = M.AUC(num_thresholds=20), M.Mean()
    y_true, y_pred = _batch("multilabel", 3)
    weight = _weight(auc, 3)
    auc.update_state(y_true, y_pred, sample_weight=weight)
    mean.update_state(y_pred, sample_weight=weight)
    update_auc = jax.jit(lambda v, a, b, w: auc.stateless_update_state(v, a, b, sample_weight=w))
    update_mean = jax.jit(lambda v, x, w: mean.stateless_update_state(v, x, sample_weight=w))
    auc_values = update_auc(auc.stateless_reset_state(), y_true, y_pred, weight)
    mean_values = update_mean(mean.stateless_reset_state(), y_pred, weight)
    for ours, theirs in zip(auc_values + mean_values, auc.variables + mean.variables):
        np.testing.assert_allclose(np.asarray(ours), theirs.numpy(), rtol=1e-6, atol=1e-5)
    np.testing.assert_allclose(np.asarray(auc.stateless_result(auc_values)), np.asarray(auc.result()), rtol=1e-5)
    assert float(mean.stateless_result(mean_values)) == pytest.approx(float(mean.result()))


def test_metrics_inside_tf_function():
    _require("tensorflow")
    import tensorflow as tf

    with kbridge.backend.use("tensorflow"):
        made = {"mean": M.Mean(), "auc": M.AUC(), "precision": M.Precision(thresholds=[0.3, 0.6]),
                "r2": M.R2Score(), "iou": M.MeanIoU(2)}  # fmt: skip

    @tf.function
    def step(y_true, y_pred, weight):
        made["mean"].update_state(y_pred, sample_weight=weight)
        made["auc"].update_state(y_true, y_pred, sample_weight=weight)
        made["precision"].update_state(y_true, y_pred)
        made["r2"].update_state(y_true, y_pred, sample_weight=weight)  # state created while tracing
        made["iou"].update_state(y_true, tf.cast(y_pred > 0.5, "int32"))
        return {name: m.result() for name, m in made.items()}

    batches = [_batch("multilabel", seed) + (_weight(made["mean"], seed),) for seed in (4, 5)]
    for batch in batches:
        out = step(*(tf.constant(a) for a in batch))
    with kbridge.backend.use("numpy"):
        ref = {"mean": M.Mean(), "auc": M.AUC(), "precision": M.Precision(thresholds=[0.3, 0.6]),
               "r2": M.R2Score(), "iou": M.MeanIoU(2)}  # fmt: skip
    for y_true, y_pred, weight in batches:
        ref["mean"].update_state(y_pred, sample_weight=weight)
        ref["auc"].update_state(y_true, y_pred, sample_weight=weight)
        ref["precision"].update_state(y_true, y_pred)
        ref["r2"].update_state(y_true, y_pred, sample_weight=weight)
        ref["iou"].update_state(y_true, (y_pred > 0.5).astype("int32"))
    for name in made:
        np.testing.assert_allclose(out[name].numpy(), np.asarray(ref[name].result()), rtol=1e-5, err_msg=name)
        np.testing.assert_allclose(made[name].result().numpy(), out[name].numpy(), rtol=1e-6)


def test_metrics_under_torch_compile_fullgraph():
    _require("torch")
    import torch

    with kbridge.backend.use("torch"):
        mean, accuracy, auc = M.Mean(), M.SparseCategoricalAccuracy(), M.AUC(num_thresholds=50)

    def step(y_true, y_pred, weight):
        mean.update_state(y_pred, sample_weight=weight)
        accuracy.update_state(torch.argmax(y_true, -1), y_pred)
        auc.update_state(y_true, torch.sigmoid(y_pred), sample_weight=weight)
        return mean.result(), accuracy.result(), auc.result()

    # aot_eager: dynamo must capture one graph (fullgraph) and AOT functionalizes the
    # in-place variable updates; inductor's code generation would only add minutes.
    compiled = torch.compile(step, fullgraph=True, backend="aot_eager")
    batches = [(torch.tensor(_batch("hinge", s)[0] > 0).float(), torch.tensor(_batch("hinge", s)[1]),
                torch.tensor(_weight(mean, s))) for s in (6, 7)]  # fmt: skip
    for batch in batches:
        out = compiled(*batch)
    with kbridge.backend.use("torch"):
        refs = M.Mean(), M.SparseCategoricalAccuracy(), M.AUC(num_thresholds=50)
    for y_true, y_pred, weight in batches:
        refs[0].update_state(y_pred, sample_weight=weight)
        refs[1].update_state(torch.argmax(y_true, -1), y_pred)
        refs[2].update_state(y_true, torch.sigmoid(y_pred), sample_weight=weight)
    for got, ref in zip(out, refs):
        np.testing.assert_allclose(got.numpy(), ref.result().numpy(), rtol=1e-6)
    assert float(mean.count.numpy()) == pytest.approx(float(sum(w.sum() for _, _, w in batches)), rel=1e-6)


def test_moving_state_between_backends():
    _require("torch")
    with kbridge.backend.use("numpy"):
        metric, moved_one_by_one = M.Mean(), M.Precision(thresholds=[0.5, 0.8])
    metric.update_state([1.0, 2.0])
    metric.to_backend("torch")
    assert metric.backend == "torch" and metric.total.backend == "torch"
    metric.update_state([6.0])
    assert float(metric.result()) == 3.0
    for variable in moved_one_by_one.variables:  # as a trainer moving every variable might
        variable.to_backend("torch")
    moved_one_by_one.update_state([1.0, 0.0, 1.0], [0.9, 0.6, 0.4])
    assert isinstance(moved_one_by_one.result(), registry.get("torch").TENSOR_TYPES)
    np.testing.assert_allclose(moved_one_by_one.result().numpy(), [0.5, 1.0])
