"""`kbridge.losses` on the NumPy backend: every loss and reduction against NumPy formulas written here."""

import json
import warnings

import numpy as np
import pytest

from kbridge import config, losses
from kbridge.saving import deserialize_keras_object, register_keras_serializable, serialize_keras_object

EPS = 1e-7


@pytest.fixture(autouse=True)
def numpy_backend():
    previous = config.backend()
    config.set_backend("numpy")
    yield
    config.set_backend(previous)


RNG = np.random.default_rng(0)
B, C = 5, 4
Y_REG = RNG.normal(size=(B, C)).astype("float32")
P_REG = RNG.normal(size=(B, C)).astype("float32")
Y_PROB = RNG.uniform(0, 1, (B, C)).astype("float32")
P_PROB = RNG.uniform(0.02, 0.98, (B, C)).astype("float32")
Y_BIN = (RNG.uniform(size=(B, C)) > 0.5).astype("float32")
LABELS = np.array([0, 3, 1, 2, 3])
Y_ONEHOT = np.eye(C, dtype="float32")[LABELS]
LOGITS = RNG.normal(size=(B, C)).astype("float32") * 3
P_SOFT = (np.exp(LOGITS) / np.exp(LOGITS).sum(-1, keepdims=True)).astype("float32")
WEIGHTS = np.array([1.0, 0.5, 0.0, 2.0, 1.25], "float32")  # sums to 4.75, not B


# -- NumPy references (per-sample losses, computed in float64) ------------------------------


def _f(*arrays):
    return [np.asarray(a, np.float64) for a in arrays]


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _log_softmax(x, axis=-1):
    x = x - x.max(axis, keepdims=True)
    return x - np.log(np.exp(x).sum(axis, keepdims=True))


def _bce(t, p, from_logits=False):
    if from_logits:
        return np.maximum(p, 0) - p * t + np.log1p(np.exp(-np.abs(p)))
    p = np.clip(p, EPS, 1 - EPS)
    return -(t * np.log(p) + (1 - t) * np.log(1 - p))


def _log_probs(p, from_logits, axis=-1):
    if from_logits:
        return _log_softmax(p, axis)
    return np.log(np.clip(p / p.sum(axis, keepdims=True), EPS, 1 - EPS))


def _signed(t):
    return 2 * t - 1 if np.all((t == 0) | (t == 1)) else t


def _unit(x, axis=-1):
    return x / np.maximum(np.sqrt((x * x).sum(axis, keepdims=True)), EPS)


def ref_mse(t, p):
    t, p = _f(t, p)
    return ((t - p) ** 2).mean(-1)


def ref_mae(t, p):
    t, p = _f(t, p)
    return np.abs(t - p).mean(-1)


def ref_mape(t, p):
    t, p = _f(t, p)
    return 100 * (np.abs(t - p) / np.maximum(np.abs(t), EPS)).mean(-1)


def ref_msle(t, p):
    t, p = _f(t, p)
    return ((np.log(np.maximum(p, EPS) + 1) - np.log(np.maximum(t, EPS) + 1)) ** 2).mean(-1)


def ref_huber(t, p, delta=1.0):
    t, p = _f(t, p)
    e = np.abs(p - t)
    return np.where(e <= delta, 0.5 * e**2, delta * e - 0.5 * delta**2).mean(-1)


def ref_log_cosh(t, p):
    t, p = _f(t, p)
    return np.log(np.cosh(p - t)).mean(-1)


def ref_cosine(t, p, axis=-1):
    t, p = _f(t, p)
    return -(_unit(t, axis) * _unit(p, axis)).sum(axis)


def ref_kld(t, p):
    t, p = _f(t, p)
    t, p = np.clip(t, EPS, 1), np.clip(p, EPS, 1)
    return (t * np.log(t / p)).sum(-1)


def ref_poisson(t, p):
    t, p = _f(t, p)
    return (p - t * np.log(p + EPS)).mean(-1)


def ref_bce(t, p, from_logits=False, label_smoothing=0.0):
    t, p = _f(t, p)
    t = t * (1 - label_smoothing) + 0.5 * label_smoothing
    return _bce(t, p, from_logits).mean(-1)


