"""A Keras-style kbridge model inside hand-written JAX: vmap(grad), optax under jit, sharding.

The model is defined with kbridge layers and turned into a pure function with
`kbridge.adapters.jax.to_function`: `fn.apply(params, state, x, training=...)` returns
`(outputs, new_state)`, where `params` (trainable) and `state` (BatchNorm statistics,
dropout seed) are nested dicts keyed by the model's structural variable paths.

1. Per-example gradient norms with `jax.vmap(jax.grad(...))` (what DP-SGD clips).
2. An `optax.adamw` training loop under `jax.jit`, with the batch sharded over all
   devices (`jax.sharding.NamedSharding`; this script asks XLA for 4 CPU devices).
3. `load_into` writes the trained values back into the kbridge model, which then
   evaluates with `model.evaluate` and saves its weights; a second build loads them.

    python examples/jax_research.py
"""

import os

# Four host CPU devices for the sharded step; must be set before jax is imported.
os.environ.setdefault("XLA_FLAGS", "--xla_force_host_platform_device_count=4")

import tempfile  # noqa: E402
import time  # noqa: E402

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import optax  # noqa: E402
from jax.sharding import Mesh, NamedSharding, PartitionSpec  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

import kbridge as keras  # noqa: E402
from kbridge import layers  # noqa: E402
from kbridge.adapters.jax import load_into, to_function  # noqa: E402

BATCH = 64
STEPS = 300


def build_model():
    keras.utils.set_random_seed(0)
    with keras.backend.use("jax"):
        inputs = keras.Input(shape=(64,), name="pixels")
        x = layers.Rescaling(1.0 / 16.0)(inputs)
        x = layers.Dense(64, activation="relu")(x)
        x = layers.BatchNormalization()(x)
        x = layers.Dropout(0.1, seed=3)(x)
        outputs = layers.Dense(10, name="logits")(x)
        return keras.Model(inputs, outputs, name="digits")


def main():
    start = time.time()
    digits = load_digits()
    x_train, x_test, y_train, y_test = train_test_split(
        digits.data.astype("float32"), digits.target.astype("int32"), test_size=0.25, random_state=0
    )
    model = build_model()
    fn = to_function(model)
    print("params:", jax.tree_util.tree_map(jnp.shape, fn.params))

    def loss_fn(params, state, x, y, training):
        logits, new_state = fn.apply(params, state, x, training=training)
        loss = optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()
        return loss, new_state

    # 1. Per-example gradients: vmap over the batch of a single-example loss. Inference
    # mode, so BatchNorm uses its moving statistics and examples stay independent.
    def example_loss(params, x, y):
        return loss_fn(params, fn.state, x[None], y[None], training=False)[0]

    per_example = jax.jit(jax.vmap(jax.grad(example_loss), in_axes=(None, 0, 0)))(
        fn.params, x_train[:32], y_train[:32]
    )
    norms = jnp.sqrt(sum(jnp.sum(g.reshape(32, -1) ** 2, axis=1) for g in jax.tree_util.tree_leaves(per_example)))
    batch_grad = jax.grad(lambda p: loss_fn(p, fn.state, x_train[:32], y_train[:32], False)[0])(fn.params)
    mean_of_examples = jax.tree_util.tree_map(lambda g: g.mean(0), per_example)
    gap = max(float(jnp.max(jnp.abs(a - b))) for a, b in
              zip(jax.tree_util.tree_leaves(mean_of_examples), jax.tree_util.tree_leaves(batch_grad)))
    print(f"per-example gradient norms: min {float(norms.min()):.3f}  max {float(norms.max()):.3f}  "
          f"(mean of per-example grads vs batch grad: {gap:.1e})")
    assert norms.shape == (32,) and gap < 1e-5

    # 2. optax.adamw under jit, the batch sharded over a 1-D device mesh.
    mesh = Mesh(np.array(jax.devices()), ("batch",))
    rows, replicated = NamedSharding(mesh, PartitionSpec("batch")), NamedSharding(mesh, PartitionSpec())
    optimizer = optax.adamw(3e-3, weight_decay=1e-4)

    @jax.jit
    def train_step(params, state, opt_state, x, y):
        (loss, state), grads = jax.value_and_grad(loss_fn, has_aux=True)(params, state, x, y, True)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), state, opt_state, loss

    params, state = jax.device_put((fn.params, fn.state), replicated)
    opt_state = optimizer.init(params)
    rng = np.random.default_rng(0)
    for step in range(STEPS):
        index = rng.choice(len(x_train), BATCH, replace=False)
        x, y = jax.device_put((x_train[index], y_train[index]), rows)
        params, state, opt_state, loss = train_step(params, state, opt_state, x, y)
        if step % 100 == 0 or step == STEPS - 1:
            print(f"step {step:3d}  loss {float(loss):.4f}")
    print(f"trained on {len(jax.devices())} device(s); batch sharding {x.sharding.spec}")

    # 3. Back into the kbridge model: evaluate with Keras-style APIs and save the weights.
    load_into(model, params, state)
    model.compile(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    _, accuracy = model.evaluate(x_test, y_test, verbose=0)
    print(f"test accuracy after load_into: {accuracy:.3f}")
    assert accuracy >= 0.9, accuracy

    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "digits.weights.h5")
        model.save_weights(path)
        twin = build_model()
        twin.load_weights(path)
        np.testing.assert_allclose(twin.predict(x_test, verbose=0), model.predict(x_test, verbose=0), atol=1e-5)
    print(f"done in {time.time() - start:.1f}s")


if __name__ == "__main__":
    main()
