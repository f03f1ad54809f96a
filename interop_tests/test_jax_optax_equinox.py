"""`kbridge.adapters.jax.to_optax` (a kbridge optimizer as optax) and `to_equinox` (a model as an eqx.Module)."""

import subprocess
import sys

import numpy as np
import pytest

jax = pytest.importorskip("jax")
jnp = pytest.importorskip("jax.numpy")
optax = pytest.importorskip("optax")
eqx = pytest.importorskip("equinox")

import kbridge
from kbridge import layers
from kbridge.adapters.jax import KbridgeModule, load_into, to_equinox, to_function, to_optax

rng = np.random.default_rng(0)
X = rng.standard_normal((16, 4)).astype("float32")
Y = rng.standard_normal((16, 2)).astype("float32")


def make_model(stateful=False, seed=0):
    kbridge.utils.set_random_seed(seed)  # initial weights independent of test order
    stack = [kbridge.Input((4,)), layers.Dense(8, activation="tanh")]
    if stateful:
        stack += [layers.BatchNormalization(), layers.Dropout(0.2, seed=1)]
    stack.append(layers.Dense(2))
    with kbridge.backend.use("jax"):
        return kbridge.Sequential(stack)


def numpy_out(model, x):
    return kbridge.ops.convert_to_numpy(model(x))


def optax_train(fn, tx, steps=20):
    def loss(params):
        out, _ = fn.apply(params, fn.state, X)
        return jnp.mean((out - Y) ** 2)

    @jax.jit
    def step(params, opt_state):
        grads = jax.grad(loss)(params)
        updates, opt_state = tx.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state

    params, opt_state = fn.params, tx.init(fn.params)
    for _ in range(steps):
        params, opt_state = step(params, opt_state)
    return params, opt_state


# -- to_optax ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make_optimizer",
    [
        lambda: kbridge.optimizers.Adam(1e-2),
        lambda: kbridge.optimizers.SGD(0.05, momentum=0.9, nesterov=True),
        lambda: kbridge.optimizers.AdamW(1e-2, weight_decay=0.1, global_clipnorm=0.5),
    ],
    ids=["adam", "sgd_nesterov", "adamw_clip"],
)
def test_to_optax_loop_equals_fit(make_optimizer):
    reference = make_model()
    trained = make_model()
    trained.set_weights(reference.get_weights())
    optimizer = make_optimizer()
    params, _ = optax_train(to_function(reference), to_optax(optimizer), steps=20)
    assert not optimizer.built  # the given optimizer is only a template
    trained.compile(optimizer=make_optimizer(), loss="mse")
    trained.fit(X, Y, batch_size=len(X), epochs=20, shuffle=False, verbose=0)
    load_into(reference, params)
    for got, want in zip(reference.get_weights(), trained.get_weights()):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def test_to_optax_adam_is_close_to_optax_adam():
    fn = to_function(make_model())
    ours, _ = optax_train(fn, to_optax(kbridge.optimizers.Adam(1e-2)), steps=20)
    # Keras adds epsilon to sqrt(v), optax to sqrt(v_hat) (an epsilon scaled by sqrt(1 - beta_2**t)):
    # equal up to that, which Adam's normalisation can amplify where a gradient is near zero.
    theirs, _ = optax_train(fn, optax.adam(1e-2, eps=1e-7), steps=20)
    for a, b in zip(jax.tree_util.tree_leaves(ours), jax.tree_util.tree_leaves(theirs)):
        np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-3)
    one, _ = optax_train(fn, to_optax(kbridge.optimizers.Adam(1e-2)), steps=1)
    other, _ = optax_train(fn, optax.adam(1e-2, eps=1e-7), steps=1)
    for a, b in zip(jax.tree_util.tree_leaves(one), jax.tree_util.tree_leaves(other)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)


def test_to_optax_state_is_a_pytree_of_optimizer_values():
    fn = to_function(make_model())
    tx = to_optax(kbridge.optimizers.Adam(1e-3))
    opt_state = tx.init(fn.params)
    leaves = jax.tree_util.tree_leaves(opt_state)
    assert int(leaves[0]) == 0  # iteration, then learning_rate, then the slots
    np.testing.assert_allclose(leaves[1], 1e-3)
    assert len(leaves) == 2 + 2 * len(jax.tree_util.tree_leaves(fn.params))
    _, opt_state = optax_train(fn, tx, steps=3)
    assert int(jax.tree_util.tree_leaves(opt_state)[0]) == 3
    chained = optax.chain(optax.clip_by_global_norm(1.0), tx)  # composes with optax
    state = chained.init(fn.params)
    grads = jax.tree_util.tree_map(jnp.ones_like, fn.params)
    updates, _ = chained.update(grads, state, fn.params)
    assert jax.tree_util.tree_structure(updates) == jax.tree_util.tree_structure(fn.params)
    with pytest.raises(ValueError, match="needs `params`"):
        tx.update(grads, opt_state)
    with pytest.raises(ValueError, match="kbridge optimizer"):
        to_optax(optax.adam(1e-3))


# -- to_equinox --------------------------------------------------------------------------