def ref_bfce(t, p, apply_class_balancing=False, alpha=0.25, gamma=2.0, from_logits=False, label_smoothing=0.0):
    t, p = _f(t, p)
    t = t * (1 - label_smoothing) + 0.5 * label_smoothing
    p = _sigmoid(p) if from_logits else p
    p_t = t * p + (1 - t) * (1 - p)
    out = (1 - p_t) ** gamma * _bce(t, p)
    if apply_class_balancing:
        out = (t * alpha + (1 - t) * (1 - alpha)) * out
    return out.mean(-1)


def ref_cce(t, p, from_logits=False, label_smoothing=0.0, axis=-1):
    t, p = _f(t, p)
    t = t * (1 - label_smoothing) + label_smoothing / t.shape[-1]
    return -(t * _log_probs(p, from_logits, axis)).sum(axis)


def ref_cfce(t, p, alpha=0.25, gamma=2.0, from_logits=False, label_smoothing=0.0):
    t, p = _f(t, p)
    t = t * (1 - label_smoothing) + label_smoothing / t.shape[-1]
    p = np.exp(_log_softmax(p)) if from_logits else p
    out = np.clip(p / p.sum(-1, keepdims=True), EPS, 1 - EPS)
    return (alpha * (1 - out) ** gamma * -t * np.log(out)).sum(-1)


def ref_scce(labels, p, from_logits=False):
    (p,) = _f(p)
    return -np.take_along_axis(_log_probs(p, from_logits), np.asarray(labels)[..., None], -1)[..., 0]


def ref_hinge(t, p):
    t, p = _f(t, p)
    return np.maximum(1 - _signed(t) * p, 0).mean(-1)


def ref_squared_hinge(t, p):
    t, p = _f(t, p)
    return (np.maximum(1 - _signed(t) * p, 0) ** 2).mean(-1)


def ref_categorical_hinge(t, p):
    t, p = _f(t, p)
    return np.maximum(((1 - t) * p).max(-1) - (t * p).sum(-1) + 1, 0)


def ref_dice(t, p, axis=None):
    t, p = _f(t, p)
    return 1 - 2 * (t * p).sum(axis) / (t.sum(axis) + p.sum(axis) + EPS)


def ref_tversky(t, p, alpha=0.5, beta=0.5, axis=None):
    t, p = _f(t, p)
    tp = (t * p).sum(axis)
    return 1 - tp / (tp + alpha * ((1 - p) * t).sum(axis) + beta * (p * (1 - t)).sum(axis) + EPS)


def ref_cgce(labels, p, q=0.5):
    (p,) = _f(p)
    return (1 - np.take_along_axis(p, np.asarray(labels)[..., None], -1)[..., 0] ** q) / q


def ref_circle(labels, emb, gamma=80.0, margin=0.4, remove_diagonal=True):
    (emb,) = _f(emb)
    labels = np.asarray(labels)
    dist = np.maximum(1 - emb @ emb.T, 0)
    pos = labels[:, None] == labels[None, :]
    neg = ~pos
    if remove_diagonal:
        pos = pos & ~np.eye(len(labels), dtype=bool)
    out = []
    for i in range(len(labels)):
        wp = np.maximum(margin + dist[i], 0) * -gamma * (margin - dist[i])
        wn = np.maximum(1 + margin - dist[i], 0) * gamma * (1 - margin - dist[i])
        lp = np.log(np.exp(wp[pos[i]]).sum()) if pos[i].any() else -np.inf
        ln = np.log(np.exp(wn[neg[i]]).sum())
        out.append(np.logaddexp(0, lp + ln))
    return np.array(out)


