"""Adamax: Adam with the infinity norm."""

from kbridge import ops
from kbridge.optimizers._helpers import PerDtype
from kbridge.optimizers.optimizer import Optimizer


class Adamax(Optimizer):
    """Adamax (Keras 3 `keras.optimizers.Adamax`).

    `m += (g - m) * (1 - beta_1)`; `u = max(beta_2 * u, |g|)`;
    `w -= lr * m / ((1 - beta_1**t) * (u + epsilon))`.

    Args:
        learning_rate: float, schedule or callable.
        beta_1: decay of the first-moment estimate.
        beta_2: decay of the exponentially weighted infinity norm.
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
        """Creates `momentum` and `norm` slots."""
        if self.built:
            return
        super().build(var_list)
        self._m, self._u = self.add_optimizer_variables(var_list, ["momentum", "norm"])

    def _update_many(self, grads, variables, learning_rate):
        index, dtypes = self._trainable_variables_indices, self._dtypes
        beta_1, beta_2, epsilon = self.beta_1, self.beta_2, self.epsilon
        step = ops.add(self.iterations, 1)

        def constants(dtype):
            correction = ops.subtract(1, ops.power(ops.cast(beta_1, dtype), ops.cast(step, dtype)))
            return ops.cast(learning_rate, dtype), correction

        per_dtype = PerDtype(constants)
        for grad, variable in zip(grads, variables):
            i = index[id(variable)]
            rate, correction = per_dtype[dtypes[i]]
            m_slot, u_slot = self._m[i], self._u[i]
            m = ops.add(m_slot.value, ops.multiply(ops.subtract(grad, m_slot.value), 1 - beta_1))
            u = ops.maximum(ops.multiply(beta_2, u_slot.value), ops.abs(grad))
            m_slot.assign(m)
            u_slot.assign(u)
            update = ops.divide(ops.multiply(rate, m), ops.multiply(correction, ops.add(u, epsilon)))
            variable.assign(ops.subtract(variable.value, update))

    def get_config(self):
        config = super().get_config()
        config.update({"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon})
        return config
