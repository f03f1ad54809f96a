"""Training hooks for the TensorFlow backend: gradients by GradientTape, steps as tf.function."""

import tensorflow as tf


def value_and_grad(fn, variables, has_aux=False):
    """See `kbridge.value_and_grad`: a GradientTape watching the variables' current values."""

    def run(*args, **kwargs):
        with tf.GradientTape(watch_accessed_variables=False) as tape:
            values = [v.value for v in variables]
            for value in values:
                tape.watch(value)
            out = fn(*args, **kwargs)
            loss = out[0] if has_aux else out
        return out, tape.gradient(loss, values)

    return run


def make_step(step_fn, state_variables, jit_compile=False, donate=False, kind="train"):
    """Wraps `step_fn` in a `tf.function` (tf.Variables carry the state)."""
    return tf.function(step_fn, jit_compile=bool(jit_compile), reduce_retracing=True)
