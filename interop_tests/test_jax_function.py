"""`kbridge.adapters.jax.to_function` / `load_into`: a kbridge model as a pure JAX function."""

import numpy as np
import pytest

jax = pytest.importorskip("jax")
jnp = pytest.importorskip("jax.numpy")
ravel_pytree = pytest.importorskip("jax.flatten_util").ravel_pytree

import kbridge as keras
from kbridge import layers
from kbridge.adapters.jax import load_into, to_function

rng = np.random.default_rng(0)


def make_model(dropout=True, batchnorm=True, dtype=None, in_dim=4, seed=1):
    inputs = keras.Input(shape=(in_dim,), dtype=dtype)
    x = layers.Dense(8, activation="tanh", dtype=dtype)(inputs)
    if dropout:
        x = layers.Dropout(0.5, seed=seed, dtype=dtype)(x)
    if batchnorm:
        x = layers.BatchNormalization(dtype=dtype)(x)
    outputs = layers.Dense(2, dtype=dtype)(x)
    return keras.Model(inputs, outputs)


def x_data(n=6, d=4, dtype="float32"):
    return rng.standard_normal((n, d)).astype(dtype)


def leaf_paths(tree):
    return [".".join(str(k.key) for k in path) for path, _ in jax.tree_util.tree_leaves_with_path(tree)]


def mse(fn, params, state, x, y, training=False):
    out, new_state = fn.apply(params, state, x, training=training)
    return jnp.mean((out - y) ** 2), new_state


# -- trees -----------------------------------------------------------------------------


def test_trees_are_keyed_by_structural_paths():
    model = make_model().to_backend("jax")
    fn = to_function(model)
    assert set(leaf_paths(fn.params)) == {p for p, v in model.named_variables() if v.trainable}
    assert set(leaf_paths(fn.state)) == {p for p, v in model.named_variables() if not v.trainable}
    assert fn.params["layers"]["1"]["kernel"].shape == (4, 8)
    assert "state" in fn.state["layers"]["2"]["seed_generator"]
    assert "moving_mean" in fn.state["layers"]["3"]
    assert all(isinstance(leaf, jax.Array) for leaf in jax.tree_util.tree_leaves((fn.params, fn.state)))
    other = to_function(make_model().to_backend("jax"))
    assert jax.tree_util.tree_structure(other.params) == jax.tree_util.tree_structure(fn.params)
    assert jax.tree_util.tree_structure(other.state) == jax.tree_util.tree_structure(fn.state)
    assert leaf_paths(other.params) == leaf_paths(fn.params)


def test_non_jax_model_is_refused():
    with keras.backend.use("numpy"):
        model = make_model()
    with pytest.raises(ValueError, match=r'to_backend\("jax"\)'):
        to_function(model)


# -- apply ----------------------------------------------------------------------------


def test_apply_matches_the_model_in_inference_and_training():
    model = make_model().to_backend("jax")
    fn = to_function(model)
    x = x_data()
    out, new_state = fn.apply(fn.params, fn.state, x)
    np.testing.assert_allclose(out, keras.ops.convert_to_numpy(model(x)), rtol=1e-6, atol=1e-6)
    for a, b in zip(jax.tree_util.tree_leaves(new_state), jax.tree_util.tree_leaves(fn.state)):
        np.testing.assert_array_equal(a, b)

    # Training: the same state gives the same dropout mask, and the state advances.
    out_t, state_t = jax.jit(lambda p, s, x: fn.apply(p, s, x, training=True))(fn.params, fn.state, x)
    again, _ = fn.apply(fn.params, fn.state, x, training=True)
    np.testing.assert_allclose(out_t, again, rtol=1e-6, atol=1e-6)
    ref = keras.ops.convert_to_numpy(model(x, training=True))  # the model's own (same) state
    np.testing.assert_allclose(out_t, ref, rtol=1e-5, atol=1e-6)
    seed_before = fn.state["layers"]["2"]["seed_generator"]["state"]
    seed_after = state_t["layers"]["2"]["seed_generator"]["state"]
    assert not np.array_equal(seed_before, seed_after)
    np.testing.assert_array_equal(seed_after, model.layers[2].seed_generator.state.numpy())
    assert not np.allclose(state_t["layers"]["3"]["moving_mean"], fn.state["layers"]["3"]["moving_mean"])
    next_out, _ = fn.apply(fn.params, state_t, x, training=True)
    assert not np.allclose(next_out, out_t)
    # apply itself never touched the snapshot.
    assert not np.array_equal(fn.state["layers"]["2"]["seed_generator"]["state"], seed_after)


