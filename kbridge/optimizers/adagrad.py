"""Adagrad."""

from kbridge import ops
from kbridge.optimizers._helpers import PerDtype
from kbridge.optimizers.optimizer import Optimizer


class Adagrad(Optimizer):
    """Adagrad (Keras 3 `keras.optimizers.Adagrad`): `a += g**2`; `w -= lr * g / sqrt(a + epsilon)`.

    Args:
        learning_rate: float, schedule or callable.
        initial_accumulator_value: starting value of the accumulators.
        epsilon: numerical stability constant.
        **kwargs: the base `Optimizer` arguments.
    """

    def __init__(
        self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7, weight_decay=None, clipnorm=None,
        clipvalue=None, global_clipnorm=None, use_ema=False, ema_momentum=0.99, ema_overwrite_frequency=None,
        loss_scale_factor=None, gradient_accumulation_steps=None, name=None, **kwargs,
    ):  # fmt: skip
        super().__init__(
            learning_rate=learning_rate, weight_decay=weight_decay, clipnorm=clipnorm, clipvalue=clipvalue,
            global_clipnorm=global_clipnorm, use_ema=use_ema, ema_momentum=ema_momentum,
            ema_overwrite_frequency=ema_overwrite_frequency, loss_scale_factor=loss_scale_factor,
            gradient_accumulation_steps=gradient_accumulation_steps, name=name, **kwargs,
        )  # fmt: skip
        self.initial_accumulator_value = initial_accumulator_value
        self.epsilon = epsilon

    def build(self, var_list):
        """Creates an `accumulator` slot per variable."""
        if self.built:
            return
        super().build(var_list)
        from kbridge import initializers

        initializer = initializers.Constant(self.initial_accumulator_value)
        self._accumulators = self.add_optimizer_variables(var_list, "accumulator", initializer=initializer)

    def _update_many(self, grads, variables, learning_rate):
        index, dtypes = self._trainable_variables_indices, self._dtypes
        rates = PerDtype(lambda dtype: ops.cast(learning_rate, dtype))
        for grad, variable in zip(grads, variables):
            i = index[id(variable)]
            slot = self._accumulators[i]
            accumulator = ops.add(slot.value, ops.square(grad))
            slot.assign(accumulator)
            update = ops.divide(ops.multiply(rates[dtypes[i]], grad), ops.sqrt(ops.add(accumulator, self.epsilon)))
            variable.assign(ops.subtract(variable.value, update))

    def get_config(self):
        config = super().get_config()
        config.update({"initial_accumulator_value": self.initial_accumulator_value, "epsilon": self.epsilon})
        return config
