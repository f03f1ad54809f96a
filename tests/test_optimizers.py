"""Optimizers and learning-rate schedules on the NumPy backend.

Every update rule is checked against a NumPy re-implementation (float64) of the
published rule written here; cross-backend agreement and compilers are tested in
interop_tests/test_optimizers_backends.py, Keras itself in ..._keras_parity.py.
"""

import math
import warnings

import numpy as np
import pytest

import kbridge
from kbridge import optimizers
from kbridge.optimizers import schedules


@pytest.fixture(autouse=True)
def numpy_backend():
    with kbridge.backend.use("numpy"):
        yield


RNG = np.random.RandomState(0)
INITIAL = [RNG.randn(3, 2).astype("float32"), RNG.randn(2).astype("float32")]
GRADS = [[RNG.randn(3, 2).astype("float32"), RNG.randn(2).astype("float32")] for _ in range(4)]


def _variables(values=INITIAL):
    return [kbridge.Variable(v, name=f"w{i}") for i, v in enumerate(values)]


def _run(optimizer, steps=3, grads=GRADS, values=INITIAL):
    variables = _variables(values)
    for step in range(steps):
        optimizer.apply(grads[step], variables)
    return [v.numpy() for v in variables]


# -- NumPy references of the published rules (state per variable, float64) ------------------------


def ref_sgd(lr=0.01, momentum=0.0, nesterov=False):
    def step(w, g, s, t):
        m = s.get("m", 0.0)
        m = momentum * m - lr * g
        s["m"] = m
        return w + (momentum * m - lr * g if nesterov else m)

    return step


def ref_rmsprop(lr=0.001, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False):
    def step(w, g, s, t):
        s["v"] = rho * s.get("v", 0.0) + (1 - rho) * g**2
        denominator = s["v"] + epsilon
        if centered:
            s["a"] = rho * s.get("a", 0.0) + (1 - rho) * g
            denominator = denominator - s["a"] ** 2
        increment = lr * g / np.sqrt(denominator)
        if momentum > 0:
            s["m"] = momentum * s.get("m", 0.0) + increment
            increment = s["m"]
        return w - increment

    return step


def ref_adam(lr=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False, weight_decay=None):
    def step(w, g, s, t):
        if weight_decay:
            w = w - w * weight_decay * lr
        s["m"] = beta_1 * s.get("m", 0.0) + (1 - beta_1) * g
        s["v"] = beta_2 * s.get("v", 0.0) + (1 - beta_2) * g**2
        v = s["v"]
        if amsgrad:
            s["vhat"] = v = np.maximum(s.get("vhat", 0.0), v)
        alpha = lr * math.sqrt(1 - beta_2**t) / (1 - beta_1**t)
        return w - alpha * s["m"] / (np.sqrt(v) + epsilon)

    return step


def ref_adagrad(lr=0.001, initial_accumulator_value=0.1, epsilon=1e-7):
    def step(w, g, s, t):
        s["a"] = s.get("a", initial_accumulator_value) + g**2
        return w - lr * g / np.sqrt(s["a"] + epsilon)

    return step


def ref_adadelta(lr=0.001, rho=0.95, epsilon=1e-7):
    def step(w, g, s, t):
        s["G"] = rho * s.get("G", 0.0) + (1 - rho) * g**2
        delta = -np.sqrt(s.get("D", 0.0) + epsilon) * g / np.sqrt(s["G"] + epsilon)
        s["D"] = rho * s.get("D", 0.0) + (1 - rho) * delta**2
        return w + lr * delta

    return step


