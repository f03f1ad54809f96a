"""Nadam: Adam with Nesterov momentum."""

from kbridge import ops
from kbridge.optimizers._helpers import PerDtype
from kbridge.optimizers.optimizer import Optimizer


class Nadam(Optimizer):
    """Nadam (Keras 3 `keras.optimizers.Nadam`), with the momentum schedule
    `u_t = beta_1 * (1 - 0.5 * 0.96**t)` and its running product `u_product`.

    Args:
        learning_rate: float, schedule or callable.
        beta_1: decay of the first-moment estimate.
        beta_2: decay of the second-moment estimate.
        epsilon: numerical stability constant.
        **kwargs: the base `Optimizer` arguments.
    """

    def __init__(
        self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, weight_decay=None, clipnorm=None,
        clipvalue=None, global_clipnorm=None, use_ema=False, ema_momentum=0.99, ema_overwrite_frequency=None,
        loss_scale_factor=None, gradient_accumulation_steps=None, name=None, **kwargs,
    ):  # fmt: skip
        super().__init__(
            learning_rate=learning_rate, weight_decay=weight_decay, clipnorm=clipnorm, clipvalue=clipvalue,
            global_clipnorm=global_clipnorm, use_ema=use_ema, ema_momentum=ema_momentum,
            ema_overwrite_frequency=ema_overwrite_frequency, loss_scale_factor=loss_scale_factor,
            gradient_accumulation_steps=gradient_accumulation_steps, name=name, **kwargs,
        )  # fmt: skip
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon

    def build(self, var_list):
        """Creates `momentum` and `velocity` slots and the `u_product` scalar."""
        if self.built:
            return
        dtype = var_list[0].dtype if var_list else None
        super().build(var_list)
        self._momentums, self._velocities = self.add_optimizer_variables(var_list, ["momentum", "velocity"])
        self._u_product = self.add_variable((), initializer=1.0, dtype=dtype, name="u_product")

    def _backend_update_step(self, grads, trainable_variables, learning_rate):
        product = self._u_product
        t = ops.cast(ops.add(self.iterations, 1), product.dtype)
        product.assign(
            ops.multiply(
                ops.multiply(product.value, self.beta_1), ops.subtract(1.0, ops.multiply(0.5, ops.power(0.96, t)))
            )
        )
        super()._backend_update_step(grads, trainable_variables, learning_rate)

    def _update_many(self, grads, variables, learning_rate):
        index, dtypes = self._trainable_variables_indices, self._dtypes
        beta_1, beta_2, epsilon = self.beta_1, self.beta_2, self.epsilon
        iterations = self.iterations
        product_value = self._u_product.value

        def constants(dtype):
            t = ops.cast(ops.add(iterations, 1), dtype)
            decay = ops.cast(0.96, dtype)
            u_t = ops.multiply(beta_1, ops.subtract(1.0, ops.multiply(0.5, ops.power(decay, t))))
            u_next = ops.multiply(beta_1, ops.subtract(1.0, ops.multiply(0.5, ops.power(decay, ops.add(t, 1)))))
            product = ops.cast(product_value, dtype)
            m_scale = ops.divide(u_next, ops.subtract(1, ops.multiply(product, u_next)))
            g_scale = ops.divide(ops.subtract(1, u_t), ops.subtract(1, product))
            v_scale = ops.subtract(1, ops.power(ops.cast(beta_2, dtype), t))
            return ops.cast(learning_rate, dtype), m_scale, g_scale, v_scale

        per_dtype = PerDtype(constants)
        for grad, variable in zip(grads, variables):
            i = index[id(variable)]
            rate, m_scale, g_scale, v_scale = per_dtype[dtypes[i]]
            m_slot, v_slot = self._momentums[i], self._velocities[i]
            m = ops.add(m_slot.value, ops.multiply(ops.subtract(grad, m_slot.value), 1 - beta_1))
            v = ops.add(v_slot.value, ops.multiply(ops.subtract(ops.square(grad), v_slot.value), 1 - beta_2))
            m_slot.assign(m)
            v_slot.assign(v)
            m_hat = ops.add(ops.multiply(m_scale, m), ops.multiply(g_scale, grad))
            v_hat = ops.divide(v, v_scale)
            update = ops.divide(ops.multiply(m_hat, rate), ops.add(ops.sqrt(v_hat), epsilon))
            variable.assign(ops.subtract(variable.value, update))

    def get_config(self):
        config = super().get_config()
        config.update({"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon})
        return config
