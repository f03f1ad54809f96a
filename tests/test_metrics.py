"""Metrics on the NumPy backend against NumPy references: values over several weighted
updates, reset, configs, lookup, the compile shortcuts and errors."""

import numpy as np
import pytest

import kbridge
from kbridge import metrics
from kbridge.metrics import shortcuts

EPS = 1e-7


@pytest.fixture(autouse=True)
def _numpy_backend():
    with kbridge.backend.use("numpy"):
        yield


def _softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def _data(kind, rng, n=6):
    f32 = np.float32
    if kind == "binary":
        return rng.integers(0, 2, (n, 1)).astype(f32), rng.uniform(size=(n, 1)).astype(f32)
    if kind == "multilabel":
        return rng.integers(0, 2, (n, 3)).astype(f32), rng.uniform(size=(n, 3)).astype(f32)
    if kind == "onehot":
        return np.eye(4, dtype=f32)[rng.integers(0, 4, n)], _softmax(rng.normal(size=(n, 4))).astype(f32)
    if kind == "sparse":
        return rng.integers(0, 4, (n,)).astype("int32"), _softmax(rng.normal(size=(n, 4))).astype(f32)
    if kind == "regression":
        return rng.uniform(0.1, 2, (n, 3)).astype(f32), rng.uniform(0.1, 2, (n, 3)).astype(f32)
    if kind == "hinge":
        return rng.choice([-1.0, 1.0], (n, 3)).astype(f32), rng.normal(size=(n, 3)).astype(f32)
    raise AssertionError(kind)


def _norm(x):
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-12)


def _clip(p):
    return np.clip(p, EPS, 1 - EPS)


def _rank(y_true_ids, y_pred):
    return (y_pred > np.take_along_axis(y_pred, y_true_ids[:, None], -1)).sum(-1)


# Per-sample NumPy references: (metric, fn(y_true, y_pred) -> one value per sample, data kind).
PER_SAMPLE = [
    (lambda: metrics.BinaryAccuracy(threshold=0.3), lambda t, p: (t == (p > 0.3)).mean(-1), "binary"),
    (metrics.CategoricalAccuracy, lambda t, p: t.argmax(-1) == p.argmax(-1), "onehot"),
    (metrics.SparseCategoricalAccuracy, lambda t, p: t == p.argmax(-1), "sparse"),
    (lambda: metrics.TopKCategoricalAccuracy(k=2), lambda t, p: _rank(t.argmax(-1), p) < 2, "onehot"),
    (lambda: metrics.SparseTopKCategoricalAccuracy(k=3), lambda t, p: _rank(t, p) < 3, "sparse"),
    (metrics.MeanSquaredError, lambda t, p: ((t - p) ** 2).mean(-1), "regression"),
    (metrics.MeanAbsoluteError, lambda t, p: np.abs(t - p).mean(-1), "regression"),
    (metrics.MeanAbsolutePercentageError, lambda t, p: 100 * np.abs((t - p) / t).mean(-1), "regression"),
    (metrics.MeanSquaredLogarithmicError, lambda t, p: ((np.log1p(p) - np.log1p(t)) ** 2).mean(-1), "regression"),
    (metrics.LogCoshError, lambda t, p: np.log(np.cosh(p - t)).mean(-1), "regression"),
    (metrics.CosineSimilarity, lambda t, p: (_norm(t) * _norm(p)).sum(-1), "regression"),
    (metrics.KLDivergence, lambda t, p: (np.clip(t, EPS, 1) * np.log(np.clip(t, EPS, 1) / np.clip(p, EPS, 1))).sum(-1), "onehot"),
    (metrics.Poisson, lambda t, p: (p - t * np.log(p + EPS)).mean(-1), "regression"),
    (metrics.Hinge, lambda t, p: np.maximum(1 - t * p, 0).mean(-1), "hinge"),
    (metrics.SquaredHinge, lambda t, p: (np.maximum(1 - t * p, 0) ** 2).mean(-1), "hinge"),
    (metrics.CategoricalHinge, lambda t, p: np.maximum(((1 - t) * p).max(-1) - (t * p).sum(-1) + 1, 0), "onehot"),
    (metrics.BinaryCrossentropy, lambda t, p: -(t * np.log(_clip(p)) + (1 - t) * np.log(_clip(1 - p))).mean(-1), "binary"),
    (lambda: metrics.BinaryCrossentropy(label_smoothing=0.2),
     lambda t, p: -((t * 0.8 + 0.1) * np.log(_clip(p)) + (0.9 - 0.8 * t) * np.log(_clip(1 - p))).mean(-1), "binary"),
    (metrics.CategoricalCrossentropy, lambda t, p: -(t * np.log(_clip(p))).sum(-1), "onehot"),
    (lambda: metrics.CategoricalCrossentropy(label_smoothing=0.4),
     lambda t, p: -((t * 0.6 + 0.1) * np.log(_clip(p))).sum(-1), "onehot"),
    (metrics.SparseCategoricalCrossentropy, lambda t, p: -np.log(_clip(np.take_along_axis(p, t[:, None], -1)[:, 0])), "sparse"),
]  # fmt: skip