# -- transforms ------------------------------------------------------------------------


def test_grad_equals_finite_differences_in_float64():
    with jax.enable_x64(True):
        model = make_model(dropout=False, batchnorm=False, dtype="float64").to_backend("jax")
        fn = to_function(model)
        assert fn.params["layers"]["1"]["kernel"].dtype == jnp.float64
        x, y = x_data(dtype="float64"), rng.standard_normal((6, 2))

        def loss(params):
            return mse(fn, params, fn.state, x, y)[0]

        grads = jax.jit(jax.grad(loss))(fn.params)
        flat, unravel = ravel_pytree(fn.params)
        eps = 1e-6
        numeric = np.array(
            [
                (loss(unravel(flat.at[i].add(eps))) - loss(unravel(flat.at[i].add(-eps)))) / (2 * eps)
                for i in range(flat.size)
            ]
        )
        np.testing.assert_allclose(ravel_pytree(grads)[0], numeric, rtol=1e-6, atol=1e-9)


def test_vmap_per_example_gradients_equal_a_loop():
    model = make_model(dropout=False, batchnorm=False).to_backend("jax")
    fn = to_function(model)
    x, y = x_data(5), rng.standard_normal((5, 2)).astype("float32")

    def single(params, state, xi, yi):
        return mse(fn, params, state, xi[None], yi[None])[0]

    per_example = jax.jit(jax.vmap(jax.grad(single), in_axes=(None, None, 0, 0)))(fn.params, fn.state, x, y)
    for i in range(5):
        expected = jax.grad(single)(fn.params, fn.state, x[i], y[i])
        jax.tree_util.tree_map(
            lambda a, b: np.testing.assert_allclose(a[i], b, rtol=1e-5, atol=1e-6), per_example, expected
        )


def test_checkpoint_gives_the_same_gradients():
    model = make_model().to_backend("jax")
    fn = to_function(model)
    x, y = x_data(), rng.standard_normal((6, 2)).astype("float32")

    def train_apply(p, s, x):
        return fn.apply(p, s, x, training=True)

    def loss(params, apply):
        out, _ = apply(params, fn.state, x)
        return jnp.mean((out - y) ** 2)

    plain = jax.grad(loss)(fn.params, train_apply)
    remat = jax.jit(jax.grad(lambda p: loss(p, jax.checkpoint(train_apply))))(fn.params)
    jax.tree_util.tree_map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6), plain, remat)
    with pytest.raises(ValueError, match="static_argnames"):
        jax.jit(fn.apply)(fn.params, fn.state, x, training=True)
    static = jax.jit(fn.apply, static_argnames="training")(fn.params, fn.state, x, training=True)[0]
    np.testing.assert_allclose(static, fn.apply(fn.params, fn.state, x, training=True)[0], rtol=1e-6, atol=1e-6)


def test_scan_of_sgd_steps_equals_a_python_loop():
    model = make_model().to_backend("jax")
    fn = to_function(model)
    xs = rng.standard_normal((5, 6, 4)).astype("float32")
    ys = rng.standard_normal((5, 6, 2)).astype("float32")

    def step(carry, batch):
        params, state = carry
        (loss, new_state), grads = jax.value_and_grad(
            lambda p: mse(fn, p, state, batch[0], batch[1], training=True), has_aux=True
        )(params)
        params = jax.tree_util.tree_map(lambda p, g: p - 0.1 * g, params, grads)
        return (params, new_state), loss

    (p_scan, s_scan), losses = jax.jit(lambda c, b: jax.lax.scan(step, c, b))((fn.params, fn.state), (xs, ys))
    carry = (fn.params, fn.state)
    loop_losses = []
    for i in range(5):
        carry, loss = step(carry, (xs[i], ys[i]))
        loop_losses.append(loss)
    np.testing.assert_allclose(losses, loop_losses, rtol=1e-5, atol=1e-6)
    jax.tree_util.tree_map(
        lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6), (p_scan, s_scan), carry
    )
    assert not np.array_equal(
        s_scan["layers"]["2"]["seed_generator"]["state"], fn.state["layers"]["2"]["seed_generator"]["state"]
    )


