"""Optimizers across backends: one implementation gives the same numbers on NumPy, JAX,
PyTorch and TensorFlow, and runs under jax.jit (stateless_apply) and tf.function."""

import numpy as np
import pytest

import kbridge
from kbridge import ops, optimizers
from kbridge.backend import registry, use
from kbridge.optimizers import schedules

BACKENDS = ("numpy", "jax", "torch", "tensorflow")
RNG = np.random.RandomState(1)
INITIAL = [RNG.randn(4, 3).astype("float32"), RNG.randn(3).astype("float32")]
GRADS = [[RNG.randn(4, 3).astype("float32"), RNG.randn(3).astype("float32")] for _ in range(3)]

FACTORIES = {
    "sgd_nesterov": lambda: optimizers.SGD(0.1, momentum=0.9, nesterov=True, clipnorm=1.0),
    "rmsprop_centered": lambda: optimizers.RMSprop(0.01, momentum=0.5, centered=True, weight_decay=0.1),
    "adam_amsgrad": lambda: optimizers.Adam(0.01, amsgrad=True, global_clipnorm=2.0),
    "adamw": lambda: optimizers.AdamW(schedules.CosineDecay(0.01, 10, warmup_target=0.02, warmup_steps=2)),
    "adagrad": lambda: optimizers.Adagrad(0.1, clipvalue=0.5),
    "adadelta": lambda: optimizers.Adadelta(1.0, use_ema=True, ema_overwrite_frequency=2),
    "adamax": lambda: optimizers.Adamax(schedules.PiecewiseConstantDecay([1], [0.1, 0.01])),
    "nadam": lambda: optimizers.Nadam(0.01, gradient_accumulation_steps=2),
    "lion": lambda: optimizers.Lion(0.01, loss_scale_factor=2.0),
    "ftrl": lambda: optimizers.Ftrl(
        0.1, l1_regularization_strength=0.01, l2_shrinkage_regularization_strength=0.1, beta=0.1
    ),
}


def _skip_missing(name):
    if not registry.is_installed(name):
        pytest.skip(f"backend {name!r} is not installed")


def _train(name, factory, steps=3):
    with use(name):
        variables = [kbridge.Variable(v, name=f"w{i}") for i, v in enumerate(INITIAL)]
        optimizer = factory()
        for step in range(steps):
            optimizer.apply([ops.convert_to_tensor(g) for g in GRADS[step]], variables)
    return [v.numpy() for v in variables], [v.numpy() for v in optimizer.variables], variables, optimizer


_NUMPY_RESULTS = {}


def _numpy_result(key):
    if key not in _NUMPY_RESULTS:
        _NUMPY_RESULTS[key] = _train("numpy", FACTORIES[key])[:2]
    return _NUMPY_RESULTS[key]


@pytest.mark.parametrize("backend_name", BACKENDS[1:])
@pytest.mark.parametrize("key", sorted(FACTORIES))
def test_same_variables_on_every_backend(key, backend_name):
    _skip_missing(backend_name)
    weights, state, _, optimizer = _train(backend_name, FACTORIES[key])
    expected_weights, expected_state = _numpy_result(key)
    assert optimizer._backend.NAME == backend_name
    assert all(v.backend == backend_name for v in optimizer.variables)
    for got, want in zip(weights, expected_weights):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6, err_msg=f"{key} on {backend_name}")
    assert not np.allclose(weights[0], INITIAL[0])
    assert len(state) == len(expected_state)
    for got, want in zip(state, expected_state):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6, err_msg=f"{key} state on {backend_name}")
        assert got.dtype == want.dtype