@pytest.mark.parametrize("make,reference,kind", PER_SAMPLE, ids=[str(i) for i in range(len(PER_SAMPLE))])
def test_mean_metrics_match_numpy_over_weighted_updates(make, reference, kind):
    rng = np.random.default_rng(3)
    metric = make()
    values, weights = [], []
    for step in range(3):
        y_true, y_pred = _data(kind, rng)
        weight = None if step == 1 else rng.uniform(0, 2, len(y_true)).astype("float32")
        metric.update_state(y_true, y_pred, sample_weight=weight)
        values.append(reference(y_true, y_pred).astype("float64"))
        weights.append(np.ones(len(y_true)) if weight is None else weight)
        expected = np.sum(np.concatenate(values) * np.concatenate(weights)) / np.sum(np.concatenate(weights))
        np.testing.assert_allclose(metric.result(), expected, rtol=1e-5, atol=1e-6)
    metric.reset_state()
    assert float(metric.result()) == 0.0
    assert [v.name for v in metric.variables] == ["total", "count"]


def test_mean_and_sum_reduce_to_samples_before_weighting():
    mean, total = metrics.Mean(), metrics.Sum()
    values = np.array([[1.0, 3.0], [5.0, 7.0], [2.0, 2.0]], "float32")
    mean.update_state(values, sample_weight=[1.0, 0.0, 2.0])
    total.update_state(values, sample_weight=[1.0, 0.0, 2.0])
    assert float(mean.result()) == pytest.approx((2 * 1 + 2 * 2) / 3)  # per-sample means 2, 6, 2
    assert float(total.result()) == pytest.approx(1 * 4 + 2 * 4)
    mean.update_state(10.0)
    assert float(mean.result()) == pytest.approx((6 + 10) / 4)
    # Per-element weights: values reduced to the weight's rank, weights summed per sample.
    mean.reset_state()
    mean.update_state(values, sample_weight=np.array([[1.0, 0.0], [0.0, 0.0], [1.0, 1.0]], "float32"))
    assert float(mean.result()) == pytest.approx((1 + 2 + 2) / 3)
    assert float(metrics.Mean()([1, 3, 5, 7])) == 4.0


def test_root_mean_squared_error_is_sqrt_of_weighted_mse():
    m = metrics.RootMeanSquaredError()
    m.update_state([[1.0], [2.0], [3.0]], [[1.5], [2.0], [1.0]], sample_weight=[1.0, 1.0, 2.0])
    m.update_state([4.0], [[3.0]])
    assert float(m.result()) == pytest.approx(np.sqrt((0.25 + 0 + 8 + 1) / 5), rel=1e-6)


def test_sparse_crossentropy_ignore_class_leaves_entries_out():
    m = metrics.SparseCategoricalCrossentropy(ignore_class=2)
    y_true = np.array([0, 2, 1, 2])
    y_pred = np.array([[0.7, 0.2, 0.1], [0.2, 0.2, 0.6], [0.1, 0.8, 0.1], [0.3, 0.3, 0.4]], "float32")
    m.update_state(y_true, y_pred)
    assert float(m.count.numpy()) == 2.0
    assert float(m.result()) == pytest.approx(-(np.log(0.7) + np.log(0.8)) / 2, rel=1e-5)
    m.update_state(y_true, y_pred, sample_weight=[2.0, 5.0, 0.0, 5.0])
    assert float(m.count.numpy()) == 4.0