# name -> (class, kwargs, y_true, y_pred, per-sample reference)
CASES = {
    "mse": (losses.MeanSquaredError, {}, Y_REG, P_REG, ref_mse),
    "mae": (losses.MeanAbsoluteError, {}, Y_REG, P_REG, ref_mae),
    "mape": (losses.MeanAbsolutePercentageError, {}, Y_REG, P_REG, ref_mape),
    "msle": (losses.MeanSquaredLogarithmicError, {}, Y_PROB * 3, P_PROB * 3, ref_msle),
    "huber": (losses.Huber, {}, Y_REG, P_REG, ref_huber),
    "huber_delta": (losses.Huber, {"delta": 0.3}, Y_REG, P_REG, lambda t, p: ref_huber(t, p, 0.3)),
    "log_cosh": (losses.LogCosh, {}, Y_REG, P_REG, ref_log_cosh),
    "cosine": (losses.CosineSimilarity, {}, Y_REG, P_REG, ref_cosine),
    "cosine_axis0": (losses.CosineSimilarity, {"axis": 0}, Y_REG, P_REG, lambda t, p: ref_cosine(t, p, 0)),
    "kld": (losses.KLDivergence, {}, Y_PROB, P_PROB, ref_kld),
    "poisson": (losses.Poisson, {}, Y_PROB, P_PROB, ref_poisson),
    "bce": (losses.BinaryCrossentropy, {}, Y_BIN, P_PROB, ref_bce),
    "bce_logits_smooth": (
        losses.BinaryCrossentropy, {"from_logits": True, "label_smoothing": 0.2}, Y_BIN, LOGITS,
        lambda t, p: ref_bce(t, p, True, 0.2),
    ),
    "bfce": (losses.BinaryFocalCrossentropy, {}, Y_BIN, P_PROB, ref_bfce),
    "bfce_all": (
        losses.BinaryFocalCrossentropy,
        {"apply_class_balancing": True, "alpha": 0.4, "gamma": 1.5, "from_logits": True, "label_smoothing": 0.1},
        Y_BIN, LOGITS, lambda t, p: ref_bfce(t, p, True, 0.4, 1.5, True, 0.1),
    ),
    "cce": (losses.CategoricalCrossentropy, {}, Y_ONEHOT, P_PROB, ref_cce),
    "cce_logits_smooth": (
        losses.CategoricalCrossentropy, {"from_logits": True, "label_smoothing": 0.1}, Y_ONEHOT, LOGITS,
        lambda t, p: ref_cce(t, p, True, 0.1),
    ),
    "cfce": (losses.CategoricalFocalCrossentropy, {}, Y_ONEHOT, P_SOFT, ref_cfce),
    "cfce_logits": (
        losses.CategoricalFocalCrossentropy, {"alpha": 0.5, "gamma": 1.0, "from_logits": True, "label_smoothing": 0.1},
        Y_ONEHOT, LOGITS, lambda t, p: ref_cfce(t, p, 0.5, 1.0, True, 0.1),
    ),
    "scce": (losses.SparseCategoricalCrossentropy, {}, LABELS, P_PROB, ref_scce),
    "scce_logits": (
        losses.SparseCategoricalCrossentropy, {"from_logits": True}, LABELS[:, None], LOGITS,
        lambda t, p: ref_scce(t[:, 0], p, True),
    ),
    "hinge_binary": (losses.Hinge, {}, Y_BIN, P_REG, ref_hinge),
    "hinge_signed": (losses.Hinge, {}, 2 * Y_BIN - 1, P_REG, ref_hinge),
    "squared_hinge": (losses.SquaredHinge, {}, Y_BIN, P_REG, ref_squared_hinge),
    "categorical_hinge": (losses.CategoricalHinge, {}, Y_ONEHOT, P_REG, ref_categorical_hinge),
    "dice_axis": (losses.Dice, {"axis": 1}, Y_BIN, P_PROB, lambda t, p: ref_dice(t, p, 1)),
    "tversky_axis": (
        losses.Tversky, {"alpha": 0.3, "beta": 0.7, "axis": 1}, Y_BIN, P_PROB,
        lambda t, p: ref_tversky(t, p, 0.3, 0.7, 1),
    ),
    "cgce": (losses.CategoricalGeneralizedCrossEntropy, {"q": 0.7}, LABELS, P_SOFT, lambda t, p: ref_cgce(t, p, 0.7)),
    "circle": (losses.Circle, {}, np.array([0, 1, 0, 1, 2]), _unit(P_REG).astype("float32"), ref_circle),
}  # fmt: skip
FUNCTIONS = {
    losses.MeanSquaredError: losses.mean_squared_error, losses.MeanAbsoluteError: losses.mean_absolute_error,
    losses.MeanAbsolutePercentageError: losses.mean_absolute_percentage_error,
    losses.MeanSquaredLogarithmicError: losses.mean_squared_logarithmic_error, losses.Huber: losses.huber,
    losses.LogCosh: losses.log_cosh, losses.CosineSimilarity: losses.cosine_similarity,
    losses.KLDivergence: losses.kl_divergence, losses.Poisson: losses.poisson,
    losses.BinaryCrossentropy: losses.binary_crossentropy,
    losses.BinaryFocalCrossentropy: losses.binary_focal_crossentropy,
    losses.CategoricalCrossentropy: losses.categorical_crossentropy,
    losses.CategoricalFocalCrossentropy: losses.categorical_focal_crossentropy,
    losses.SparseCategoricalCrossentropy: losses.sparse_categorical_crossentropy, losses.Hinge: losses.hinge,
    losses.SquaredHinge: losses.squared_hinge, losses.CategoricalHinge: losses.categorical_hinge,
    losses.Dice: losses.dice, losses.Tversky: losses.tversky,
    losses.CategoricalGeneralizedCrossEntropy: losses.categorical_generalized_cross_entropy,
    losses.Circle: losses.circle,
}  # fmt: skip


