"""Adadelta."""

from kbridge import ops
from kbridge.optimizers._helpers import PerDtype
from kbridge.optimizers.optimizer import Optimizer


class Adadelta(Optimizer):
    """Adadelta (Keras 3 `keras.optimizers.Adadelta`).

    `G = rho * G + (1 - rho) * g**2`; `d = -sqrt(D + eps) * g / sqrt(G + eps)`;
    `D = rho * D + (1 - rho) * d**2`; `w += lr * d`.

    Args:
        learning_rate: float, schedule or callable.
        rho: the decay rate.
        epsilon: numerical stability constant.
        **kwargs: the base `Optimizer` arguments.
    """

    def __init__(
        self, learning_rate=0.001, rho=0.95, epsilon=1e-7, weight_decay=None, clipnorm=None, clipvalue=None,
        global_clipnorm=None, use_ema=False, ema_momentum=0.99, ema_overwrite_frequency=None, loss_scale_factor=None,
        gradient_accumulation_steps=None, name=None, **kwargs,
    ):  # fmt: skip
        super().__init__(
            learning_rate=learning_rate, weight_decay=weight_decay, clipnorm=clipnorm, clipvalue=clipvalue,
            global_clipnorm=global_clipnorm, use_ema=use_ema, ema_momentum=ema_momentum,
            ema_overwrite_frequency=ema_overwrite_frequency, loss_scale_factor=loss_scale_factor,
            gradient_accumulation_steps=gradient_accumulation_steps, name=name, **kwargs,
        )  # fmt: skip
        self.rho = rho
        self.epsilon = epsilon

    def build(self, var_list):
        """Creates `accumulated_grad` and `accumulated_delta_var` slots."""
        if self.built:
            return
        super().build(var_list)
        self._accumulated_grads, self._accumulated_delta_vars = self.add_optimizer_variables(
            var_list, ["accumulated_grad", "accumulated_delta_var"]
        )

    def _update_many(self, grads, variables, learning_rate):
        index, dtypes = self._trainable_variables_indices, self._dtypes
        rates = PerDtype(lambda dtype: ops.cast(learning_rate, dtype))
        rho, epsilon = self.rho, self.epsilon
        for grad, variable in zip(grads, variables):
            i = index[id(variable)]
            grad_slot, delta_slot = self._accumulated_grads[i], self._accumulated_delta_vars[i]
            accumulated_grad = ops.add(ops.multiply(rho, grad_slot.value), ops.multiply(1 - rho, ops.square(grad)))
            grad_slot.assign(accumulated_grad)
            delta = ops.negative(
                ops.divide(
                    ops.multiply(ops.sqrt(ops.add(delta_slot.value, epsilon)), grad),
                    ops.sqrt(ops.add(accumulated_grad, epsilon)),
                )
            )
            delta_slot.assign(ops.add(ops.multiply(rho, delta_slot.value), ops.multiply(1 - rho, ops.square(delta))))
            variable.assign(ops.add(variable.value, ops.multiply(rates[dtypes[i]], delta)))

    def get_config(self):
        config = super().get_config()
        config.update({"rho": self.rho, "epsilon": self.epsilon})
        return config