def test_accuracy_metrics_edge_shapes():
    acc = metrics.Accuracy()
    acc.update_state([[1], [2], [3], [4]], [[0], [2], [3], [4]])
    assert float(acc.result()) == 0.75
    sparse = metrics.SparseCategoricalAccuracy()
    sparse.update_state([[2], [1]], [[0.1, 0.6, 0.3], [0.05, 0.95, 0]])  # labels with a trailing 1
    assert float(sparse.result()) == 0.5
    top = metrics.SparseTopKCategoricalAccuracy(k=1, from_sorted_ids=True)
    top.update_state([2, 1], [[2, 0, 1], [0, 1, 2]])
    assert float(top.result()) == 0.5


# -- confusion metrics --------------------------------------------------------------------


def _counts(y_true, y_pred, weight, thresholds):
    w = np.broadcast_to(weight.reshape(-1, *([1] * (y_pred.ndim - 1))), y_pred.shape).ravel()
    t, p = y_true.ravel() > 0, y_pred.ravel()
    pos = p[None, :] > np.asarray(thresholds)[:, None]
    return {
        "tp": (w * (t & pos)).sum(1), "fp": (w * (~t & pos)).sum(1),
        "tn": (w * (~t & ~pos)).sum(1), "fn": (w * (t & ~pos)).sum(1),
    }  # fmt: skip


def _updates(kind, rng, steps=3):
    for step in range(steps):
        y_true, y_pred = _data(kind, rng, n=10)
        if step == 0:
            y_pred.flat[:2] = [0.0, 1.0]  # predictions on the edges of the threshold range
        weight = rng.uniform(0, 2, len(y_true)).astype("float32")
        yield y_true, y_pred, weight


@pytest.mark.parametrize("thresholds", [None, 0.7, [0.1, 0.5, 0.9], [0.0, 0.25, 0.5, 0.75, 1.0]])
def test_confusion_counts_match_numpy(thresholds):
    rng = np.random.default_rng(5)
    classes = {"tp": metrics.TruePositives, "fp": metrics.FalsePositives,
               "tn": metrics.TrueNegatives, "fn": metrics.FalseNegatives}  # fmt: skip
    made = {key: cls(thresholds=thresholds) for key, cls in classes.items()}
    expected = {key: 0.0 for key in classes}
    listed = [0.5] if thresholds is None else np.atleast_1d(thresholds)
    for y_true, y_pred, weight in _updates("multilabel", rng):
        counts = _counts(y_true, y_pred, weight, listed)
        for key, metric in made.items():
            metric.update_state(y_true, y_pred, sample_weight=weight)
            expected[key] = expected[key] + counts[key]
    for key, metric in made.items():
        want = expected[key][0] if len(listed) == 1 else expected[key]
        np.testing.assert_allclose(metric.result(), want, rtol=1e-5, atol=1e-5, err_msg=key)


def test_precision_recall_thresholds_top_k_class_id():
    rng = np.random.default_rng(9)
    precision = metrics.Precision(thresholds=[0.3, 0.6])
    recall = metrics.Recall(class_id=1)
    top = metrics.Precision(top_k=2)
    tp = fp = 0.0
    total = {"p": np.zeros(2), "pd": np.zeros(2), "r_tp": 0.0, "r_fn": 0.0}
    for y_true, y_pred, weight in _updates("multilabel", rng):
        for m in (precision, recall, top):
            m.update_state(y_true, y_pred, sample_weight=weight)
        c = _counts(y_true, y_pred, weight, [0.3, 0.6])
        total["p"] += c["tp"]
        total["pd"] += c["tp"] + c["fp"]
        c1 = _counts(y_true[:, 1:2], y_pred[:, 1:2], weight, [0.5])
        total["r_tp"] += c1["tp"][0]
        total["r_fn"] += c1["fn"][0]
        in_top = np.argsort(-y_pred, axis=1)[:, :2]
        mask = np.zeros_like(y_pred, bool)
        np.put_along_axis(mask, in_top, True, axis=1)
        tp += (weight[:, None] * (mask & (y_true > 0))).sum()
        fp += (weight[:, None] * (mask & (y_true == 0))).sum()
    np.testing.assert_allclose(precision.result(), total["p"] / total["pd"], rtol=1e-5)
    assert float(recall.result()) == pytest.approx(total["r_tp"] / (total["r_tp"] + total["r_fn"]), rel=1e-5)
    assert float(top.result()) == pytest.approx(tp / (tp + fp), rel=1e-5)
    precision.reset_state()
    np.testing.assert_array_equal(precision.result(), [0.0, 0.0])