def test_stateless_apply_under_jax_jit_equals_apply():
    _skip_missing("jax")
    import jax

    for key in ("adam_amsgrad", "nadam", "adadelta", "adamw"):
        expected_weights, expected_state = _numpy_result(key)
        with use("jax"):
            variables = [kbridge.Variable(v, name=f"w{i}") for i, v in enumerate(INITIAL)]
            optimizer = FACTORIES[key]()
            optimizer.build(variables)
            step = jax.jit(optimizer.stateless_apply)
            trainable = [v.value for v in variables]
            state = [v.value for v in optimizer.variables]
            for grads in GRADS:
                trainable, state = step(state, [jax.numpy.asarray(g) for g in grads], trainable)
        assert isinstance(trainable[0], jax.Array)
        for got, want in zip(trainable, expected_weights):
            np.testing.assert_allclose(np.asarray(got), want, rtol=1e-6, atol=1e-6, err_msg=key)
        for got, want in zip(state, expected_state):
            np.testing.assert_allclose(np.asarray(got), want, rtol=1e-6, atol=1e-6, err_msg=key)
        np.testing.assert_array_equal(variables[0].numpy(), INITIAL[0])  # pure: nothing assigned


def _tf_step(tf, optimizer, variables):
    @tf.function
    def step(grads):
        optimizer.apply(grads, variables)

    return step


def test_apply_inside_tf_function():
    _skip_missing("tensorflow")
    import tensorflow as tf

    for key in ("nadam", "adadelta", "adamw", "sgd_nesterov"):
        expected_weights, _ = _numpy_result(key)
        with use("tensorflow"):
            variables = [kbridge.Variable(v, name=f"w{i}") for i, v in enumerate(INITIAL)]
            optimizer = FACTORIES[key]()
            optimizer.build(variables)
            storages = [v._value for v in variables]

            step = _tf_step(tf, optimizer, variables)
            for grads in GRADS:
                step([tf.constant(g) for g in grads])
        assert int(optimizer._iterations.numpy()) == 3
        assert all(v._value is s for v, s in zip(variables, storages))
        for v, want in zip(variables, expected_weights):
            np.testing.assert_allclose(v.numpy(), want, rtol=1e-6, atol=1e-6, err_msg=key)


def test_torch_parameters_are_updated_in_place():
    _skip_missing("torch")
    import torch

    for key in ("adam_amsgrad", "nadam", "adadelta"):
        with use("torch"):
            variables = [kbridge.Variable(v, name=f"w{i}") for i, v in enumerate(INITIAL)]
        parameters = [v._value for v in variables]
        assert all(isinstance(p, torch.nn.Parameter) for p in parameters)
        optimizer = FACTORIES[key]()  # Created outside `use`: moved to torch by build.
        for grads in GRADS:
            optimizer.apply([torch.from_numpy(g) for g in grads], variables)
        assert all(v._value is p for v, p in zip(variables, parameters))
        assert all(p.requires_grad for p in parameters)
        np.testing.assert_allclose(parameters[0].detach().numpy(), _numpy_result(key)[0][0], rtol=1e-6, atol=1e-6)


def test_optimizer_follows_a_model_moved_between_backends():
    _skip_missing("torch")
    with use("numpy"):
        model = kbridge.Sequential([kbridge.Input((3,)), kbridge.layers.Dense(2)])
    optimizer = optimizers.Adam(0.1)
    grads = [np.ones(v.shape, "float32") for v in model.trainable_variables]
    optimizer.apply(grads, model.trainable_variables)
    assert optimizer.variables[2].backend == "numpy"
    model.to_backend("torch")
    optimizer.apply(grads, model.trainable_variables)
    assert {v.backend for v in optimizer.variables} == {"torch"}
    assert int(optimizer.iterations.numpy()) == 2


def test_apply_under_torch_compile_fullgraph():
    _skip_missing("torch")
    import torch

    def factory():
        schedule = schedules.CosineDecay(0.01, 10, warmup_target=0.02, warmup_steps=2)
        return optimizers.Nadam(schedule, global_clipnorm=1.0, use_ema=True, ema_overwrite_frequency=2,
                                gradient_accumulation_steps=2)  # fmt: skip

    eager = _train("numpy", factory)[0]
    with use("torch"):
        variables = [kbridge.Variable(v, name=f"w{i}") for i, v in enumerate(INITIAL)]
    optimizer = factory()
    optimizer.build(variables)
    step = torch.compile(lambda grads: optimizer.apply(grads, variables), fullgraph=True)
    for grads in GRADS:
        step([torch.from_numpy(g) for g in grads])
    for v, want in zip(variables, eager):
        np.testing.assert_allclose(v.numpy(), want, rtol=1e-6, atol=1e-6)
    assert int(optimizer._iterations.numpy()) == 3


