"""JAX variants: hand-written params and kbridge's `to_function`, both in the same jit+optax step."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import optax

from variants import LATENCY, PREDICT, TRAIN
from variants.common import cycle_loop, latency_loop, split_batches


def _loop(apply, params, state, workload, mode, data):
    """`apply(params, state, x, training) -> (logits, new_state)`."""
    if mode == TRAIN:
        optimizer = optax.adam(1e-3)
        opt_state = optimizer.init(params)

        def loss_fn(params, state, xb, yb):
            logits, new_state = apply(params, state, xb, True)
            return optax.softmax_cross_entropy_with_integer_labels(logits, yb).mean(), new_state

        @functools.partial(jax.jit, donate_argnums=(0, 1, 2))
        def train_step(params, state, opt_state, xb, yb):
            (loss, state), grads = jax.value_and_grad(loss_fn, has_aux=True)(params, state, xb, yb)
            updates, opt_state = optimizer.update(grads, opt_state, params)
            return optax.apply_updates(params, updates), state, opt_state, loss

        carry = [params, state, opt_state]

        def step(xb, yb):
            carry[0], carry[1], carry[2], loss = train_step(carry[0], carry[1], carry[2], xb, yb)
            return loss

        batches = split_batches(data["x"], data["y"], workload.batch_size, jnp.asarray)
        return cycle_loop(step, batches, lambda loss: loss.block_until_ready())

    forward = jax.jit(lambda params, state, xb: apply(params, state, xb, False)[0])
    if mode == PREDICT:
        batches = split_batches(data["x"], data["y"], workload.batch_size, jnp.asarray)
        return cycle_loop(lambda xb, yb: forward(params, state, xb), batches, lambda out: out.block_until_ready())
    if mode == LATENCY:
        return latency_loop(lambda xb: forward(params, state, xb), jnp.asarray(data["x1"]), np.asarray)
    raise ValueError(mode)


def native(workload, mode, data):
    params = workload.init_jax(jax.random.PRNGKey(0))
    return _loop(lambda p, s, x, training: (workload.apply_jax(p, x), s), params, (), workload, mode, data)


def kb_function(workload, mode, data):
    import kbridge
    from kbridge.adapters.jax import to_function

    kbridge.utils.set_random_seed(0)
    with kbridge.backend.use("jax"):
        model = workload.keras_style_model(kbridge)
    fn = to_function(model)
    return _loop(
        lambda p, s, x, training: fn.apply(p, s, x, training=training), fn.params, fn.state, workload, mode, data
    )
