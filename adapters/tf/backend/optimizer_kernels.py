"""Fused updates of kbridge's built-in optimizers on TensorFlow.

`Adam._update_many` is written once in `kbridge.ops`: about a dozen graph ops per variable
(reads, elementwise ops, assigns). TensorFlow's `ResourceApplyAdam` kernel computes the very
same formula (`lr_t = lr * sqrt(1 - beta_2^t) / (1 - beta_1^t)`, `m += (g - m) * (1 - beta_1)`,
`v += (g^2 - v) * (1 - beta_2)`, `var -= lr_t * m / (sqrt(v) + epsilon)`) in one op. Used only
for plain resource variables (not `tf.distribute` ones) outside a `StatelessScope`.
"""

import tensorflow as tf

_KERNELS = None


def kernel_for(update_many):
    """The fused kernel replacing the optimizer method `update_many`, or None."""
    global _KERNELS
    if _KERNELS is None:
        from kbridge.optimizers.adam import Adam

        _KERNELS = {Adam._update_many: adam}
    return _KERNELS.get(update_many)


def _plain(value):
    return isinstance(value, tf.Variable) and not isinstance(value, tf.distribute.DistributedValues)


def adam(optimizer, grads, variables, learning_rate):
    """`Adam._update_many` as one `ResourceApplyAdam` per variable; AMSGrad falls back."""
    if optimizer.amsgrad:
        return False
    index = optimizer._trainable_variables_indices
    triples = []
    for variable in variables:
        i = index[id(variable)]
        m, v = optimizer._momentums[i]._value, optimizer._velocities[i]._value
        if not (_plain(variable._value) and _plain(m) and _plain(v)):
            return False
        triples.append((variable._value, m, v))
    iterations = optimizer.iterations  # a Variable, or a tensor with gradient accumulation
    step = getattr(iterations, "_value", iterations) + 1
    constants = {}
    for grad, (value, m, v) in zip(grads, triples):
        dtype = value.dtype
        if dtype not in constants:
            t = tf.cast(step, dtype)
            constants[dtype] = (
                tf.pow(tf.constant(optimizer.beta_1, dtype), t),
                tf.pow(tf.constant(optimizer.beta_2, dtype), t),
                tf.cast(learning_rate, dtype),
                tf.constant(optimizer.beta_1, dtype),
                tf.constant(optimizer.beta_2, dtype),
                tf.constant(optimizer.epsilon, dtype),
            )
        beta_1_power, beta_2_power, rate, beta_1, beta_2, epsilon = constants[dtype]
        tf.raw_ops.ResourceApplyAdam(
            var=value.handle, m=m.handle, v=v.handle, beta1_power=beta_1_power, beta2_power=beta_2_power,
            lr=rate, beta1=beta_1, beta2=beta_2, epsilon=epsilon, grad=tf.cast(grad, dtype), use_locking=False,
        )
    return True