def _auc_reference(y_true, y_pred, weight, num_thresholds=200, multi_label=False):
    inner = [(i + 1) / (num_thresholds - 1) for i in range(num_thresholds - 2)]
    thresholds = [-EPS] + inner + [1 + EPS]
    if multi_label:
        return np.mean([_auc_reference(y_true[:, j], y_pred[:, j], weight, num_thresholds) for j in range(y_true.shape[1])])
    c = _counts(y_true, y_pred, weight, thresholds)
    tpr = c["tp"] / np.maximum(c["tp"] + c["fn"], 1e-30)
    fpr = c["fp"] / np.maximum(c["fp"] + c["tn"], 1e-30)
    return np.sum((fpr[:-1] - fpr[1:]) * (tpr[:-1] + tpr[1:]) / 2)


@pytest.mark.parametrize("multi_label", [False, True])
def test_auc_roc_matches_numpy_riemann_sum(multi_label):
    rng = np.random.default_rng(11)
    auc = metrics.AUC(multi_label=multi_label, num_thresholds=50)
    batches = list(_updates("multilabel", rng))
    for y_true, y_pred, weight in batches:
        auc.update_state(y_true, y_pred, sample_weight=weight)
    y_true, y_pred, weight = (np.concatenate(parts) for parts in zip(*batches))
    expected = _auc_reference(y_true, y_pred, weight, 50, multi_label)
    assert float(auc.result()) == pytest.approx(expected, rel=1e-5)


def test_auc_limits_curves_and_logits():
    y_true = np.array([0, 0, 1, 1, 0, 1], "float32")
    scores = np.array([0.1, 0.3, 0.35, 0.8, 0.2, 0.9], "float32")
    for curve in ["ROC", "PR"]:
        assert float(metrics.AUC(curve=curve)(y_true, scores)) == pytest.approx(1.0, abs=1e-3)
    assert float(metrics.AUC()(y_true, 1 - scores)) == pytest.approx(0.0, abs=1e-3)
    logits = np.log(scores / (1 - scores))
    assert float(metrics.AUC(from_logits=True)(y_true, logits)) == pytest.approx(float(metrics.AUC()(y_true, scores)))
    noisy = np.array([0.6, 0.3, 0.35, 0.8, 0.2, 0.4], "float32")
    low = float(metrics.AUC(curve="PR", summation_method="minoring")(y_true, noisy))
    high = float(metrics.AUC(curve="PR", summation_method="majoring")(y_true, noisy))
    assert low < high
    explicit = metrics.AUC(thresholds=[0.25, 0.5, 0.75])
    assert explicit.num_thresholds == 5 and explicit.thresholds[1:-1] == [0.25, 0.5, 0.75]
    # With many thresholds the ROC AUC approaches the exact P(positive score > negative score).
    exact = np.mean([a > b for a in noisy[y_true == 1] for b in noisy[y_true == 0]])
    assert float(metrics.AUC(num_thresholds=1000)(y_true, noisy)) == pytest.approx(exact, abs=1e-2)