def reduce_ref(values, weights, reduction):
    values = values * weights
    if reduction in (None, "none"):
        return values
    if reduction == "sum":
        return values.sum()
    if reduction == "mean_with_sample_weight":
        return values.sum() / np.sum(weights)
    return values.sum() / values.size


# -- values -------------------------------------------------------------------------------


@pytest.mark.parametrize("case", sorted(CASES))
def test_per_sample_losses_match_numpy(case):
    cls, kwargs, y_true, y_pred, ref = CASES[case]
    expected = ref(y_true, y_pred)
    got = cls(reduction=None, **kwargs)(y_true, y_pred)
    assert isinstance(got, np.ndarray) and got.dtype == np.float32
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)
    function_kwargs = {k: v for k, v in kwargs.items() if k != "name"}
    np.testing.assert_allclose(FUNCTIONS[cls](y_true, y_pred, **function_kwargs), expected, rtol=1e-5, atol=1e-5)
    mean = expected.mean() if case != "circle" else expected.sum() / (expected > 0).sum()  # see the circle test
    assert float(cls(**kwargs)(y_true, y_pred)) == pytest.approx(mean, rel=1e-5, abs=1e-6)


@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", "none", None])
@pytest.mark.parametrize("case", ["mse", "bce_logits_smooth", "scce", "cosine", "huber_delta"])
def test_reductions_with_sample_weight(case, reduction):
    cls, kwargs, y_true, y_pred, ref = CASES[case]
    values = ref(y_true, y_pred)
    loss = cls(reduction=reduction, **kwargs)
    np.testing.assert_allclose(loss(y_true, y_pred, sample_weight=WEIGHTS), reduce_ref(values, WEIGHTS, reduction),
                               rtol=1e-5, atol=1e-6)  # fmt: skip
    np.testing.assert_allclose(loss(y_true, y_pred), reduce_ref(values, np.ones_like(values), reduction), rtol=1e-5)


def test_sample_weight_shapes_follow_keras():
    t, p = Y_REG[:, :, None].repeat(3, -1), P_REG[:, :, None].repeat(3, -1)  # (B, C, 3) -> per-sample (B, C)
    values = ref_mse(t, p)
    mse = losses.MeanSquaredError(reduction="sum")
    assert float(mse(t, p, sample_weight=2.0)) == pytest.approx(2 * values.sum(), rel=1e-5)
    full = RNG.uniform(size=(B, C)).astype("float32")
    assert float(mse(t, p, sample_weight=full)) == pytest.approx((values * full).sum(), rel=1e-5)
    per_step = RNG.uniform(size=(C,)).astype("float32")  # broadcast over the batch
    assert float(mse(t, p, sample_weight=per_step)) == pytest.approx((values * per_step).sum(), rel=1e-5)
    # (B, 1) weights on (B,) losses: the losses gain the trailing axis, as in Keras 3.
    out = losses.MeanSquaredError(reduction=None)(Y_REG, P_REG, sample_weight=WEIGHTS[:, None])
    assert out.shape == (B, 1)
    np.testing.assert_allclose(out[:, 0], ref_mse(Y_REG, P_REG) * WEIGHTS, rtol=1e-5)
    # (B,) weights on (B, C) losses do not broadcast in Keras 3 either: a clear error.
    with pytest.raises(ValueError, match="mean_squared_error.*sample_weight"):
        mse(t, p, sample_weight=WEIGHTS)


