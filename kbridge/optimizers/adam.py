"""Adam (with AMSGrad)."""

from kbridge import ops
from kbridge.optimizers._helpers import PerDtype
from kbridge.optimizers.optimizer import Optimizer


class Adam(Optimizer):
    """Adam (Keras 3 `keras.optimizers.Adam`).

    `m += (g - m) * (1 - beta_1)`; `v += (g**2 - v) * (1 - beta_2)`;
    `w -= lr * sqrt(1 - beta_2**t) / (1 - beta_1**t) * m / (sqrt(v) + epsilon)`
    (AMSGrad uses the running maximum of `v`).

    Args:
        learning_rate: float, schedule or callable.
        beta_1: decay of the first-moment estimate.
        beta_2: decay of the second-moment estimate.
        epsilon: numerical stability constant ("epsilon hat" of the paper).
        amsgrad: use the AMSGrad variant.
        **kwargs: the base `Optimizer` arguments.
    """

    def __init__(
        self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False, weight_decay=None,
        clipnorm=None, clipvalue=None, global_clipnorm=None, use_ema=False, ema_momentum=0.99,
        ema_overwrite_frequency=None, loss_scale_factor=None, gradient_accumulation_steps=None, name=None, **kwargs,
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
        self.amsgrad = amsgrad

    def build(self, var_list):
        """Creates `momentum` and `velocity` slots (and `velocity_hat` with AMSGrad)."""
        if self.built:
            return
        super().build(var_list)
        self._momentums, self._velocities = self.add_optimizer_variables(var_list, ["momentum", "velocity"])
        if self.amsgrad:
            self._velocity_hats = self.add_optimizer_variables(var_list, "velocity_hat")

    def _update_many(self, grads, variables, learning_rate):
        index, dtypes = self._trainable_variables_indices, self._dtypes
        beta_1, beta_2, epsilon = self.beta_1, self.beta_2, self.epsilon
        step = ops.add(self.iterations, 1)

        def step_size(dtype):
            t = ops.cast(step, dtype)
            beta_1_power = ops.power(ops.cast(beta_1, dtype), t)
            beta_2_power = ops.power(ops.cast(beta_2, dtype), t)
            rate = ops.multiply(ops.cast(learning_rate, dtype), ops.sqrt(ops.subtract(1, beta_2_power)))
            return ops.divide(rate, ops.subtract(1, beta_1_power))

        alphas = PerDtype(step_size)
        for grad, variable in zip(grads, variables):
            i = index[id(variable)]
            m_slot, v_slot = self._momentums[i], self._velocities[i]
            m = ops.add(m_slot.value, ops.multiply(ops.subtract(grad, m_slot.value), 1 - beta_1))
            v = ops.add(v_slot.value, ops.multiply(ops.subtract(ops.square(grad), v_slot.value), 1 - beta_2))
            m_slot.assign(m)
            v_slot.assign(v)
            if self.amsgrad:
                v_hat = self._velocity_hats[i]
                v = ops.maximum(v_hat.value, v)
                v_hat.assign(v)
            update = ops.divide(ops.multiply(m, alphas[dtypes[i]]), ops.add(ops.sqrt(v), epsilon))
            variable.assign(ops.subtract(variable.value, update))

    def get_config(self):
        config = super().get_config()
        config.update({"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon, "amsgrad": self.amsgrad})
        return config
