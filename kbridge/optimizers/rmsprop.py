"""RMSprop."""

from kbridge import ops
from kbridge.optimizers._helpers import PerDtype
from kbridge.optimizers.optimizer import Optimizer


class RMSprop(Optimizer):
    """RMSprop (Keras 3 `keras.optimizers.RMSprop`).

    `v = rho * v + (1 - rho) * g**2`; centered: `a = rho * a + (1 - rho) * g` and the
    denominator is `v - a**2 + epsilon`; `inc = lr * g / sqrt(denominator)`;
    with momentum `m = momentum * m + inc; w -= m`, else `w -= inc`.

    Args:
        learning_rate: float, schedule or callable.
        rho: discounting factor of the squared-gradient average.
        momentum: momentum factor (0 disables).
        epsilon: numerical stability constant.
        centered: normalize by the estimated gradient variance.
        **kwargs: the base `Optimizer` arguments.
    """

    def __init__(
        self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False, weight_decay=None,
        clipnorm=None, clipvalue=None, global_clipnorm=None, use_ema=False, ema_momentum=0.99,
        ema_overwrite_frequency=None, loss_scale_factor=None, gradient_accumulation_steps=None, name=None, **kwargs,
    ):  # fmt: skip
        super().__init__(
            learning_rate=learning_rate, weight_decay=weight_decay, clipnorm=clipnorm, clipvalue=clipvalue,
            global_clipnorm=global_clipnorm, use_ema=use_ema, ema_momentum=ema_momentum,
            ema_overwrite_frequency=ema_overwrite_frequency, loss_scale_factor=loss_scale_factor,
            gradient_accumulation_steps=gradient_accumulation_steps, name=name, **kwargs,
        )  # fmt: skip
        self.rho = rho
        self.momentum = momentum
        self.epsilon = epsilon
        self.centered = centered

    def build(self, var_list):
        """Creates `velocity` slots, plus `momentum` and `average_gradient` when used."""
        if self.built:
            return
        super().build(var_list)
        self._velocities = self.add_optimizer_variables(var_list, "velocity")
        self._momentums = self.add_optimizer_variables(var_list, "momentum") if self.momentum > 0 else []
        self._average_gradients = self.add_optimizer_variables(var_list, "average_gradient") if self.centered else []

    def _update_many(self, grads, variables, learning_rate):
        index, dtypes = self._trainable_variables_indices, self._dtypes
        rates = PerDtype(lambda dtype: ops.cast(learning_rate, dtype))
        rho, momentum, epsilon = self.rho, self.momentum, self.epsilon
        for grad, variable in zip(grads, variables):
            i = index[id(variable)]
            slot = self._velocities[i]
            velocity = ops.add(ops.multiply(rho, slot.value), ops.multiply(1 - rho, ops.square(grad)))
            slot.assign(velocity)
            if self.centered:
                slot = self._average_gradients[i]
                average = ops.add(ops.multiply(rho, slot.value), ops.multiply(1 - rho, grad))
                slot.assign(average)
                denominator = ops.add(ops.subtract(velocity, ops.square(average)), epsilon)
            else:
                denominator = ops.add(velocity, epsilon)
            increment = ops.divide(ops.multiply(rates[dtypes[i]], grad), ops.sqrt(denominator))
            if momentum > 0:
                slot = self._momentums[i]
                increment = ops.add(ops.multiply(momentum, slot.value), increment)
                slot.assign(increment)
            variable.assign(ops.subtract(variable.value, increment))

    def get_config(self):
        config = super().get_config()
        config.update({"rho": self.rho, "momentum": self.momentum, "epsilon": self.epsilon, "centered": self.centered})
        return config