def test_rank_matching_of_labels_and_predictions():
    column = losses.MeanSquaredError(reduction=None)(Y_REG[:, 0], P_REG[:, :1])  # (B,) vs (B, 1)
    np.testing.assert_allclose(column, (Y_REG[:, 0] - P_REG[:, 0]) ** 2, rtol=1e-5)
    bce = losses.BinaryCrossentropy(reduction=None)(Y_BIN[:, 0], P_PROB[:, :1])
    np.testing.assert_allclose(bce, ref_bce(Y_BIN[:, :1], P_PROB[:, :1]), rtol=1e-5)


def test_ignore_class_masks_values_and_average():
    labels = np.array([0, 1, 2, 1, 3])
    per_sample = ref_scce(np.where(labels == 1, 0, labels), P_PROB)
    valid = labels != 1
    values = np.where(valid, per_sample, 0)
    cases = {
        "sum_over_batch_size": values.sum() / valid.sum(),
        "sum": values.sum(),
        "mean_with_sample_weight": values.sum() / valid.sum(),
        None: values,
    }
    for reduction, expected in cases.items():
        loss = losses.SparseCategoricalCrossentropy(ignore_class=1, reduction=reduction)
        np.testing.assert_allclose(loss(labels, P_PROB), expected, rtol=1e-5)
    weighted = losses.SparseCategoricalCrossentropy(ignore_class=1, reduction="mean_with_sample_weight")
    assert float(weighted(labels, P_PROB, sample_weight=WEIGHTS)) == pytest.approx(
        (values * WEIGHTS).sum() / (WEIGHTS * valid).sum(), rel=1e-5
    )
    function_values = losses.sparse_categorical_crossentropy(labels, P_PROB, ignore_class=1)
    np.testing.assert_allclose(function_values, values, rtol=1e-5)
    # Ignored positions may hold anything, even zero probabilities, without NaN.
    probs = P_PROB.copy()
    probs[1] = 0.0
    assert np.isfinite(losses.SparseCategoricalCrossentropy(ignore_class=1)(labels, probs))
    # Everything ignored: zero, not NaN.
    assert float(losses.SparseCategoricalCrossentropy(ignore_class=1)(np.ones(B, int), P_PROB)) == 0.0


def test_ignore_class_on_sequences():
    labels = np.array([[0, 2, -1], [1, -1, -1]])
    logits = RNG.normal(size=(2, 3, 3)).astype("float32")
    loss = losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=-1)
    valid = labels != -1
    per = ref_scce(np.where(valid, labels, 0), logits, True)
    assert float(loss(labels, logits)) == pytest.approx(per[valid].mean(), rel=1e-5)
    assert float(loss(labels[..., None], logits)) == pytest.approx(per[valid].mean(), rel=1e-5)


def test_circle_averages_over_positive_losses():
    _, kwargs, labels, emb, ref = CASES["circle"]
    values = ref(labels, emb)
    assert (values == 0).any() and (values > 0).any()  # label 2 has no positive pair
    expected = values.sum() / max((values > 0).sum(), 1)
    assert float(losses.Circle()(labels, emb)) == pytest.approx(expected, rel=1e-5)


def test_categorical_axis_and_one_class_warning():
    t = np.moveaxis(Y_ONEHOT, -1, 0)
    p = np.moveaxis(P_PROB, -1, 0)
    np.testing.assert_allclose(losses.categorical_crossentropy(t, p, axis=0), ref_cce(Y_ONEHOT, P_PROB), rtol=1e-5)
    with pytest.warns(SyntaxWarning, match="num_classes > 1"):
        losses.categorical_crossentropy(Y_BIN[:, :1], P_PROB[:, :1])
    with pytest.raises(ValueError, match="axis"):
        losses.categorical_crossentropy(Y_ONEHOT, P_PROB, axis=True)


def test_dtypes():
    labels_int = Y_BIN.astype("int64")
    out = losses.BinaryCrossentropy()(labels_int, P_PROB.astype("float64"))
    assert out.dtype == np.float32
    assert float(out) == pytest.approx(ref_bce(Y_BIN, P_PROB).mean(), rel=1e-5)
    loss64 = losses.MeanSquaredError(dtype="float64")
    assert loss64.dtype == "float64" and loss64(Y_REG, P_REG).dtype == np.float64
    assert losses.MeanSquaredError(dtype="mixed_float16").dtype == "float16"
    assert losses.MeanSquaredError(dtype="mixed_float16")(Y_REG, P_REG).dtype == np.float16


