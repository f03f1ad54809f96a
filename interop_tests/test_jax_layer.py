"""JAX code inside kbridge models: `JaxLayer` and `EquinoxLayer` on the jax backend."""

import numpy as np
import pytest

jax = pytest.importorskip("jax")
jnp = jax.numpy

import kbridge  # noqa: E402
from kbridge import layers  # noqa: E402


def _data(n=64, seed=0):
    rng = np.random.RandomState(seed)
    x = rng.randn(n, 8).astype("float32")
    w = rng.randn(8, 3).astype("float32")
    y = np.argmax(x @ w, axis=1).astype("int32")
    return x, y


def _mlp_params(seed=0):
    rng = np.random.RandomState(seed)
    return {
        "dense": {"kernel": jnp.asarray(rng.randn(8, 16).astype("float32") * 0.3), "bias": jnp.zeros((16,))},
        "out": {"kernel": jnp.asarray(rng.randn(16, 16).astype("float32") * 0.3), "bias": jnp.zeros((16,))},
    }


def mlp_apply(params, inputs, training=False):
    h = jax.nn.relu(inputs @ params["dense"]["kernel"] + params["dense"]["bias"])
    return jax.nn.relu(h @ params["out"]["kernel"] + params["out"]["bias"])


def counting_apply(params, state, inputs, training=False):
    outputs = mlp_apply(params, inputs, training)
    new_state = {"count": state["count"] + (1 if training else 0)}
    return outputs, new_state


def _compile(model):
    model.compile(optimizer=kbridge.optimizers.Adam(0.02),
                  loss=kbridge.losses.SparseCategoricalCrossentropy(from_logits=True))  # fmt: skip


def test_jax_layer_trains_in_sequential():
    from kbridge.adapters.jax import JaxLayer

    kbridge.utils.set_random_seed(0)
    x, y = _data()
    params = _mlp_params()
    raw = np.asarray(mlp_apply(params, jnp.asarray(x)))
    with kbridge.backend.use("jax"):
        jax_layer = JaxLayer(mlp_apply, params)
        model = kbridge.Sequential([kbridge.Input((8,)), jax_layer, layers.Dense(3)])
    paths = [p for p, _ in model.named_variables()]
    assert "layers.0.params_dense_kernel" in paths and "layers.0.params_out_bias" in paths, paths
    assert len(jax_layer.trainable_variables) == 4 and not jax_layer.non_trainable_variables
    # Same params, same outputs as the raw function.
    np.testing.assert_allclose(np.asarray(jax_layer(x)), raw, rtol=1e-5, atol=1e-5)
    assert model.output.shape == (None, 3)
    before = [v.numpy() for v in jax_layer.trainable_variables]
    _compile(model)
    losses = model.fit(x, y, batch_size=16, epochs=8, verbose=0, shuffle=False).history["loss"]
    assert losses[-1] < 0.7 * losses[0], losses
    after = [v.numpy() for v in jax_layer.trainable_variables]
    assert all(not np.allclose(a, b) for a, b in zip(before, after))
    # The caller's params are untouched (variables own copies; the train step donates buffers).
    np.testing.assert_allclose(np.asarray(mlp_apply(params, jnp.asarray(x))), raw)
    # After training the layer still equals the raw function on its current params.
    current = jax.tree_util.tree_unflatten(
        jax.tree_util.tree_structure(params), [jnp.asarray(v.numpy()) for v in jax_layer.trainable_variables]
    )
    np.testing.assert_allclose(np.asarray(jax_layer(x)), np.asarray(mlp_apply(current, jnp.asarray(x))), rtol=1e-5,
                               atol=1e-5)  # fmt: skip
    with pytest.raises(NotImplementedError, match="cannot be serialized"):
        jax_layer.get_config()


