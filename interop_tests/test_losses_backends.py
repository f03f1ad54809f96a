"""Every loss on numpy, jax, torch and tensorflow: NumPy reference values, compiled calls, float64 gradients."""

import numpy as np
import pytest

from kbridge import config, losses, ops
from kbridge.backend import registry, use

EPS = 1e-7
RNG = np.random.default_rng(1)
B, C = 6, 4
REG_T, REG_P = RNG.normal(size=(2, B, C)).astype("float32")
PROB_T = RNG.uniform(0, 1, (B, C)).astype("float32")
PROB_P = RNG.uniform(0.05, 0.95, (B, C)).astype("float32")
BIN = (RNG.uniform(size=(B, C)) > 0.5).astype("float32")
LABELS = np.array([0, 3, 1, 2, 3, 1])
ONEHOT = np.eye(C, dtype="float32")[LABELS]
LOGITS = (3 * RNG.normal(size=(B, C))).astype("float32")
SOFT = np.exp(LOGITS) / np.exp(LOGITS).sum(-1, keepdims=True)
EMB = REG_P / np.linalg.norm(REG_P, axis=-1, keepdims=True)
WEIGHTS = np.array([1.0, 0.5, 0.0, 2.0, 1.5, 0.75], "float32")  # sums to 5.75, not B


def _log_probs(p, logits=False):
    if logits:
        p = p - p.max(-1, keepdims=True)
        return p - np.log(np.exp(p).sum(-1, keepdims=True))
    return np.log(np.clip(p / p.sum(-1, keepdims=True), EPS, 1 - EPS))


def _bce(t, p):
    p = np.clip(p, EPS, 1 - EPS)
    return -(t * np.log(p) + (1 - t) * np.log(1 - p))


def _unit(x):
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def _signed(t):
    return 2 * t - 1 if np.all((t == 0) | (t == 1)) else t


def _circle(labels, emb, gamma=80.0, m=0.4):
    d = np.maximum(1 - emb @ emb.T, 0)
    pos = (labels[:, None] == labels[None]) & ~np.eye(len(labels), dtype=bool)
    lp = np.log(np.where(pos, np.exp(np.maximum(m + d, 0) * -gamma * (m - d)), 0).sum(1))
    neg = labels[:, None] != labels[None]
    ln = np.log(np.where(neg, np.exp(np.maximum(1 + m - d, 0) * gamma * (1 - m - d)), 0).sum(1))
    return np.logaddexp(0, lp + ln)