def test_empty_and_scalar_values():
    empty = losses.MeanSquaredError()(np.zeros((0, 3), "float32"), np.zeros((0, 3), "float32"))
    assert empty.shape == (0,)
    assert np.ndim(losses.Dice()(Y_BIN, P_PROB)) == 0


def test_subclass_and_wrapper():
    class Cubed(losses.Loss):
        def call(self, y_true, y_pred):
            from kbridge import ops

            return ops.mean(ops.abs(y_true - y_pred) ** 3, axis=-1)

    cubed = Cubed(reduction="sum")
    assert cubed.name.startswith("cubed")
    assert float(cubed(Y_REG, P_REG)) == pytest.approx((np.abs(Y_REG - P_REG) ** 3).mean(-1).sum(), rel=1e-5)
    with pytest.raises(NotImplementedError):
        losses.Loss()(Y_REG, P_REG)
    with pytest.raises(ValueError, match="reduction"):
        losses.MeanSquaredError(reduction="average")
    wrapped = losses.LossFunctionWrapper(losses.huber, delta=0.3, reduction=None)
    np.testing.assert_allclose(wrapped(Y_REG, P_REG), ref_huber(Y_REG, P_REG, 0.3), rtol=1e-5)
    with pytest.raises(TypeError, match="callable"):
        losses.LossFunctionWrapper("mse")
    nested = losses.LossFunctionWrapper(lambda t, p: t[0] - p[0] + t[1] - p[1])
    got = nested((Y_REG, Y_REG), (P_REG, P_REG))
    assert float(got) == pytest.approx(2 * (Y_REG - P_REG).mean(), rel=1e-5)


# -- label checks -------------------------------------------------------------------------


def test_out_of_range_labels_raise():
    with pytest.raises(ValueError, match=r"'sparse_categorical_crossentropy'.*label 4.*4 classes"):
        losses.SparseCategoricalCrossentropy()(np.array([0, 4, 1, 2, 3]), P_PROB)
    with pytest.raises(ValueError, match=r"'my_loss'.*label -2.*4 classes"):
        losses.SparseCategoricalCrossentropy(name="my_loss")([0, -2, 1, 2, 3], P_PROB)
    with pytest.raises(ValueError, match="label 7"):
        losses.sparse_categorical_crossentropy(np.array([0, 7, 1, 2, 3]), P_PROB)
    with pytest.raises(ValueError, match="label 5.*4 classes"):
        losses.CategoricalGeneralizedCrossEntropy()(np.array([0, 5, 1, 2, 3]), P_SOFT)
    # The ignored label may lie outside the classes; other labels may not.
    loss = losses.SparseCategoricalCrossentropy(ignore_class=-1)
    assert np.isfinite(loss(np.array([0, -1, 1, 2, 3]), P_PROB))
    with pytest.raises(ValueError, match="ignore_class=-1"):
        loss(np.array([0, -1, 9, 2, 3]), P_PROB)


# -- get / serialize / deserialize -------------------------------------------------------------


@pytest.mark.parametrize(
    "name, expected",
    [
        ("mse", losses.mean_squared_error), ("MSE", losses.mean_squared_error), ("mae", losses.mean_absolute_error),
        ("mape", losses.mean_absolute_percentage_error), ("msle", losses.mean_squared_logarithmic_error),
        ("kld", losses.kl_divergence), ("kl_divergence", losses.kl_divergence), ("logcosh", losses.log_cosh),
        ("log_cosh", losses.log_cosh), ("huber", losses.huber), ("bce", losses.binary_crossentropy),
        ("binary_crossentropy", losses.binary_crossentropy),
        ("sparse_categorical_crossentropy", losses.sparse_categorical_crossentropy),
        ("kullback_leibler_divergence", losses.kl_divergence),
    ],
)  # fmt: skip
def test_get_function_names(name, expected):
    assert losses.get(name) is expected
    assert losses.deserialize(name) is expected


def test_get_other_identifiers():
    assert losses.get(None) is None
    assert isinstance(losses.get("CategoricalCrossentropy"), losses.CategoricalCrossentropy)
    assert isinstance(losses.get(losses.Huber), losses.Huber)
    instance = losses.Huber(delta=2.0)
    assert losses.get(instance) is instance
    assert losses.get(losses.poisson) is losses.poisson
    from_dict = losses.get({"class_name": "CategoricalCrossentropy", "config": {"from_logits": True}})
    assert isinstance(from_dict, losses.CategoricalCrossentropy) and from_dict.from_logits is True
    with pytest.raises(ValueError, match=r"'mean_sqared_error'.*'mse'"):
        losses.get("mean_sqared_error")
    with pytest.raises(ValueError, match="nope"):
        losses.deserialize("nope")
    with pytest.raises(ValueError, match="loss identifier"):
        losses.get(42)