def test_rate_at_rate_metrics():
    y_true = np.array([0, 0, 0, 0, 1, 1, 1, 1], "float32")
    y_pred = np.array([0.1, 0.2, 0.3, 0.7, 0.4, 0.6, 0.8, 0.9], "float32")
    # Thresholds above 0.3 and below 0.4 give specificity 0.75 at sensitivity 1.
    assert float(metrics.SensitivityAtSpecificity(0.75)(y_true, y_pred)) == pytest.approx(1.0)
    assert float(metrics.SpecificityAtSensitivity(1.0)(y_true, y_pred)) == pytest.approx(0.75)
    assert float(metrics.RecallAtPrecision(1.0)(y_true, y_pred)) == pytest.approx(0.5)
    assert float(metrics.PrecisionAtRecall(1.0)(y_true, y_pred)) == pytest.approx(0.8)


def test_iou_metrics_match_numpy_confusion_matrix():
    rng = np.random.default_rng(2)
    mean_iou, iou = metrics.MeanIoU(3), metrics.IoU(3, target_class_ids=[0, 2], ignore_class=1)
    cm, cm_ignore = np.zeros((3, 3)), np.zeros((3, 3))
    for _ in range(3):
        y_true, y_pred = rng.integers(0, 3, (4, 5)), rng.integers(0, 3, (4, 5))
        weight = rng.integers(0, 3, (4, 5))
        mean_iou.update_state(y_true, y_pred, sample_weight=weight)
        iou.update_state(y_true, y_pred)
        np.add.at(cm, (y_true.ravel(), y_pred.ravel()), weight.ravel())
        keep = y_true.ravel() != 1
        np.add.at(cm_ignore, (y_true.ravel()[keep], y_pred.ravel()[keep]), 1)

    def ious(c):
        return np.diag(c) / (c.sum(0) + c.sum(1) - np.diag(c))

    assert float(mean_iou.result()) == pytest.approx(ious(cm).mean(), rel=1e-5)
    assert float(iou.result()) == pytest.approx(ious(cm_ignore)[[0, 2]].mean(), rel=1e-5)
    assert mean_iou.total_cm.dtype == "int32"
    binary = metrics.BinaryIoU(target_class_ids=[1], threshold=0.5)
    binary.update_state([0, 1, 1, 0], [0.2, 0.7, 0.4, 0.6])
    assert float(binary.result()) == pytest.approx(1 / 3, rel=1e-5)


def test_r2_score_matches_numpy():
    rng = np.random.default_rng(4)
    y_true, y_pred = rng.normal(size=(12, 2)).astype("float32"), rng.normal(size=(12, 2)).astype("float32")
    weight = rng.uniform(0.5, 2, 12).astype("float32")
    r2, weighted = metrics.R2Score(), metrics.R2Score(class_aggregation=None)
    r2.update_state(y_true[:6], y_pred[:6], sample_weight=weight[:6])
    r2.update_state(y_true[6:], y_pred[6:], sample_weight=weight[6:])
    weighted.update_state(y_true, y_pred, sample_weight=weight)
    w = weight[:, None]
    mean = (w * y_true).sum(0) / w.sum()
    per_output = 1 - (w * (y_true - y_pred) ** 2).sum(0) / (w * (y_true - mean) ** 2).sum(0)
    assert float(r2.result()) == pytest.approx(per_output.mean(), rel=1e-4)
    np.testing.assert_allclose(weighted.result(), per_output, rtol=1e-4)
    adjusted = metrics.R2Score(num_regressors=3)
    adjusted.update_state(y_true, y_pred)
    plain = metrics.R2Score()
    plain.update_state(y_true, y_pred)
    n = 24.0  # every entry counts as a sample
    assert float(adjusted.result()) == pytest.approx(1 - (1 - float(plain.result())) * (n - 1) / (n - 3 - 1), rel=1e-5)


