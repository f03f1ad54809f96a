"""TensorFlow variants: hand-written tf.Variables and kbridge's `to_module`, both in the same tf.function step.

The step is a `tf.function` with a `GradientTape` and a hand-written Adam (no tf.keras).
"""

import tensorflow as tf

from variants import LATENCY, PREDICT, TRAIN
from variants.common import cycle_loop, latency_loop, split_batches

BETA_1, BETA_2, EPSILON = 0.9, 0.999, 1e-7  # Keras' Adam defaults


def _adam(variables, learning_rate):
    """Adam in Keras' formulation: lr_t = lr * sqrt(1 - b2^t) / (1 - b1^t); w -= lr_t * m / (sqrt(v) + eps)."""
    ms = [tf.Variable(tf.zeros_like(v)) for v in variables]
    vs = [tf.Variable(tf.zeros_like(v)) for v in variables]
    iterations = tf.Variable(0.0)

    def apply(grads):
        iterations.assign_add(1.0)
        lr_t = learning_rate * tf.sqrt(1.0 - BETA_2**iterations) / (1.0 - BETA_1**iterations)
        for var, grad, m, v in zip(variables, grads, ms, vs):
            m.assign_add((grad - m) * (1.0 - BETA_1))
            v.assign_add((tf.square(grad) - v) * (1.0 - BETA_2))
            var.assign_sub(lr_t * m / (tf.sqrt(v) + EPSILON))

    return apply


def _loop(apply, variables, workload, mode, data):
    """`apply(x, training) -> logits`, `variables`: the trainable tf.Variables it reads."""
    if mode == TRAIN:
        adam = _adam(variables, 1e-3)

        @tf.function
        def train_step(xb, yb):
            with tf.GradientTape() as tape:
                logits = apply(xb, True)
                loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(yb, logits))
            adam(tape.gradient(loss, variables))
            return loss

        batches = split_batches(data["x"], data["y"], workload.batch_size, tf.convert_to_tensor)
        return cycle_loop(train_step, batches, lambda loss: loss.numpy())
    forward = tf.function(lambda xb: apply(xb, False))
    if mode == PREDICT:
        batches = split_batches(data["x"], data["y"], workload.batch_size, tf.convert_to_tensor)
        return cycle_loop(lambda xb, yb: forward(xb), batches, lambda out: out.numpy())
    if mode == LATENCY:
        return latency_loop(forward, tf.convert_to_tensor(data["x1"]), lambda out: out.numpy())
    raise ValueError(mode)


def native(workload, mode, data):
    variables = workload.init_tf()
    return _loop(lambda x, training: workload.apply_tf(variables, x), variables, workload, mode, data)


def kb_module(workload, mode, data):
    import kbridge
    from kbridge.adapters.tf import to_module

    kbridge.utils.set_random_seed(0)
    with kbridge.backend.use("tensorflow"):
        model = workload.keras_style_model(kbridge)
    module = to_module(model)
    variables = list(module.trainable_variables)
    return _loop(lambda x, training: module(x, training=training), variables, workload, mode, data)