# name -> (class, kwargs, y_true, y_pred, per-sample NumPy reference on float64 inputs)
CASES = {
    "MeanSquaredError": ({}, REG_T, REG_P, lambda t, p: ((t - p) ** 2).mean(-1)),
    "MeanAbsoluteError": ({}, REG_T, REG_P, lambda t, p: np.abs(t - p).mean(-1)),
    "MeanAbsolutePercentageError": ({}, REG_T, REG_P, lambda t, p: 100 * (np.abs(t - p) / np.abs(t)).mean(-1)),
    "MeanSquaredLogarithmicError": ({}, PROB_T, PROB_P, lambda t, p: ((np.log1p(p) - np.log1p(t)) ** 2).mean(-1)),
    "Huber": ({"delta": 0.7}, REG_T, REG_P, lambda t, p: np.where(
        np.abs(p - t) <= 0.7, 0.5 * (p - t) ** 2, 0.7 * np.abs(p - t) - 0.245).mean(-1)),
    "LogCosh": ({}, REG_T, REG_P, lambda t, p: np.log(np.cosh(p - t)).mean(-1)),
    "CosineSimilarity": ({}, REG_T, REG_P, lambda t, p: -(_unit(t) * _unit(p)).sum(-1)),
    "KLDivergence": ({}, PROB_T, PROB_P, lambda t, p: (np.clip(t, EPS, 1) * np.log(np.clip(t, EPS, 1) / p)).sum(-1)),
    "Poisson": ({}, PROB_T, PROB_P, lambda t, p: (p - t * np.log(p + EPS)).mean(-1)),
    "BinaryCrossentropy": ({"label_smoothing": 0.2}, BIN, PROB_P, lambda t, p: _bce(0.8 * t + 0.1, p).mean(-1)),
    "BinaryFocalCrossentropy": ({"apply_class_balancing": True, "from_logits": True}, BIN, LOGITS, lambda t, p: (
        (t * 0.25 + (1 - t) * 0.75) * (1 - (t * (s := 1 / (1 + np.exp(-p))) + (1 - t) * (1 - s))) ** 2 * _bce(t, s)
    ).mean(-1)),
    "CategoricalCrossentropy": ({"label_smoothing": 0.1}, ONEHOT, PROB_P,
                                lambda t, p: -((0.9 * t + 0.025) * _log_probs(p)).sum(-1)),
    "CategoricalFocalCrossentropy": ({"from_logits": True}, ONEHOT, LOGITS, lambda t, p: (
        0.25 * (1 - (q := np.clip(np.exp(_log_probs(p, True)), EPS, 1 - EPS))) ** 2 * -t * np.log(q)).sum(-1)),
    "SparseCategoricalCrossentropy": ({"from_logits": True}, LABELS, LOGITS,
                                      lambda t, p: -_log_probs(p, True)[np.arange(B), t]),
    "Hinge": ({}, BIN, REG_P, lambda t, p: np.maximum(1 - _signed(t) * p, 0).mean(-1)),
    "SquaredHinge": ({}, 2 * BIN - 1, REG_P, lambda t, p: (np.maximum(1 - t * p, 0) ** 2).mean(-1)),
    "CategoricalHinge": ({}, ONEHOT, REG_P, lambda t, p: np.maximum(((1 - t) * p).max(-1) - (t * p).sum(-1) + 1, 0)),
    "Dice": ({"axis": 1}, BIN, PROB_P, lambda t, p: 1 - 2 * (t * p).sum(1) / (t.sum(1) + p.sum(1))),
    "Tversky": ({"alpha": 0.3, "beta": 0.7, "axis": 1}, BIN, PROB_P, lambda t, p: 1 - (t * p).sum(1) / (
        (t * p).sum(1) + 0.3 * ((1 - p) * t).sum(1) + 0.7 * (p * (1 - t)).sum(1))),
    "CategoricalGeneralizedCrossEntropy": ({"q": 0.5}, LABELS, SOFT,
                                           lambda t, p: (1 - np.sqrt(p[np.arange(B), t])) / 0.5),
    "Circle": ({}, np.array([0, 1, 0, 1, 2, 2]), EMB, lambda t, p: _circle(t, p)),
}  # fmt: skip


def _reference(name):
    _, y_true, y_pred, ref = CASES[name]
    return ref(np.asarray(y_true, np.float64) if y_true.dtype.kind == "f" else y_true, np.asarray(y_pred, np.float64))


def _native(backend_name, value):
    with use(backend_name):
        return ops.convert_to_tensor(value)


def _numpy(value):
    return np.asarray(ops.convert_to_numpy(value))


def test_every_keras_loss_class_is_covered():
    covered = set(CASES)
    builtin = {name for name, obj in losses.ALL_OBJECTS_DICT.items() if isinstance(obj, type) and name == obj.__name__}
    assert builtin - covered == {"Loss", "LossFunctionWrapper"}