def test_f_scores_match_numpy():
    y_true = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 0, 0]], "float32")
    y_pred = np.array([[0.9, 0.1, 0.0], [0.6, 0.3, 0.1], [0.2, 0.2, 0.6], [0.5, 0.4, 0.1]], "float32")
    pred = (y_pred == y_pred.max(-1, keepdims=True)).astype("float32")
    tp, fp, fn = (pred * y_true).sum(0), (pred * (1 - y_true)).sum(0), ((1 - pred) * y_true).sum(0)
    p, r = tp / (tp + fp + EPS), tp / (tp + fn + EPS)
    f1 = 2 * p * r / (p + r + EPS)
    np.testing.assert_allclose(metrics.F1Score()(y_true, y_pred), f1, rtol=1e-5)
    assert float(metrics.F1Score(average="macro")(y_true, y_pred)) == pytest.approx(f1.mean(), rel=1e-5)
    weights = y_true.sum(0) / y_true.sum()
    assert float(metrics.F1Score(average="weighted")(y_true, y_pred)) == pytest.approx((f1 * weights).sum(), rel=1e-5)
    f2 = metrics.FBetaScore(beta=2.0, threshold=0.3, average="micro")
    f2.update_state(y_true, y_pred)
    pred = (y_pred > 0.3).astype("float32")
    tp, fp, fn = (pred * y_true).sum(), (pred * (1 - y_true)).sum(), ((1 - pred) * y_true).sum()
    p, r = tp / (tp + fp), tp / (tp + fn)
    assert float(f2.result()) == pytest.approx(5 * p * r / (4 * p + r), rel=1e-5)


# -- the Metric base and the stateless API ----------------------------------------------------