def ref_adamax(lr=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    def step(w, g, s, t):
        s["m"] = beta_1 * s.get("m", 0.0) + (1 - beta_1) * g
        s["u"] = np.maximum(beta_2 * s.get("u", 0.0), np.abs(g))
        return w - lr * s["m"] / ((1 - beta_1**t) * (s["u"] + epsilon))

    return step


def ref_nadam(lr=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    # Dozat (2016) with the momentum schedule mu_t = beta_1 * (1 - 0.5 * 0.96**t).
    def step(w, g, s, t):
        mu = lambda k: beta_1 * (1 - 0.5 * 0.96**k)
        product = s.get("prod", 1.0) * mu(t)
        s["prod"] = product
        s["m"] = beta_1 * s.get("m", 0.0) + (1 - beta_1) * g
        s["v"] = beta_2 * s.get("v", 0.0) + (1 - beta_2) * g**2
        m_hat = mu(t + 1) * s["m"] / (1 - product * mu(t + 1)) + (1 - mu(t)) * g / (1 - product)
        v_hat = s["v"] / (1 - beta_2**t)
        return w - lr * m_hat / (np.sqrt(v_hat) + epsilon)

    return step


def ref_lion(lr=0.001, beta_1=0.9, beta_2=0.99):
    def step(w, g, s, t):
        m = s.get("m", 0.0)
        w = w - lr * np.sign(beta_1 * m + (1 - beta_1) * g)
        s["m"] = beta_2 * m + (1 - beta_2) * g
        return w

    return step


def ref_ftrl(
    lr=0.001, learning_rate_power=-0.5, initial_accumulator_value=0.1, l1=0.0, l2=0.0, shrinkage=0.0, beta=0.0
):
    # McMahan et al. (2013), FTRL-proximal with per-coordinate rates.
    def step(w, g, s, t):
        n = s.get("n", initial_accumulator_value)
        z = s.get("z", 0.0)
        n_new = n + g**2
        sigma = (n_new**-learning_rate_power - n**-learning_rate_power) / lr
        z = z + g + 2 * shrinkage * w - sigma * w
        quadratic = n_new**-learning_rate_power / lr + 2 * (l2 + beta / (2 * lr))
        s["n"], s["z"] = n_new, z
        return np.where(np.abs(z) > l1, -(z - np.sign(z) * l1) / quadratic, 0.0)

    return step


def _reference(rule, steps=3, grads=GRADS):
    values = [v.astype("float64") for v in INITIAL]
    states = [{} for _ in values]
    for t in range(1, steps + 1):
        values = [rule(w, g.astype("float64"), s, t) for w, g, s in zip(values, grads[t - 1], states)]
    return values


RULES = {
    "sgd": (lambda: optimizers.SGD(), ref_sgd()),
    "sgd_momentum": (lambda: optimizers.SGD(0.1, momentum=0.9), ref_sgd(0.1, 0.9)),
    "sgd_nesterov": (lambda: optimizers.SGD(0.1, momentum=0.5, nesterov=True), ref_sgd(0.1, 0.5, True)),
    "rmsprop": (lambda: optimizers.RMSprop(0.01), ref_rmsprop(0.01)),
    "rmsprop_centered": (
        lambda: optimizers.RMSprop(0.01, rho=0.8, momentum=0.5, centered=True),
        ref_rmsprop(0.01, 0.8, 0.5, centered=True),
    ),
    "adam": (lambda: optimizers.Adam(0.01), ref_adam(0.01)),
    "adam_amsgrad": (
        lambda: optimizers.Adam(0.01, beta_1=0.5, beta_2=0.6, amsgrad=True),
        ref_adam(0.01, 0.5, 0.6, amsgrad=True),
    ),
    "adamw": (lambda: optimizers.AdamW(0.01, weight_decay=0.1), ref_adam(0.01, weight_decay=0.1)),
    "adagrad": (lambda: optimizers.Adagrad(0.1), ref_adagrad(0.1)),
    "adadelta": (lambda: optimizers.Adadelta(1.0, rho=0.9), ref_adadelta(1.0, 0.9)),
    "adamax": (lambda: optimizers.Adamax(0.01), ref_adamax(0.01)),
    "nadam": (lambda: optimizers.Nadam(0.01), ref_nadam(0.01)),
    "lion": (lambda: optimizers.Lion(0.01), ref_lion(0.01)),
    "ftrl": (
        lambda: optimizers.Ftrl(
            0.1,
            l1_regularization_strength=0.01,
            l2_regularization_strength=0.1,
            l2_shrinkage_regularization_strength=0.05,
            beta=0.2,
        ),
        ref_ftrl(0.1, l1=0.01, l2=0.1, shrinkage=0.05, beta=0.2),
    ),
}


@pytest.mark.parametrize("name", sorted(RULES))
def test_update_rule_matches_numpy_reference(name):
    factory, rule = RULES[name]
    optimizer = factory()
    got = _run(optimizer)
    for g, e in zip(got, _reference(rule)):
        np.testing.assert_allclose(g, e, rtol=2e-5, atol=1e-6, err_msg=name)
    assert int(optimizer.iterations.numpy()) == 3
    assert not np.allclose(got[0], INITIAL[0]), "the variables did not move"


# -- gradient transformations ---------------------------------------------------------------------


def test_clipnorm_clips_each_gradient_to_its_norm():
    grads = [[np.full((3, 2), 3.0, "float32"), np.array([0.1, 0.0], "float32")]]
    got = _run(optimizers.SGD(1.0, clipnorm=1.0), steps=1, grads=grads)
    np.testing.assert_allclose(got[0], INITIAL[0] - 3.0 / np.sqrt(54.0), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(got[1], INITIAL[1] - grads[0][1], rtol=1e-6, atol=1e-6)  # norm 0.1 < 1: unchanged


def test_global_clipnorm_scales_all_gradients_together():
    grads = [[np.full((3, 2), 1.0, "float32"), np.array([1.0, 1.0], "float32")]]
    got = _run(optimizers.SGD(1.0, global_clipnorm=2.0), steps=1, grads=grads)
    scale = 2.0 / np.sqrt(8.0)
    np.testing.assert_allclose(got[0], INITIAL[0] - scale, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(got[1], INITIAL[1] - scale, rtol=1e-6, atol=1e-6)


def test_clipvalue_clips_elements():
    got = _run(optimizers.SGD(1.0, clipvalue=0.5), steps=1)
    np.testing.assert_allclose(got[0], INITIAL[0] - np.clip(GRADS[0][0], -0.5, 0.5), rtol=1e-6, atol=1e-6)


def test_loss_scale_factor_divides_gradients():
    optimizer = optimizers.SGD(1.0, loss_scale_factor=4.0)
    got = _run(optimizer, steps=1)
    np.testing.assert_allclose(got[0], INITIAL[0] - GRADS[0][0] / 4.0, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(np.asarray(optimizer.scale_loss(np.float32(2.0))), 8.0)


def test_weight_decay_and_exclusions():
    optimizer = optimizers.SGD(0.1, weight_decay=0.5)
    optimizer.exclude_from_weight_decay(var_names=["w1"])
    got = _run(optimizer, steps=1)
    np.testing.assert_allclose(got[0], INITIAL[0] * (1 - 0.05) - 0.1 * GRADS[0][0], rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(got[1], INITIAL[1] - 0.1 * GRADS[0][1], rtol=1e-6, atol=1e-6)
    variables = _variables()
    optimizer = optimizers.SGD(0.1, weight_decay=0.5)
    optimizer.exclude_from_weight_decay(var_list=[variables[0]])
    optimizer.apply(GRADS[0], variables)
    np.testing.assert_allclose(variables[0].numpy(), INITIAL[0] - 0.1 * GRADS[0][0], rtol=1e-6, atol=1e-6)
    with pytest.raises(ValueError, match="before the optimizer is built"):
        optimizer.exclude_from_weight_decay(var_names=["w0"])


def test_none_gradients_are_skipped_with_a_warning():
    variables = _variables()
    optimizer = optimizers.SGD(1.0)
    with pytest.warns(UserWarning, match="w1"):
        optimizer.apply([GRADS[0][0], None], variables)
    np.testing.assert_allclose(variables[0].numpy(), INITIAL[0] - GRADS[0][0], rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(variables[1].numpy(), INITIAL[1])
    with pytest.raises(ValueError, match="No gradients"):
        optimizer.apply([None, None], variables)


def test_constraint_applies_after_update_and_overwrite_with_gradient():
    variables = _variables()
    variables[0].constraint = kbridge.constraints.NonNeg()
    variables[1].overwrite_with_gradient = True
    optimizer = optimizers.Adam(0.1)
    optimizer.apply(GRADS[0], variables)
    assert (variables[0].numpy() >= 0).all() and (variables[0].numpy() == 0).any()
    np.testing.assert_array_equal(variables[1].numpy(), GRADS[0][1])
    assert [p for p, _ in optimizer.named_variables()] == ["iteration", "learning_rate", "momentum.w0", "velocity.w0"]


# -- EMA and gradient accumulation ------------------------------------------------------------------


def test_ema_tracks_average_and_finalize_overwrites():
    optimizer = optimizers.SGD(1.0, use_ema=True, ema_momentum=0.9)
    variables = _variables()
    expected_w = INITIAL[0].astype("float64")
    average = None
    for step in range(3):
        optimizer.apply(GRADS[step], variables)
        expected_w = expected_w - GRADS[step][0]
        average = expected_w if average is None else 0.9 * average + 0.1 * expected_w
    slots = dict(optimizer.named_variables())
    np.testing.assert_allclose(slots["average.w0"].numpy(), average, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(variables[0].numpy(), expected_w, rtol=1e-5, atol=1e-6)
    optimizer.finalize_variable_values(variables)
    np.testing.assert_allclose(variables[0].numpy(), average, rtol=1e-5, atol=1e-6)


def test_ema_overwrite_frequency():
    optimizer = optimizers.SGD(1.0, use_ema=True, ema_momentum=0.5, ema_overwrite_frequency=2)
    variables = _variables()
    optimizer.apply(GRADS[0], variables)
    w1 = INITIAL[0] - GRADS[0][0]
    np.testing.assert_allclose(variables[0].numpy(), w1, rtol=1e-6, atol=1e-6)  # step 1: not overwritten
    optimizer.apply(GRADS[1], variables)
    w2 = w1 - GRADS[1][0]
    np.testing.assert_allclose(variables[0].numpy(), 0.5 * w1 + 0.5 * w2, rtol=1e-5)  # step 2: the average


def test_gradient_accumulation_updates_every_n_steps_with_mean():
    optimizer = optimizers.SGD(1.0, momentum=0.5, gradient_accumulation_steps=2)
    variables = _variables()
    optimizer.apply(GRADS[0], variables)
    np.testing.assert_array_equal(variables[0].numpy(), INITIAL[0])
    slots = dict(optimizer.named_variables())
    np.testing.assert_allclose(slots["gradient_accumulator.w0"].numpy(), GRADS[0][0])
    np.testing.assert_array_equal(slots["momentum.w0"].numpy(), 0.0)
    optimizer.apply(GRADS[1], variables)
    mean = (GRADS[0][0] + GRADS[1][0]) / 2
    np.testing.assert_allclose(variables[0].numpy(), INITIAL[0] - mean, rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(slots["gradient_accumulator.w0"].numpy(), 0.0)
    assert int(optimizer._iterations.numpy()) == 2 and int(np.asarray(optimizer.iterations)) == 1


def test_gradient_accumulation_adam_uses_accumulated_step_count():
    accumulated = _run(optimizers.Adam(0.1, gradient_accumulation_steps=2), steps=4)
    means = [[(a + b) / 2 for a, b in zip(GRADS[2 * k], GRADS[2 * k + 1])] for k in range(2)]
    plain = _run(optimizers.Adam(0.1), steps=2, grads=means)
    for a, b in zip(accumulated, plain):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


# -- learning rate ----------------------------------------------------------------------------------


def test_schedule_is_evaluated_at_iterations():
    schedule = schedules.ExponentialDecay(1.0, decay_steps=1, decay_rate=0.5)
    optimizer = optimizers.SGD(schedule)
    got = _run(optimizer)
    expected = INITIAL[0] - sum(0.5**k * GRADS[k][0] for k in range(3))
    np.testing.assert_allclose(got[0], expected, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(np.asarray(optimizer.learning_rate), 0.125)
    assert [p for p, _ in optimizer.named_variables()] == ["iteration"]
    with pytest.raises(TypeError, match="not settable"):
        optimizer.learning_rate = 0.1


def test_learning_rate_setter_and_callable():
    optimizer = optimizers.SGD(0.5)
    optimizer.learning_rate = 0.25
    np.testing.assert_allclose(optimizer.learning_rate.numpy(), 0.25)
    got = _run(optimizer, steps=1)
    np.testing.assert_allclose(got[0], INITIAL[0] - 0.25 * GRADS[0][0], rtol=1e-6, atol=1e-6)
    optimizer = optimizers.SGD(lambda: 2.0)
    got = _run(optimizer, steps=1)
    np.testing.assert_allclose(got[0], INITIAL[0] - 2.0 * GRADS[0][0], rtol=1e-6, atol=1e-6)


def _at(schedule, steps):
    return np.array([float(np.asarray(schedule(step))) for step in steps])


STEPS = [0, 1, 5, 10, 15, 30]


def test_schedules_match_closed_forms():
    s = np.array(STEPS, dtype="float64")
    np.testing.assert_allclose(
        _at(schedules.ExponentialDecay(0.1, 10, 0.5), STEPS), 0.1 * 0.5 ** (s / 10), rtol=1e-6, atol=1e-6
    )
    np.testing.assert_allclose(
        _at(schedules.ExponentialDecay(0.1, 10, 0.5, staircase=True), STEPS), 0.1 * 0.5 ** np.floor(s / 10), rtol=1e-6
    )
    np.testing.assert_allclose(
        _at(schedules.InverseTimeDecay(0.1, 10, 0.5), STEPS), 0.1 / (1 + 0.5 * s / 10), rtol=1e-6, atol=1e-6
    )
    np.testing.assert_allclose(
        _at(schedules.InverseTimeDecay(0.1, 10, 0.5, staircase=True), STEPS),
        0.1 / (1 + 0.5 * np.floor(s / 10)),
        rtol=1e-6,
    )
    np.testing.assert_allclose(
        _at(schedules.PiecewiseConstantDecay([5, 10], [1.0, 0.5, 0.1]), STEPS), [1.0, 1.0, 1.0, 0.5, 0.1, 0.1]
    )
    poly = (0.1 - 0.01) * (1 - np.minimum(s, 10) / 10) ** 2 + 0.01
    np.testing.assert_allclose(
        _at(schedules.PolynomialDecay(0.1, 10, 0.01, power=2.0), STEPS), poly, rtol=1e-6, atol=1e-6
    )
    period = 10 * np.maximum(np.ceil(s / 10), 1)
    cyclic = (0.1 - 0.01) * (1 - s / period) + 0.01
    np.testing.assert_allclose(
        _at(schedules.PolynomialDecay(0.1, 10, 0.01, cycle=True), STEPS), cyclic, rtol=1e-5, atol=1e-7
    )
    cosine = 0.1 * ((1 - 0.1) * 0.5 * (1 + np.cos(np.pi * np.minimum(s, 10) / 10)) + 0.1)
    np.testing.assert_allclose(_at(schedules.CosineDecay(0.1, 10, alpha=0.1), STEPS), cosine, rtol=1e-5, atol=1e-6)


def test_cosine_decay_warmup():
    schedule = schedules.CosineDecay(0.0, 10, warmup_target=1.0, warmup_steps=5)
    steps = [0, 2, 5, 10, 15, 20]
    expected = [0.0, 0.4, 1.0, 0.5 * (1 + math.cos(math.pi * 0.5)), 0.0, 0.0]
    np.testing.assert_allclose(_at(schedule, steps), expected, atol=1e-6)
    zero_warmup = schedules.CosineDecay(0.5, 10, warmup_target=1.0, warmup_steps=0)
    np.testing.assert_allclose(_at(zero_warmup, [0, 5]), [1.0, 0.5], atol=1e-6)


def test_cosine_decay_restarts():
    def reference(step, first=10, t_mul=2.0, m_mul=0.5, alpha=0.1):
        period, start, restart = first, 0.0, 0
        while step >= start + period:
            start += period
            period *= t_mul
            restart += 1
        fraction = (step - start) / period
        return 0.1 * ((1 - alpha) * m_mul**restart * 0.5 * (1 + math.cos(math.pi * fraction)) + alpha)

    steps = [0, 3, 10, 12, 29, 30, 45]
    np.testing.assert_allclose(
        _at(schedules.CosineDecayRestarts(0.1, 10, m_mul=0.5, alpha=0.1), steps),
        [reference(s) for s in steps],
        rtol=1e-5,
    )
    flat = schedules.CosineDecayRestarts(0.1, 10, t_mul=1.0)
    np.testing.assert_allclose(_at(flat, [5, 15]), [0.05, 0.05], rtol=1e-5, atol=1e-6)


def test_schedule_errors_and_serialization():
    with pytest.raises(ValueError, match="decay_steps"):
        schedules.ExponentialDecay(0.1, 0, 0.5)
    with pytest.raises(ValueError, match="1 less"):
        schedules.PiecewiseConstantDecay([1, 2], [0.1, 0.2])
    for schedule in [
        schedules.ExponentialDecay(0.1, 10, 0.5, staircase=True),
        schedules.PiecewiseConstantDecay([5, 10], [1.0, 0.5, 0.1]),
        schedules.PolynomialDecay(0.1, 10, cycle=True),
        schedules.InverseTimeDecay(0.1, 10, 0.5),
        schedules.CosineDecay(0.1, 10, warmup_target=0.2, warmup_steps=3),
        schedules.CosineDecayRestarts(0.1, 10, t_mul=3.0),
    ]:
        config = schedules.serialize(schedule)
        assert config["module"] == "keras.optimizers.schedules"
        restored = schedules.deserialize(config)
        assert type(restored) is type(schedule) and restored.get_config() == schedule.get_config()
        np.testing.assert_allclose(_at(restored, [0, 7, 13]), _at(schedule, [0, 7, 13]))


# -- config, get, paths -----------------------------------------------------------------------------

CLASSES = [optimizers.SGD, optimizers.RMSprop, optimizers.Adam, optimizers.AdamW, optimizers.Adagrad,
           optimizers.Adadelta, optimizers.Adamax, optimizers.Nadam, optimizers.Lion, optimizers.Ftrl]  # fmt: skip


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_config_round_trip(cls):
    optimizer = cls(learning_rate=0.02, clipnorm=1.5, use_ema=True, gradient_accumulation_steps=3, name="opt")
    config = optimizer.get_config()
    assert config["learning_rate"] == pytest.approx(0.02) and config["clipnorm"] == 1.5 and config["name"] == "opt"
    restored = cls.from_config(config)
    assert restored.get_config() == config
    serialized = optimizers.serialize(optimizer)
    assert serialized["module"] == "keras.optimizers" and serialized["class_name"] == cls.__name__
    assert optimizers.deserialize(serialized).get_config() == config


def test_config_with_schedule_round_trip():
    optimizer = optimizers.Adam(schedules.CosineDecay(0.1, 100, alpha=0.2))
    config = optimizer.get_config()
    assert config["learning_rate"]["class_name"] == "CosineDecay"
    restored = optimizers.Adam.from_config(config)
    assert isinstance(restored._learning_rate, schedules.CosineDecay)
    assert restored._learning_rate.get_config() == optimizer._learning_rate.get_config()
    restored = kbridge.saving.deserialize_keras_object(optimizers.serialize(optimizer))
    assert isinstance(restored, optimizers.Adam) and isinstance(restored._learning_rate, schedules.CosineDecay)


def test_get():
    names = {"sgd": optimizers.SGD, "adam": optimizers.Adam, "adamw": optimizers.AdamW, "rmsprop": optimizers.RMSprop,
             "adagrad": optimizers.Adagrad, "adadelta": optimizers.Adadelta, "adamax": optimizers.Adamax,
             "nadam": optimizers.Nadam, "lion": optimizers.Lion, "ftrl": optimizers.Ftrl}  # fmt: skip
    for name, cls in names.items():
        assert type(optimizers.get(name)) is cls
    assert type(optimizers.get("Adam")) is optimizers.Adam
    instance = optimizers.SGD()
    assert optimizers.get(instance) is instance
    assert optimizers.get(None) is None
    from_dict = optimizers.get({"class_name": "SGD", "config": {"learning_rate": 0.5, "momentum": 0.5}})
    assert isinstance(from_dict, optimizers.SGD) and from_dict.momentum == 0.5
    with pytest.raises(ValueError, match="Valid names.*adam"):
        optimizers.get("adamz")
    with pytest.raises(ValueError, match="Could not interpret"):
        optimizers.get(42)


def test_argument_errors():
    with pytest.raises(ValueError, match="Only one of"):
        optimizers.SGD(clipnorm=1.0, clipvalue=1.0)
    with pytest.raises(ValueError, match="gradient_accumulation_steps"):
        optimizers.SGD(gradient_accumulation_steps=1)
    with pytest.raises(ValueError, match="ema_momentum"):
        optimizers.SGD(use_ema=True, ema_momentum=1.5)
    with pytest.raises(ValueError, match="learning_rate"):
        optimizers.SGD(learning_rate="fast")
    with pytest.raises(ValueError, match="not recognized"):
        optimizers.Adam(betas=0.9)
    with pytest.raises(ValueError, match="momentum"):
        optimizers.SGD(momentum=2.0)
    with pytest.raises(ValueError, match="weight_decay"):
        optimizers.AdamW(weight_decay=None)
    with pytest.raises(ValueError, match="beta_1"):
        optimizers.Lion(beta_1=0.0)
    with pytest.raises(ValueError, match="l1_regularization_strength"):
        optimizers.Ftrl(l1_regularization_strength=-1.0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        optimizers.SGD(decay=0.1)
    assert any("decay" in str(w.message) for w in caught)


def test_apply_errors():
    optimizer = optimizers.SGD()
    with pytest.raises(ValueError, match="must already be built"):
        optimizer.apply(GRADS[0])
    variables = _variables()
    optimizer.apply(GRADS[0], variables)
    with pytest.raises(ValueError, match="Unknown variable"):
        optimizer.apply(GRADS[0], _variables())
    with pytest.raises(ValueError, match="2 variables"):
        optimizer.apply(GRADS[0][:1], variables)
    with pytest.raises(ValueError, match="must be built"):
        optimizers.Adam().stateless_apply([], GRADS[0], INITIAL)


def _model():
    return kbridge.Sequential([kbridge.Input((3,)), kbridge.layers.Dense(2)])


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_slot_paths_are_structural(cls):
    first, second = _model(), _model()
    kbridge.layers.Dense(4)  # Bumps the global name counters between the two builds.
    a = cls(use_ema=True, gradient_accumulation_steps=2)
    b = cls(use_ema=True, gradient_accumulation_steps=2)
    a.build(first.trainable_variables)
    b.build(second.trainable_variables)
    paths = [p for p, _ in a.named_variables()]
    assert paths == [p for p, _ in b.named_variables()]
    assert len(set(paths)) == len(paths) == len(a.variables)
    assert paths[:2] == ["iteration", "learning_rate"]
    assert "average.layers.0.kernel" in paths and "gradient_accumulator.layers.0.bias" in paths
    assert all(v.path == p for p, v in a.named_variables())
    assert a.named_variables(weights_only=True) == []


def test_stateless_apply_matches_apply_and_touches_nothing():
    model = _model()
    optimizer = optimizers.Adam(0.1, use_ema=True, gradient_accumulation_steps=2)
    optimizer.build(model.trainable_variables)
    reference = optimizers.Adam(0.1, use_ema=True, gradient_accumulation_steps=2)
    twin = _model()
    twin.set_weights(model.get_weights())
    trainable = [v.numpy() for v in model.trainable_variables]
    state = [v.numpy() for v in optimizer.variables]
    before = [v.numpy() for v in optimizer.variables]
    for step in range(3):
        grads = [RNG.randn(*v.shape).astype("float32") for v in model.trainable_variables]
        trainable, state = optimizer.stateless_apply(state, grads, trainable)
        reference.apply(grads, twin.trainable_variables)
    for got, v in zip(trainable, twin.trainable_variables):
        np.testing.assert_allclose(np.asarray(got), v.numpy(), rtol=1e-6, atol=1e-6)
    for got, v in zip(state, reference.variables):
        np.testing.assert_allclose(np.asarray(got), v.numpy(), rtol=1e-6, atol=1e-6)
    for b, v in zip(before, optimizer.variables):
        np.testing.assert_array_equal(b, v.numpy())
    assert int(np.asarray(state[0])) == 3


def test_save_and_load_own_variables():
    optimizer = optimizers.Adam(0.1)
    _run(optimizer, steps=2)
    store = {}
    optimizer.save_own_variables(store)
    fresh = optimizers.Adam(0.1)
    fresh.build(_variables())
    fresh.load_own_variables(store)
    for a, b in zip(optimizer.variables, fresh.variables):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    with pytest.warns(UserWarning, match="Skipping variable loading"):
        optimizers.Adam().load_own_variables(store)


def test_repeated_variable_paths_get_suffixes():
    a, b = kbridge.layers.Dense(2), kbridge.layers.Dense(2)
    a.build((None, 3))
    b.build((None, 3))
    optimizer = optimizers.SGD(momentum=0.5)
    optimizer.build(a.trainable_variables + b.trainable_variables)
    assert [p for p, _ in optimizer.named_variables()][2:] == [
        "momentum.kernel", "momentum.bias", "momentum.kernel_1", "momentum.bias_1",
    ]  # fmt: skip