def test_optax_adamw_loop_trains():
    optax = pytest.importorskip("optax")
    model = make_model(batchnorm=False).to_backend("jax")
    fn = to_function(model)
    x = x_data(64)
    y = np.stack([x[:, 0] - 2 * x[:, 1], x[:, 2] * x[:, 3]], axis=1).astype("float32")
    opt = optax.adamw(1e-2)
    params, state = fn.params, fn.state
    opt_state = opt.init(params)

    @jax.jit
    def train_step(params, state, opt_state, x, y):
        (loss, state), grads = jax.value_and_grad(
            lambda p: mse(fn, p, state, x, y, training=True), has_aux=True
        )(params)
        updates, opt_state = opt.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), state, opt_state, loss

    first = float(mse(fn, params, state, x, y)[0])
    for _ in range(150):
        params, state, opt_state, _ = train_step(params, state, opt_state, x, y)
    last = float(mse(fn, params, state, x, y)[0])
    assert last < 0.5 * first, (first, last)


# -- load_into and errors --------------------------------------------------------------


def test_load_into_then_predict_equals_apply():
    model = make_model().to_backend("jax")
    fn = to_function(model)
    x = x_data()
    params = jax.tree_util.tree_map(lambda p: p * 1.5 + 0.1, fn.params)
    _, state = fn.apply(params, fn.state, x, training=True)
    expected, _ = fn.apply(params, state, x)
    load_into(model, params, state)
    np.testing.assert_allclose(model.predict(x, verbose=0), expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(model.layers[1].kernel.numpy(), params["layers"]["1"]["kernel"])
    # Another backend sees the values too.
    model.to_backend("numpy")
    np.testing.assert_allclose(keras.ops.convert_to_numpy(model(x)), expected, rtol=1e-5, atol=1e-6)
    load_into(model, fn.params)  # into a numpy-backed model: params only
    np.testing.assert_array_equal(model.layers[1].kernel.numpy(), fn.params["layers"]["1"]["kernel"])


def test_structure_mismatches_name_the_path():
    model = make_model().to_backend("jax")
    fn = to_function(model)
    x = x_data()
    bad = jax.tree_util.tree_map(lambda p: p, fn.params)
    bad["layers"]["1"]["kernel"] = jnp.zeros((5, 8))
    with pytest.raises(ValueError, match=r"layers\.1\.kernel has shape \(5, 8\)"):
        fn.apply(bad, fn.state, x)
    with pytest.raises(ValueError, match=r"layers\.1\.kernel"):
        load_into(model, bad)
    missing = jax.tree_util.tree_map(lambda p: p, fn.params)
    del missing["layers"]["4"]["bias"]
    with pytest.raises(ValueError, match=r"missing \['layers\.4\.bias'\]"):
        jax.jit(fn.apply)(missing, fn.state, x)
    extra = jax.tree_util.tree_map(lambda p: p, fn.params)
    extra["layers"]["1"]["scale"] = jnp.ones(())
    with pytest.raises(ValueError, match=r"unexpected \['layers\.1\.scale'\]"):
        fn.apply(extra, fn.state, x)
    with pytest.raises(ValueError, match="`state`"):
        fn.apply(fn.params, {}, x)
    # A failed load changes nothing.
    np.testing.assert_array_equal(model.layers[1].kernel.numpy(), fn.params["layers"]["1"]["kernel"])


def test_apply_input_count_errors_and_positional_multi_inputs():
    fn = to_function(make_model(dropout=False, batchnorm=False).to_backend("jax"))
    x = x_data()
    with pytest.raises(TypeError, match=r"takes 1 positional input argument\(s\) \(inputs\), but received 2"):
        fn.apply(fn.params, fn.state, x, x)
    with pytest.raises(TypeError, match="needs its input"):
        fn.apply(fn.params, fn.state)
    with pytest.raises(ValueError, match=r"expected shape \(None, 4\), received shape \(6, 5\)"):
        jax.jit(fn.apply)(fn.params, fn.state, x_data(d=5))
    with keras.backend.use("jax"):
        a, b = layers.Input((4,)), layers.Input((2,))
        two = keras.Model([a, b], layers.Dense(3)(layers.Concatenate()([a, b])))
    fn2 = to_function(two)
    first, second = x_data(), x_data(d=2)
    positional, _ = fn2.apply(fn2.params, fn2.state, first, second)
    listed, _ = fn2.apply(fn2.params, fn2.state, [first, second])
    np.testing.assert_allclose(positional, listed)
    with pytest.raises(ValueError, match=r"expects 2 input\(s\)"):
        fn2.apply(fn2.params, fn2.state, first)
