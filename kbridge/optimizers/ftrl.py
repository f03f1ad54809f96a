"""FTRL-proximal."""

from kbridge import ops
from kbridge.optimizers._helpers import PerDtype
from kbridge.optimizers.optimizer import Optimizer


class Ftrl(Optimizer):
    """Follow-the-regularized-leader (Keras 3 `keras.optimizers.Ftrl`), with L1, L2 and
    L2-shrinkage regularization.

    Args:
        learning_rate: float, schedule or callable.
        learning_rate_power: power of the accumulator in the per-coordinate rate (<= 0).
        initial_accumulator_value: starting value of the accumulators (>= 0).
        l1_regularization_strength: L1 strength (>= 0).
        l2_regularization_strength: L2 strength (>= 0).
        l2_shrinkage_regularization_strength: L2 shrinkage applied to the gradient (>= 0).
        beta: the beta of the FTRL paper (adds `beta / (2 * lr)` to the L2 strength).
        **kwargs: the base `Optimizer` arguments.
    """

    def __init__(
        self, learning_rate=0.001, learning_rate_power=-0.5, initial_accumulator_value=0.1,
        l1_regularization_strength=0.0, l2_regularization_strength=0.0, l2_shrinkage_regularization_strength=0.0,
        beta=0.0, weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None, use_ema=False,
        ema_momentum=0.99, ema_overwrite_frequency=None, loss_scale_factor=None, gradient_accumulation_steps=None,
        name=None, **kwargs,
    ):  # fmt: skip
        super().__init__(
            learning_rate=learning_rate, weight_decay=weight_decay, clipnorm=clipnorm, clipvalue=clipvalue,
            global_clipnorm=global_clipnorm, use_ema=use_ema, ema_momentum=ema_momentum,
            ema_overwrite_frequency=ema_overwrite_frequency, loss_scale_factor=loss_scale_factor,
            gradient_accumulation_steps=gradient_accumulation_steps, name=name, **kwargs,
        )  # fmt: skip
        for arg, value in (
            ("initial_accumulator_value", initial_accumulator_value),
            ("l1_regularization_strength", l1_regularization_strength),
            ("l2_regularization_strength", l2_regularization_strength),
            ("l2_shrinkage_regularization_strength", l2_shrinkage_regularization_strength),
        ):
            if value < 0.0:
                raise ValueError(f"`{arg}` needs to be positive or zero. Received: {arg}={value}.")
        if learning_rate_power > 0.0:
            raise ValueError(
                "`learning_rate_power` needs to be negative or zero. "
                f"Received: learning_rate_power={learning_rate_power}."
            )
        self.learning_rate_power = learning_rate_power
        self.initial_accumulator_value = initial_accumulator_value
        self.l1_regularization_strength = l1_regularization_strength
        self.l2_regularization_strength = l2_regularization_strength
        self.l2_shrinkage_regularization_strength = l2_shrinkage_regularization_strength
        self.beta = beta

    def build(self, var_list):
        """Creates `accumulator` and `linear` slots."""
        if self.built:
            return
        super().build(var_list)
        from kbridge import initializers

        self._accumulators, self._linears = self.add_optimizer_variables(
            var_list,
            ["accumulator", "linear"],
            initializer=[initializers.Constant(self.initial_accumulator_value), "zeros"],
        )

    def _update_many(self, grads, variables, learning_rate):
        index, dtypes = self._trainable_variables_indices, self._dtypes
        power = -self.learning_rate_power
        l1 = self.l1_regularization_strength
        shrinkage = 2 * self.l2_shrinkage_regularization_strength

        def constants(dtype):
            rate = ops.cast(learning_rate, dtype)
            return rate, ops.add(self.l2_regularization_strength, ops.divide(self.beta, ops.multiply(2.0, rate)))

        per_dtype = PerDtype(constants)
        for grad, variable in zip(grads, variables):
            i = index[id(variable)]
            rate, l2 = per_dtype[dtypes[i]]
            accumulator_slot, linear_slot = self._accumulators[i], self._linears[i]
            value, accumulator = variable.value, accumulator_slot.value
            new_accumulator = ops.add(accumulator, ops.square(grad))
            new_power = ops.power(new_accumulator, power)
            sigma = ops.divide(ops.subtract(new_power, ops.power(accumulator, power)), rate)
            linear = ops.add(
                linear_slot.value,
                ops.subtract(ops.add(grad, ops.multiply(shrinkage, value)), ops.multiply(sigma, value)),
            )
            quadratic = ops.add(ops.divide(new_power, rate), ops.multiply(2, l2))
            linear_slot.assign(linear)
            variable.assign(ops.divide(ops.subtract(ops.clip(linear, -l1, l1), linear), quadratic))
            accumulator_slot.assign(new_accumulator)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "learning_rate_power": self.learning_rate_power,
                "initial_accumulator_value": self.initial_accumulator_value,
                "l1_regularization_strength": self.l1_regularization_strength,
                "l2_regularization_strength": self.l2_regularization_strength,
                "l2_shrinkage_regularization_strength": self.l2_shrinkage_regularization_strength,
                "beta": self.beta,
            }
        )
        return config