def test_jax_layer_state_advances():
    from kbridge.adapters.jax import JaxLayer

    kbridge.utils.set_random_seed(0)
    x, y = _data()
    with kbridge.backend.use("jax"):
        jax_layer = JaxLayer(counting_apply, _mlp_params(), state={"count": jnp.zeros((), "int32")})
        model = kbridge.Sequential([jax_layer, layers.Dense(3)])  # deferred build
    model(x[:2])
    (count,) = jax_layer.non_trainable_variables
    assert count.path == "layers.0.state_count" and count.dtype == "int32" and int(count.numpy()) == 0
    jax_layer(x[:2], training=True)
    assert int(count.numpy()) == 1
    _compile(model)
    losses = model.fit(x, y, batch_size=16, epochs=3, verbose=0, shuffle=False).history["loss"]
    assert losses[-1] < losses[0]
    assert int(count.numpy()) == 1 + 3 * 4  # one per train step
    model.predict(x, verbose=0)
    assert int(count.numpy()) == 13


def test_jax_layer_rng_argument():
    from kbridge.adapters.jax import JaxLayer

    def noisy(params, rng, inputs, training=False):
        noise = jax.random.normal(rng, inputs.shape) if training else 0.0
        return inputs * params["scale"] + noise

    with kbridge.backend.use("jax"):
        layer = JaxLayer(noisy, {"scale": jnp.ones((4,))}, seed=3)
    x = np.ones((2, 4), "float32")
    a, b = np.asarray(layer(x, training=True)), np.asarray(layer(x, training=True))
    assert not np.allclose(a, b)
    np.testing.assert_allclose(np.asarray(layer(x)), x)


def test_equinox_layer_trains_with_fit():
    eqx = pytest.importorskip("equinox")
    from kbridge.adapters.jax import EquinoxLayer

    kbridge.utils.set_random_seed(0)
    x, y = _data()
    mlp = eqx.nn.MLP(8, 16, width_size=16, depth=1, activation=jax.nn.relu, key=jax.random.key(0))
    raw = np.asarray(jax.vmap(mlp)(jnp.asarray(x)))
    with kbridge.backend.use("jax"):
        eqx_layer = EquinoxLayer(mlp)
        inputs = kbridge.Input((8,))
        model = kbridge.Model(inputs, layers.Dense(3)(eqx_layer(inputs)))  # Functional
    assert [v.name for v in eqx_layer.trainable_variables] == [
        "layers_0_weight", "layers_0_bias", "layers_1_weight", "layers_1_bias"
    ]  # fmt: skip
    np.testing.assert_allclose(np.asarray(eqx_layer(x)), raw, rtol=1e-5, atol=1e-5)
    before = [v.numpy() for v in eqx_layer.trainable_variables]
    _compile(model)
    losses = model.fit(x, y, batch_size=16, epochs=8, verbose=0, shuffle=False).history["loss"]
    assert losses[-1] < 0.7 * losses[0], losses
    assert all(not np.allclose(a, b) for a, b in zip(before, [v.numpy() for v in eqx_layer.trainable_variables]))
    # batched=True: the module is called on the whole batch.
    with kbridge.backend.use("jax"):
        batched = EquinoxLayer(_batched_mlp_class()(mlp), batched=True)
    np.testing.assert_allclose(np.asarray(batched(x)), raw, rtol=1e-5, atol=1e-5)


def _batched_mlp_class():
    import equinox as eqx

    class BatchedMLP(eqx.Module):
        mlp: eqx.nn.MLP

        def __call__(self, x):
            return jax.vmap(self.mlp)(x)

    return BatchedMLP


@pytest.mark.parametrize("which", ["jax", "equinox"])
def test_non_jax_backend_raises_clear_error(which):
    pytest.importorskip("torch")
    from kbridge.adapters.jax import EquinoxLayer, JaxLayer

    if which == "jax":
        layer = JaxLayer(mlp_apply, _mlp_params())
    else:
        eqx = pytest.importorskip("equinox")
        layer = EquinoxLayer(eqx.nn.Linear(8, 4, key=jax.random.key(0)))
    with kbridge.backend.use("torch"):
        with pytest.raises(ValueError, match="only runs on the jax backend"):
            kbridge.Sequential([kbridge.Input((8,)), layer])