def test_to_equinox_module_is_the_params_and_matches_the_model():
    model = make_model(stateful=True)
    module, state = to_equinox(model)
    assert isinstance(module, KbridgeModule) and isinstance(module, eqx.Module)
    assert isinstance(state, eqx.nn.State)
    fn = to_function(model)
    dynamic, static = eqx.partition(module, eqx.is_array)
    assert jax.tree_util.tree_structure(dynamic.params) == jax.tree_util.tree_structure(fn.params)
    assert len(jax.tree_util.tree_leaves(dynamic)) == len(jax.tree_util.tree_leaves(fn.params))
    rebuilt = eqx.combine(dynamic, static)
    out, new_state = eqx.filter_jit(rebuilt)(X, state)
    np.testing.assert_allclose(out, numpy_out(model, X), rtol=1e-6, atol=1e-6)
    for a, b in zip(jax.tree_util.tree_leaves(module.model_state(new_state)), jax.tree_util.tree_leaves(fn.state)):
        np.testing.assert_array_equal(a, b)
    grads = eqx.filter_grad(lambda m: jnp.sum(m(X, state)[0]))(module)
    assert jax.tree_util.tree_structure(grads.params) == jax.tree_util.tree_structure(fn.params)
    with pytest.raises(TypeError, match="eqx.nn.State"):
        module(X)


def test_to_equinox_trains_with_optax_and_loads_back():
    model = make_model(stateful=True)
    module, state = to_equinox(model)
    tx = optax.adam(1e-2)
    opt_state = tx.init(eqx.filter(module, eqx.is_array))

    @eqx.filter_jit
    def step(module, state, opt_state):
        def loss(module, state):
            out, state = module(X, state, training=True)
            return jnp.mean((out - Y) ** 2), state

        (value, state), grads = eqx.filter_value_and_grad(loss, has_aux=True)(module, state)
        updates, opt_state = tx.update(grads, opt_state, eqx.filter(module, eqx.is_array))
        return eqx.apply_updates(module, updates), state, opt_state, value

    losses = []
    for _ in range(30):
        module, state, opt_state, value = step(module, state, opt_state)
        losses.append(float(value))
    assert losses[-1] < 0.7 * losses[0], losses
    moving_mean = module.model_state(state)["layers"]["1"]["moving_mean"]
    assert np.abs(np.asarray(moving_mean)).max() > 0  # statistics travelled in the eqx.nn.State

    target = make_model(stateful=True, seed=1)
    load_into(target, module.params, module.model_state(state))
    other = make_model(stateful=True, seed=2)
    module.load_into(other, state)
    out, state = module(X, state)  # as any eqx.nn.State, `state` is used up: go on with the new one
    np.testing.assert_allclose(numpy_out(target, X), out, rtol=1e-5, atol=1e-5)
    for a, b in zip(other.get_weights(), target.get_weights()):
        np.testing.assert_array_equal(a, b)
    # Round trip: the loaded model gives the same module leaves.
    again, again_state = to_equinox(target)
    leaves = [jax.tree_util.tree_leaves(eqx.filter(m, eqx.is_array)) for m in (again, module)]
    for a, b in zip(*leaves):
        np.testing.assert_array_equal(a, b)


def test_to_equinox_with_kbridge_optimizer_via_to_optax():
    module, state = to_equinox(make_model())
    tx = to_optax(kbridge.optimizers.Adam(1e-2))
    opt_state = tx.init(eqx.filter(module, eqx.is_array))
    loss = eqx.filter_jit(eqx.filter_value_and_grad(lambda m: jnp.mean((m(X, state)[0] - Y) ** 2)))
    first, _ = loss(module)
    for _ in range(10):
        value, grads = loss(module)
        updates, opt_state = tx.update(grads, opt_state, eqx.filter(module, eqx.is_array))
        module = eqx.apply_updates(module, updates)
    assert float(loss(module)[0]) < float(first)


def test_adapter_package_import_does_not_load_optax_or_equinox():
    code = (
        "import sys, kbridge.adapters.jax as a; a.to_function; "
        "assert 'optax' not in sys.modules and 'equinox' not in sys.modules, "
        "[m for m in ('optax', 'equinox') if m in sys.modules]"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_optimizer_method_to_optax_is_the_bridge():
    import jax.numpy as jnp

    transform = kbridge.optimizers.SGD(0.1).to_optax()
    params = {"w": jnp.ones(2)}
    updates, _ = transform.update({"w": jnp.ones(2)}, transform.init(params), params)
    np.testing.assert_allclose(np.asarray(updates["w"]), [-0.1, -0.1], rtol=1e-6)


@pytest.mark.parametrize(
    "native, make_optimizer",
    [
        (lambda: optax.sgd(0.05, momentum=0.9, nesterov=True), lambda: kbridge.optimizers.SGD(0.05, 0.9, nesterov=True)),
        (lambda: optax.sgd(0.1), lambda: kbridge.optimizers.SGD(0.1)),
        (lambda: optax.rmsprop(1e-2, decay=0.9, eps=1e-7), lambda: kbridge.optimizers.RMSprop(1e-2, rho=0.9)),
    ],
    ids=["sgd_nesterov", "sgd", "rmsprop"],
)
def test_native_optax_loop_equals_fit_with_the_equivalent_kbridge_optimizer(native, make_optimizer):
    """A plain optax optimizer over `fn.params` follows the same 20 steps as `fit` with kbridge's."""
    reference = make_model()
    trained = make_model()
    trained.set_weights(reference.get_weights())
    params, _ = optax_train(to_function(reference), native(), steps=20)
    trained.compile(optimizer=make_optimizer(), loss="mse")
    trained.fit(X, Y, batch_size=len(X), epochs=20, shuffle=False, verbose=0)
    load_into(reference, params)
    for got, want in zip(reference.get_weights(), trained.get_weights()):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