@pytest.mark.parametrize(
    "factory",
    [
        lambda: optimizers.Adam(0.01),
        lambda: optimizers.AdamW(0.01, weight_decay=0.1, global_clipnorm=1.0),
        lambda: optimizers.Adam(schedules.ExponentialDecay(0.05, 2, 0.5), gradient_accumulation_steps=2),
        lambda: optimizers.Adam(0.01, amsgrad=True),  # not fused: falls back to the generic update
    ],
    ids=["adam", "adamw_clip", "adam_schedule_accumulation", "adam_amsgrad"],
)
@pytest.mark.parametrize("backend", ["torch", "tensorflow"])
def test_fused_adam_equals_the_generic_update_in_float64(backend, factory):
    """torch fuses Adam into in-place foreach ops, TensorFlow into ResourceApplyAdam; the numbers
    must be the generic update's (NumPy backend), in float64 to rounding, with float32 and
    float64 variables side by side."""
    _skip_missing(backend)
    initial = [INITIAL[0].astype("float64"), INITIAL[1]]  # two dtypes: two foreach groups
    grads = [[g[0].astype("float64"), g[1]] for g in GRADS] * 2
    results = {}
    for name in ("numpy", backend):
        with use(name):
            variables = [kbridge.Variable(v, dtype=str(v.dtype), name=f"w{i}") for i, v in enumerate(initial)]
            optimizer = factory()
            for step_grads in grads:
                optimizer.apply([ops.convert_to_tensor(g) for g in step_grads], variables)
            results[name] = [v.numpy() for v in variables] + [v.numpy() for v in optimizer.variables]
    for got, want in zip(results[backend], results["numpy"]):
        tolerance = 1e-12 if got.dtype == np.float64 else 1e-6
        np.testing.assert_allclose(got, want, rtol=tolerance, atol=tolerance)
    assert not np.allclose(results[backend][0], initial[0])


@pytest.mark.parametrize("backend", ["torch", "tensorflow"])
def test_fused_adam_is_used_and_stateless_apply_is_not(backend, monkeypatch):
    _skip_missing(backend)
    module = registry.get(backend)
    fused_results = []
    original = module.optimizer_kernel

    def counting_kernel_for(update_many):
        kernel = original(update_many)
        if kernel is None:
            return None
        return lambda *args: fused_results.append(kernel(*args)) or fused_results[-1]

    monkeypatch.setattr(module, "optimizer_kernel", counting_kernel_for)

    assert module.optimizer_kernel(optimizers.Adam._update_many) is not None
    assert module.optimizer_kernel(optimizers.SGD._update_many) is None
    with use(backend):
        variables = [kbridge.Variable(v, name=f"w{i}") for i, v in enumerate(INITIAL)]
        optimizer = optimizers.Adam(0.01)
        optimizer.build(variables)
        before = [v.numpy().copy() for v in variables]
        new_values, _ = optimizer.stateless_apply(
            [v.value for v in optimizer.variables], [ops.convert_to_tensor(g) for g in GRADS[0]],
            [v.value for v in variables],
        )
        for variable, value in zip(variables, before):
            np.testing.assert_array_equal(variable.numpy(), value)  # pure: nothing written
        assert fused_results == []  # stateless_apply took the generic update
        optimizer.apply([ops.convert_to_tensor(g) for g in GRADS[0]], variables)
        assert fused_results == [True]
        for variable, value in zip(variables, new_values):
            np.testing.assert_allclose(variable.numpy(), ops.convert_to_numpy(value), rtol=1e-6, atol=1e-7)