class _Counter(metrics.Metric):
    def __init__(self, name="counter", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.hits = self.add_variable(shape=(2,), initializer="zeros", name="hits")

    def update_state(self, y):
        from kbridge import ops

        self.hits.assign(ops.add(self.hits.value, ops.stack([ops.sum(y), ops.max(y)])))

    def result(self):
        from kbridge import ops

        return ops.sum(self.hits.value)


def test_custom_metric_variables_paths_and_tracking():
    m = _Counter()
    assert float(m([1.0, 2.0])) == 5.0
    assert m.hits.trainable is False and m.backend == "numpy"

    class Holder(kbridge.layers.Layer):
        def __init__(self):
            super().__init__()
            self.tracker = metrics.Mean(name="loss")
            self.scale = self.add_weight(shape=(), initializer="ones", name="scale")

    holder = Holder()
    assert [p for p, _ in holder.named_variables(include_all=True)] == ["scale", "tracker.total", "tracker.count"]
    assert holder.weights == [holder.scale] and holder.variables == [holder.scale]

    class Pair(metrics.Metric):
        def __init__(self):
            super().__init__(name="pair")
            self.inner = [metrics.Sum(), _Counter()]

        def update_state(self, y):
            for metric in self.inner:
                metric.update_state(y)

        def result(self):
            return self.inner[0].result()

    pair = Pair()
    assert [p for p, _ in pair.named_variables(include_all=True)] == ["inner.0.total", "inner.1.hits"]
    assert pair.variables == pair.inner[0].variables + pair.inner[1].variables
    new_values = pair.stateless_update_state([v.numpy() for v in pair.variables], [2.0, 3.0])
    assert [np.asarray(v).tolist() for v in new_values] == [5.0, [5.0, 3.0]]
    assert float(pair.stateless_result(new_values)) == 5.0 and float(pair.result()) == 0.0

    class Broken(metrics.Metric):
        def __init__(self):
            self.v = self.add_variable((), "zeros")

    with pytest.raises(RuntimeError, match="super"):
        Broken()


def test_stateless_api_leaves_variables_alone():
    m = metrics.Mean()
    m.update_state([1.0, 2.0])
    values = [v.numpy() for v in m.variables]
    new = m.stateless_update_state(values, [6.0], sample_weight=[2.0])
    assert [float(x) for x in new] == [15.0, 4.0]
    assert float(m.stateless_result(new)) == 3.75
    assert float(m.result()) == 1.5  # untouched
    assert [float(x) for x in m.stateless_reset_state()] == [0.0, 0.0]
    assert float(m.count.numpy()) == 2.0
    with pytest.raises(ValueError, match="one value per variable"):
        m.stateless_update_state(values[:1], [1.0])


def test_result_is_not_an_alias_of_state():
    s = metrics.Sum()
    s.update_state([1.0])
    first = s.result()
    s.update_state([5.0])
    assert float(first) == 1.0 and float(s.result()) == 6.0


# -- configs, lookup, shortcuts -----------------------------------------------------------------

CONFIGURED = [
    metrics.Mean(name="m"), metrics.Sum(dtype="float64"), metrics.Accuracy(), metrics.BinaryAccuracy(threshold=0.2),
    metrics.TopKCategoricalAccuracy(k=3), metrics.SparseTopKCategoricalAccuracy(k=2, from_sorted_ids=True),
    metrics.MeanSquaredError(), metrics.RootMeanSquaredError(), metrics.CosineSimilarity(axis=1),
    metrics.R2Score(class_aggregation=None, num_regressors=2), metrics.BinaryCrossentropy(from_logits=True),
    metrics.CategoricalCrossentropy(label_smoothing=0.1, axis=1),
    metrics.SparseCategoricalCrossentropy(ignore_class=0), metrics.Hinge(), metrics.KLDivergence(),
    metrics.TruePositives(thresholds=[0.2, 0.4]), metrics.Precision(top_k=2, class_id=1), metrics.Recall(0.3),
    metrics.AUC(curve="PR", summation_method="majoring", multi_label=True, num_labels=3, label_weights=[1, 2, 3]),
    metrics.AUC(thresholds=[0.2, 0.9], from_logits=True), metrics.PrecisionAtRecall(0.4, num_thresholds=10),
    metrics.SpecificityAtSensitivity(0.3, class_id=2), metrics.MeanIoU(4, ignore_class=0),
    metrics.IoU(3, [1, 2], sparse_y_pred=False), metrics.BinaryIoU([1], 0.3), metrics.OneHotMeanIoU(5),
    metrics.F1Score(average="macro", threshold=0.4), metrics.FBetaScore(beta=0.5),
    metrics.MeanMetricWrapper(metrics.binary_accuracy, name="wrapped", threshold=0.7),
]  # fmt: skip


@pytest.mark.parametrize("metric", CONFIGURED, ids=lambda m: type(m).__name__)
def test_config_round_trip(metric):
    config = metric.get_config()
    assert config["name"] == metric.name and config["dtype"] == metric.dtype
    again = type(metric).from_config(config)
    assert again.get_config() == config
    restored = metrics.deserialize(metrics.serialize(metric))
    assert type(restored) is type(metric) and restored.get_config() == config
    assert metrics.serialize(metric)["module"] == "keras.metrics"


def test_wrapper_config_keeps_function_and_kwargs():
    wrapper = CONFIGURED[-1]
    assert wrapper.get_config()["fn"]["config"] == "binary_accuracy"
    assert wrapper.get_config()["threshold"] == 0.7
    restored = metrics.deserialize(metrics.serialize(wrapper))
    assert float(restored([[1.0], [0.0]], [[0.8], [0.75]])) == 0.5  # threshold 0.7 kept


def test_get_names_objects_and_errors():
    assert type(metrics.get("mse")) is metrics.MeanSquaredError
    assert type(metrics.get("binary_crossentropy")) is metrics.BinaryCrossentropy
    assert type(metrics.get("AUC")) is metrics.AUC and type(metrics.get(metrics.Recall)) is metrics.Recall
    existing = metrics.Mean()
    assert metrics.get(existing) is existing and metrics.get(None) is None
    assert metrics.get({"class_name": "Precision", "config": {"thresholds": 0.3}}).thresholds == [0.3]
    assert metrics.get(metrics.sparse_categorical_accuracy) is metrics.sparse_categorical_accuracy
    with pytest.raises(ValueError, match="Valid names are:.*MeanSquaredError"):
        metrics.get("not_a_metric")
    with pytest.raises(ValueError, match="Could not interpret"):
        metrics.get(3)


SHORTCUTS = [
    # identifier, y_true shape, y_pred shape, loss, expected class
    ("accuracy", (8, 1), (8, 1), None, metrics.BinaryAccuracy),
    ("acc", (8,), (8, 5), None, metrics.SparseCategoricalAccuracy),
    ("accuracy", (8, 1), (8, 5), None, metrics.SparseCategoricalAccuracy),
    ("accuracy", (8, 5), (8, 5), "sparse_categorical_crossentropy", metrics.CategoricalAccuracy),  # shapes win
    ("Accuracy", (8, 3, 1), (8, 3, 7), None, metrics.SparseCategoricalAccuracy),
    ("accuracy", None, None, "binary_crossentropy", metrics.BinaryAccuracy),
    ("accuracy", None, None, "SparseCategoricalCrossentropy", metrics.SparseCategoricalAccuracy),
    ("accuracy", None, None, None, metrics.CategoricalAccuracy),
    ("ce", (8, 1), (8, 1), None, metrics.BinaryCrossentropy),
    ("crossentropy", (8,), (8, 4), None, metrics.SparseCategoricalCrossentropy),
    ("crossentropy", (8, 4), (8, 4), None, metrics.CategoricalCrossentropy),
    ("mse", (8, 1), (8, 1), None, metrics.MeanSquaredError),
    ("mae", (8, 1), (8, 1), None, metrics.MeanAbsoluteError),
    ("mape", (8, 1), (8, 1), None, metrics.MeanAbsolutePercentageError),
    ("msle", (8, 1), (8, 1), None, metrics.MeanSquaredLogarithmicError),
    ("auc", (8, 1), (8, 1), None, metrics.AUC),
]


@pytest.mark.parametrize("identifier,true_shape,pred_shape,loss,expected", SHORTCUTS)
def test_shortcut_resolution(identifier, true_shape, pred_shape, loss, expected):
    metric = shortcuts.resolve_metric(identifier, y_true=true_shape, y_pred=pred_shape, loss=loss)
    assert type(metric) is expected
    assert metric.name == identifier


def test_shortcuts_wrap_functions_and_name_losses():
    metric = shortcuts.resolve_metric(metrics.categorical_accuracy, y_true=(2, 3), y_pred=(2, 3))
    assert type(metric) is metrics.MeanMetricWrapper and metric.name == "categorical_accuracy"
    assert shortcuts.crossentropy_loss_name((8, 1), (8, 4)) == "sparse_categorical_crossentropy"
    assert shortcuts.crossentropy_loss_name(np.zeros((8, 1)), np.zeros((8, 1))) == "binary_crossentropy"
    with pytest.raises(ValueError, match="None"):
        shortcuts.resolve_metric(None)


@pytest.mark.parametrize(
    "make,match",
    [
        (lambda: metrics.Precision(thresholds=[0.5, 1.5]), "Threshold values must be in"),
        (lambda: metrics.AUC(num_thresholds=1), "num_thresholds"),
        (lambda: metrics.AUC(curve="LIFT"), "Invalid AUC curve"),
        (lambda: metrics.AUC(summation_method="simpson"), "summation method"),
        (lambda: metrics.AUC(num_labels=3), "multi_label"),
        (lambda: metrics.FBetaScore(beta=2), "Python float"),
        (lambda: metrics.F1Score(average="median"), "average"),
        (lambda: metrics.R2Score(class_aggregation="max"), "class_aggregation"),
        (lambda: metrics.IoU(3, target_class_ids=[3]), "out of range"),
        (lambda: metrics.SensitivityAtSpecificity(1.5), "specificity"),
        (lambda: metrics.SensitivityAtSpecificity(0.5, num_thresholds=0), "num_thresholds"),
    ],
)
def test_invalid_arguments_raise(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_invalid_inputs_raise():
    with pytest.raises(ValueError, match="2D"):
        metrics.R2Score().update_state([1.0, 2.0], [1.0, 2.0])
    with pytest.raises(ValueError, match="class_id"):
        metrics.Precision(class_id=1).update_state([1.0, 0.0], [0.4, 0.6])
    with pytest.raises(ValueError, match="rank 2"):
        metrics.AUC(multi_label=True).update_state([1.0, 0.0], [0.4, 0.6])


def test_mean_of_a_scalar_weighted_by_an_int_count_matches_the_general_path():
    # The trainer's loss tracker takes this shortcut once per step.
    fast, general = metrics.Mean(), metrics.Mean()
    for value, count in [(2.0, 3), (np.float32(5.0), 1), (np.array(1.5, "float32"), 4)]:
        fast.update_state(value, sample_weight=count)
        general.update_state(value, sample_weight=np.array(count, "float32"))
    assert float(fast.result()) == pytest.approx(float(general.result())) == pytest.approx((6 + 5 + 6) / 8)
    assert float(fast.count.numpy()) == 8.0
