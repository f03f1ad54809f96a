"""SGD with optional (Nesterov) momentum."""

from kbridge import ops
from kbridge.optimizers._helpers import PerDtype
from kbridge.optimizers.optimizer import Optimizer


class SGD(Optimizer):
    """Gradient descent with momentum (Keras 3 `keras.optimizers.SGD`).

    `m = momentum * m - lr * g`; `w += m` (Nesterov: `w += momentum * m - lr * g`);
    without momentum `w -= lr * g`.

    Args:
        learning_rate: float, schedule or callable.
        momentum: float in [0, 1].
        nesterov: use Nesterov momentum.
        **kwargs: the base `Optimizer` arguments (weight_decay, clipnorm, use_ema, ...).
    """

    def __init__(
        self, learning_rate=0.01, momentum=0.0, nesterov=False, weight_decay=None, clipnorm=None, clipvalue=None,
        global_clipnorm=None, use_ema=False, ema_momentum=0.99, ema_overwrite_frequency=None, loss_scale_factor=None,
        gradient_accumulation_steps=None, name=None, **kwargs,
    ):  # fmt: skip
        super().__init__(
            learning_rate=learning_rate, weight_decay=weight_decay, clipnorm=clipnorm, clipvalue=clipvalue,
            global_clipnorm=global_clipnorm, use_ema=use_ema, ema_momentum=ema_momentum,
            ema_overwrite_frequency=ema_overwrite_frequency, loss_scale_factor=loss_scale_factor,
            gradient_accumulation_steps=gradient_accumulation_steps, name=name, **kwargs,
        )  # fmt: skip
        if not isinstance(momentum, float) or momentum < 0 or momentum > 1:
            raise ValueError("`momentum` must be a float between [0, 1].")
        self.momentum = momentum
        self.nesterov = nesterov

    def build(self, variables):
        """Creates a `momentum` slot per variable when momentum is used."""
        if self.built:
            return
        super().build(variables)
        self.momentums = self.add_optimizer_variables(variables, "momentum") if self.momentum != 0 else []

    def _update_many(self, grads, variables, learning_rate):
        index, dtypes = self._trainable_variables_indices, self._dtypes
        rates = PerDtype(lambda dtype: ops.cast(learning_rate, dtype))
        momentum = self.momentum
        for grad, variable in zip(grads, variables):
            i = index[id(variable)]
            step = ops.multiply(grad, rates[dtypes[i]])
            if momentum == 0:
                variable.assign(ops.subtract(variable.value, step))
                continue
            slot = self.momentums[i]
            m = ops.subtract(ops.multiply(slot.value, momentum), step)
            slot.assign(m)
            if self.nesterov:
                variable.assign(ops.add(variable.value, ops.subtract(ops.multiply(m, momentum), step)))
            else:
                variable.assign(ops.add(variable.value, m))

    def get_config(self):
        config = super().get_config()
        config.update({"momentum": self.momentum, "nesterov": self.nesterov})
        return config
