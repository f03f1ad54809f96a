"""Lion."""

from kbridge import ops
from kbridge.optimizers._helpers import PerDtype
from kbridge.optimizers.optimizer import Optimizer


class Lion(Optimizer):
    """Lion (Keras 3 `keras.optimizers.Lion`): `w -= lr * sign(beta_1 * m + (1 - beta_1) * g)`;
    `m = beta_2 * m + (1 - beta_2) * g`.

    Args:
        learning_rate: float, schedule or callable.
        beta_1: interpolation factor of the update direction, in (0, 1].
        beta_2: decay of the momentum.
        **kwargs: the base `Optimizer` arguments.
    """

    def __init__(
        self, learning_rate=0.001, beta_1=0.9, beta_2=0.99, weight_decay=None, clipnorm=None, clipvalue=None,
        global_clipnorm=None, use_ema=False, ema_momentum=0.99, ema_overwrite_frequency=None, loss_scale_factor=None,
        gradient_accumulation_steps=None, name=None, **kwargs,
    ):  # fmt: skip
        super().__init__(
            learning_rate=learning_rate, weight_decay=weight_decay, clipnorm=clipnorm, clipvalue=clipvalue,
            global_clipnorm=global_clipnorm, use_ema=use_ema, ema_momentum=ema_momentum,
            ema_overwrite_frequency=ema_overwrite_frequency, loss_scale_factor=loss_scale_factor,
            gradient_accumulation_steps=gradient_accumulation_steps, name=name, **kwargs,
        )  # fmt: skip
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        if beta_1 <= 0 or beta_1 > 1:
            raise ValueError(
                "Argument `beta_1` must be in the [0, 1] range. Otherwise, the optimizer degenerates to SignSGD. "
                f"Received: beta_1={beta_1}."
            )

    def build(self, var_list):
        """Creates a `momentum` slot per variable."""
        if self.built:
            return
        super().build(var_list)
        self._momentums = self.add_optimizer_variables(var_list, "momentum")

    def _update_many(self, grads, variables, learning_rate):
        index, dtypes = self._trainable_variables_indices, self._dtypes
        rates = PerDtype(lambda dtype: ops.cast(learning_rate, dtype))
        beta_1, beta_2 = self.beta_1, self.beta_2
        for grad, variable in zip(grads, variables):
            i = index[id(variable)]
            slot = self._momentums[i]
            m = slot.value
            direction = ops.sign(ops.add(ops.multiply(m, beta_1), ops.multiply(grad, 1.0 - beta_1)))
            variable.assign(ops.subtract(variable.value, ops.multiply(rates[dtypes[i]], direction)))
            slot.assign(ops.add(ops.multiply(m, beta_2), ops.multiply(grad, 1.0 - beta_2)))

    def get_config(self):
        config = super().get_config()
        config.update({"beta_1": self.beta_1, "beta_2": self.beta_2})
        return config