NON_DEFAULT = {
    losses.MeanSquaredError: {}, losses.MeanAbsoluteError: {}, losses.MeanAbsolutePercentageError: {},
    losses.MeanSquaredLogarithmicError: {}, losses.LogCosh: {}, losses.KLDivergence: {}, losses.Poisson: {},
    losses.Hinge: {}, losses.SquaredHinge: {}, losses.CategoricalHinge: {},
    losses.Huber: {"delta": 0.5}, losses.CosineSimilarity: {"axis": 0},
    losses.BinaryCrossentropy: {"from_logits": True, "label_smoothing": 0.1, "axis": 0},
    losses.BinaryFocalCrossentropy: {"apply_class_balancing": True, "alpha": 0.4, "gamma": 3.0, "from_logits": True},
    losses.CategoricalCrossentropy: {"from_logits": True, "label_smoothing": 0.2},
    losses.CategoricalFocalCrossentropy: {"alpha": 0.3, "gamma": 1.0, "label_smoothing": 0.1},
    losses.SparseCategoricalCrossentropy: {"from_logits": True, "ignore_class": -1},
    losses.Dice: {"axis": (1,)}, losses.Tversky: {"alpha": 0.2, "beta": 0.8, "axis": 1},
    losses.CategoricalGeneralizedCrossEntropy: {"q": 0.3}, losses.Circle: {"gamma": 64.0, "margin": 0.3},
}  # fmt: skip


@pytest.mark.parametrize("cls", list(NON_DEFAULT), ids=lambda c: c.__name__)
def test_config_round_trips(cls):
    loss = cls(reduction="sum", name="custom_name", **NON_DEFAULT[cls])
    config_ = loss.get_config()
    assert config_["name"] == "custom_name" and config_["reduction"] == "sum"
    for key, value in NON_DEFAULT[cls].items():
        assert config_[key] == value
    assert "dtype" not in config_ and "fn" not in config_
    restored = cls.from_config(config_)
    assert type(restored) is cls and restored.get_config() == config_
    through_json = deserialize_keras_object(json.loads(json.dumps(serialize_keras_object(loss))))
    assert type(through_json) is cls and through_json.name == "custom_name"
    serialized = losses.serialize(loss)
    assert serialized["module"] == "keras.losses" and serialized["class_name"] == cls.__name__
    assert type(losses.deserialize(serialized)) is cls


def test_dtype_and_wrapper_configs():
    config_ = losses.MeanSquaredError(dtype="float64").get_config()
    assert config_["dtype"] == "float64"
    assert losses.MeanSquaredError.from_config(config_).dtype == "float64"
    wrapper = losses.LossFunctionWrapper(losses.huber, delta=0.25, reduction="sum", name="w")
    config_ = wrapper.get_config()
    assert config_["fn"]["config"] == "huber" and config_["delta"] == 0.25
    restored = deserialize_keras_object(json.loads(json.dumps(serialize_keras_object(wrapper))))
    assert restored.fn is losses.huber and float(restored(Y_REG, P_REG)) == pytest.approx(float(wrapper(Y_REG, P_REG)))
    assert losses.serialize(losses.mean_squared_error)["config"] == "mean_squared_error"
    assert deserialize_keras_object(losses.serialize(losses.mean_squared_error)) is losses.mean_squared_error


@register_keras_serializable(package="kbtest_losses")
def doubled_abs(y_true, y_pred):
    return 2.0 * losses.mean_absolute_error(y_true, y_pred)


def test_registered_custom_function_round_trips():
    wrapper = losses.LossFunctionWrapper(doubled_abs)
    restored = losses.deserialize(json.loads(json.dumps(losses.serialize(wrapper))))
    assert restored.fn is doubled_abs
    assert losses.get("kbtest_losses>doubled_abs") is doubled_abs
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert float(restored(Y_REG, P_REG)) == pytest.approx(2 * ref_mae(Y_REG, P_REG).mean(), rel=1e-5)