@pytest.mark.parametrize("name", sorted(CASES))
def test_loss_matches_numpy_reference(backend_name, name):
    kwargs, y_true, y_pred, _ = CASES[name]
    expected = _reference(name)
    module = registry.get(backend_name)
    cls = getattr(losses, name)
    t, p = _native(backend_name, y_true), _native(backend_name, y_pred)
    with use(backend_name):
        per_sample = cls(reduction=None, **kwargs)(t, p)
        weighted = cls(reduction="sum", **kwargs)(t, p, sample_weight=WEIGHTS)
        function = losses.get(cls().fn.__name__)(t, p, **kwargs)
    assert isinstance(per_sample, module.TENSOR_TYPES) and isinstance(weighted, module.TENSOR_TYPES)
    assert ops.dtype(per_sample) == "float32"
    np.testing.assert_allclose(_numpy(per_sample), expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(_numpy(function), expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(_numpy(weighted), (expected * WEIGHTS).sum(), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum", "mean_with_sample_weight", None])
def test_ignore_class_reductions(backend_name, reduction):
    labels = np.array([0, 1, 2, 1, 3, 0])
    valid = labels != 1
    values = np.where(valid, -_log_probs(PROB_P.astype(np.float64))[np.arange(B), np.where(valid, labels, 0)], 0)
    expected = {"sum": values.sum(), None: values}.get(reduction, values.sum() / valid.sum())
    loss = losses.SparseCategoricalCrossentropy(ignore_class=1, reduction=reduction)
    out = loss(_native(backend_name, labels), _native(backend_name, PROB_P))
    np.testing.assert_allclose(_numpy(out), expected, rtol=1e-5)


def test_numpy_labels_follow_the_predictions_backend(backend_name):
    previous = config.backend()
    config.set_backend("numpy")
    try:
        p = _native(backend_name, REG_P)
        out = losses.MeanSquaredError()(REG_T, p, sample_weight=WEIGHTS)
        per_sample = losses.mean_squared_error(REG_T.tolist(), p)
    finally:
        config.set_backend(previous)
    module = registry.get(backend_name)
    assert isinstance(out, module.TENSOR_TYPES) and isinstance(per_sample, module.TENSOR_TYPES)
    expected = ((REG_T.astype(np.float64) - REG_P) ** 2).mean(-1)
    assert float(_numpy(out)) == pytest.approx((expected * WEIGHTS).mean(), rel=1e-5)


def test_out_of_range_numpy_labels_raise(backend_name):
    p = _native(backend_name, PROB_P)
    with pytest.raises(ValueError, match=r"'sparse_categorical_crossentropy'.*label 4.*4 classes"):
        losses.SparseCategoricalCrossentropy()(np.array([0, 4, 1, 2, 3, 1]), p)
    with pytest.raises(ValueError, match="label -1"):
        losses.sparse_categorical_crossentropy(np.array([0, -1, 1, 2, 3, 1]), p)


# -- compiled calls ------------------------------------------------------------------------------

COMPILED = {
    "scce_ignore": (losses.SparseCategoricalCrossentropy(ignore_class=1), np.array([0, 1, 2, 1, 3, 0]), PROB_P),
    "bce_logits": (losses.BinaryCrossentropy(from_logits=True, label_smoothing=0.1), BIN, LOGITS),
    "hinge_weighted": (losses.Hinge(reduction="mean_with_sample_weight"), BIN, REG_P),
    "cce_smooth": (losses.CategoricalCrossentropy(label_smoothing=0.1), ONEHOT, PROB_P),
}


def _compile(backend_name, fn):
    if backend_name == "jax":
        import jax

        return jax.jit(fn)
    if backend_name == "tensorflow":
        import tensorflow as tf

        return tf.function(fn, reduce_retracing=True)
    if backend_name == "torch":
        import torch

        return torch.compile(fn, fullgraph=True, backend="eager")
    return fn


@pytest.mark.parametrize("case", sorted(COMPILED))
def test_compiled_loss_matches_eager(backend_name, case):
    loss, y_true, y_pred = COMPILED[case]
    args = [_native(backend_name, v) for v in (y_true, y_pred, WEIGHTS)]
    eager = loss(*args)
    compiled = _compile(backend_name, lambda t, p, w: loss(t, p, sample_weight=w))(*args)
    assert float(_numpy(compiled)) == pytest.approx(float(_numpy(eager)), rel=1e-6)


def test_tf_function_with_unknown_batch_size():
    tf = pytest.importorskip("tensorflow")
    loss = losses.SparseCategoricalCrossentropy(ignore_class=1)
    spec = [tf.TensorSpec([None], "int64"), tf.TensorSpec([None, C], "float32"), tf.TensorSpec([None], "float32")]
    fn = tf.function(lambda t, p, w: loss(t, p, sample_weight=w), input_signature=spec)
    labels = np.array([0, 1, 2, 1, 3, 0])
    with use("tensorflow"):
        eager = loss(labels, PROB_P, sample_weight=WEIGHTS)
    assert float(fn(labels, PROB_P, WEIGHTS)) == pytest.approx(float(eager), rel=1e-6)


def _concrete_hook(backend_name):
    """What an adapter's optional `is_concrete(x)` hook answers: eager values only."""
    if backend_name == "jax":
        import jax

        return lambda x: not isinstance(x, jax.core.Tracer)
    if backend_name == "tensorflow":
        import tensorflow as tf

        return lambda x: tf.executing_eagerly()
    import torch

    return lambda x: not torch.compiler.is_compiling()


@pytest.mark.parametrize("backend", ["jax", "torch", "tensorflow"])
def test_native_labels_are_checked_only_when_eager(backend, monkeypatch):
    if not registry.is_installed(backend):
        pytest.skip(f"{backend} not installed")
    module = registry.get(backend)
    hook = _concrete_hook(backend)
    calls = []

    def recording_hook(x):
        calls.append(hook(x))
        return calls[-1]

    monkeypatch.setattr(module, "is_concrete", recording_hook, raising=False)
    loss = losses.SparseCategoricalCrossentropy(from_logits=True)
    labels, logits = _native(backend, np.array([0, 9, 1, 2, 3, 1])), _native(backend, LOGITS)
    with pytest.raises(ValueError, match=r"label 9.*4 classes"):
        loss(labels, logits)
    assert calls and all(calls)
    calls.clear()
    compiled = _compile(backend, lambda t, p: loss(t, p))
    compiled(_native(backend, LABELS), logits)
    assert calls and not any(calls)  # asked while tracing, and told not to read
    try:
        compiled(labels, logits)
    except ValueError as error:  # pragma: no cover - the failure this test is about
        pytest.fail(f"traced labels were read on the host: {error}")
    except Exception:
        pass  # the framework's own handling of a bad index at run time is not ours to test


# -- float64 gradients ---------------------------------------------------------------------------

GRAD_CASES = {
    "bce_logits": (losses.BinaryCrossentropy(from_logits=True, label_smoothing=0.1, dtype="float64"), BIN, LOGITS),
    "cce_probs": (losses.CategoricalCrossentropy(label_smoothing=0.1, dtype="float64"), ONEHOT, PROB_P),
    "scce_ignore": (losses.SparseCategoricalCrossentropy(ignore_class=1, dtype="float64"), LABELS, PROB_P),
    "huber": (losses.Huber(delta=0.5, dtype="float64"), REG_T, REG_P),
    "cosine": (losses.CosineSimilarity(dtype="float64"), REG_T, REG_P),
    "focal": (losses.BinaryFocalCrossentropy(apply_class_balancing=True, dtype="float64"), BIN, PROB_P),
    "log_cosh": (losses.LogCosh(dtype="float64"), REG_T, REG_P),
}


def _grad(backend_name, loss, y_true, y_pred):
    y_pred = np.asarray(y_pred, np.float64)
    if backend_name == "jax":
        import jax

        with jax.enable_x64(True), use("jax"):
            grad = jax.grad(lambda p: loss(y_true, p, sample_weight=WEIGHTS))(jax.numpy.asarray(y_pred))
            assert grad.dtype == np.float64
            return np.asarray(grad)
    if backend_name == "torch":
        import torch

        p = torch.tensor(y_pred, requires_grad=True)
        loss(y_true, p, sample_weight=WEIGHTS).backward()
        return p.grad.numpy()
    import tensorflow as tf

    p = tf.Variable(y_pred)
    with tf.GradientTape() as tape:
        value = loss(y_true, p.value(), sample_weight=WEIGHTS)
    return tape.gradient(value, p).numpy()


def _numeric_grad(loss, y_true, y_pred, step=1e-6):
    y_pred = np.asarray(y_pred, np.float64)
    grad = np.zeros_like(y_pred)
    with use("numpy"):
        for index in np.ndindex(y_pred.shape):
            delta = np.zeros_like(y_pred)
            delta[index] = step
            up, down = (float(loss(y_true, y_pred + s * delta, sample_weight=WEIGHTS)) for s in (1, -1))
            grad[index] = (up - down) / (2 * step)
    return grad


@pytest.mark.parametrize("case", sorted(GRAD_CASES))
def test_float64_gradients_agree_across_frameworks(case):
    loss, y_true, y_pred = GRAD_CASES[case]
    names = [n for n in ("jax", "torch", "tensorflow") if registry.is_installed(n)]
    if len(names) < 2:
        pytest.skip("needs two differentiable frameworks")
    grads = {name: _grad(name, loss, y_true, y_pred) for name in names}
    numeric = _numeric_grad(loss, y_true, y_pred)
    assert np.abs(numeric).max() > 1e-3
    for name, grad in grads.items():
        assert np.all(np.isfinite(grad)), name
        np.testing.assert_allclose(grad, grads[names[0]], rtol=1e-10, atol=1e-12, err_msg=f"{name} vs {names[0]}")
        np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-7, err_msg=f"{name} vs finite differences")


# -- the one-op mean of sparse crossentropy from logits (torch: F.cross_entropy) -------------------


def _recording_fused_hook(monkeypatch, backend_name):
    """Records the calls of the backend's `fused_sparse_crossentropy_mean` hook (None if it has none)."""
    module = registry.get(backend_name)
    hook = getattr(module, "fused_sparse_crossentropy_mean", None)
    if hook is None:
        return None
    calls = []

    def recording(*args):
        calls.append(hook(*args))
        return calls[-1]

    monkeypatch.setattr(module, "fused_sparse_crossentropy_mean", recording)
    return calls


@pytest.mark.parametrize("labels_kind", ["native", "numpy", "column"])
def test_sparse_crossentropy_batch_mean_of_logits(backend_name, labels_kind, monkeypatch):
    """The default reduction without weights: the mean of the per-sample NumPy reference,
    through the fused hook where the backend has one (and the same value as with weights of 1)."""
    calls = _recording_fused_hook(monkeypatch, backend_name)
    expected = _reference("SparseCategoricalCrossentropy").mean()
    labels = {"native": _native(backend_name, LABELS), "numpy": LABELS, "column": LABELS[:, None]}[labels_kind]
    logits = _native(backend_name, LOGITS)
    loss = losses.SparseCategoricalCrossentropy(from_logits=True)
    with use(backend_name):
        value = loss(labels, logits)
        general = loss(labels, logits, sample_weight=np.ones(B, "float32"))  # never the fused path
    assert ops.dtype(value) == "float32" and ops.shape(value) == ()
    np.testing.assert_allclose(_numpy(value), expected, rtol=1e-6)
    np.testing.assert_allclose(_numpy(value), _numpy(general), rtol=1e-6)
    if calls is not None:
        assert len(calls) == 1 and calls[0] is not None


def test_sparse_crossentropy_fused_path_keeps_label_errors_and_falls_back(monkeypatch):
    if not registry.is_installed("torch"):
        pytest.skip("torch not installed")
    import torch

    calls = _recording_fused_hook(monkeypatch, "torch")
    loss = losses.SparseCategoricalCrossentropy(from_logits=True)
    logits = torch.tensor(LOGITS)
    for bad in (torch.tensor([0, 4, 1, 2, 3, 1]), torch.tensor([0, -1, 1, 2, 3, 1])):
        with pytest.raises(ValueError, match=r"'sparse_categorical_crossentropy'.*out of range for 4 classes"):
            loss(bad, logits)
    assert calls == []  # rejected before the kernel ran
    # Not the common case: probabilities, float64 logits under a float32 loss, an ignored class.
    expected = _reference("SparseCategoricalCrossentropy").mean()
    for other, y_pred in (
        (losses.SparseCategoricalCrossentropy(), torch.tensor(SOFT)),
        (losses.SparseCategoricalCrossentropy(from_logits=True), torch.tensor(LOGITS, dtype=torch.float64)),
        (losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=7), logits),
    ):
        np.testing.assert_allclose(float(other(torch.tensor(LABELS), y_pred)), expected, rtol=1e-5)
    assert calls == []


@pytest.mark.parametrize("backend_name", ["jax", "torch", "tensorflow"])
def test_sparse_crossentropy_batch_mean_float64_gradient(backend_name, monkeypatch):
    """d mean / d logits = (softmax - one_hot) / B, in float64, on every differentiable backend."""
    if not registry.is_installed(backend_name):
        pytest.skip(f"{backend_name} not installed")
    calls = _recording_fused_hook(monkeypatch, backend_name)
    loss = losses.SparseCategoricalCrossentropy(from_logits=True, dtype="float64")
    logits = LOGITS.astype(np.float64)
    probs = np.exp(_log_probs(logits, True))
    expected = (probs - np.eye(C)[LABELS]) / B
    if backend_name == "jax":
        import jax

        with jax.enable_x64(True), use("jax"):
            grad = np.asarray(jax.grad(lambda p: loss(LABELS, p))(jax.numpy.asarray(logits)))
    elif backend_name == "torch":
        import torch

        p = torch.tensor(logits, requires_grad=True)
        loss(torch.tensor(LABELS), p).backward()
        grad = p.grad.numpy()
    else:
        import tensorflow as tf

        p = tf.Variable(logits)
        with tf.GradientTape() as tape:
            value = loss(LABELS, p.value())
        grad = tape.gradient(value, p).numpy()
    assert grad.dtype == np.float64
    np.testing.assert_allclose(grad, expected, rtol=1e-12, atol=1e-15)
    if calls is not None:
        assert len(calls) == 1 and calls[0] is not None
