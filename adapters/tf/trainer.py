"""Training hooks for the TensorFlow backend: gradients by GradientTape, steps as tf.function."""

import tensorflow as tf

from kbridge.adapters.tf import distribution
from kbridge.adapters.tf.distribution import wrap_step  # noqa: F401  (trainer hook: tf.distribute data parallelism)


def value_and_grad(fn, variables, has_aux=False):
    """See `kbridge.value_and_grad`: a GradientTape watching the variables' current values."""

    def run(*args, **kwargs):
        with tf.GradientTape(watch_accessed_variables=False) as tape:
            values = [v.value for v in variables]
            for value in values:
                tape.watch(value)
            out = fn(*args, **kwargs)
            loss = out[0] if has_aux else out
        grads = tape.gradient(loss, values)
        share = distribution.current_share()
        if share is not None:  # inside a data-parallel fit step: weighted sum over the replicas
            grads = distribution.all_reduce_gradients(grads, share)
        return out, grads

    return run


def make_step(step_fn, state_variables, jit_compile=False, donate=False, kind="train"):
    """Wraps `step_fn` in a `tf.function` (tf.Variables carry the state)."""
    function = tf.function(step_fn, jit_compile=bool(jit_compile), reduce_retracing=True)
    function.takes_numpy = True  # tf.function converts NumPy arguments to tensors itself
    return function
