"""Learning-rate schedules (Keras 3 `keras.optimizers.schedules`).

A schedule maps the optimizer's step (an int, a tensor or the `iterations`
Variable) to a learning rate. Every schedule is written with `kbridge.ops` and
without Python branching on the step, so it works on a traced step (jax.jit,
tf.function, torch.compile).
"""

import math

from kbridge import ops
from kbridge.saving import serialization_lib


class LearningRateSchedule:
    """Base class: subclasses implement `__call__(step)` and `get_config()`."""

    def __call__(self, step):
        raise NotImplementedError(
            f"Learning rate schedule '{type(self).__name__}' must override `__call__(self, step)`."
        )

    def get_config(self):
        raise NotImplementedError(
            f"Learning rate schedule '{type(self).__name__}' must override `get_config()` in order to be serializable."
        )

    @classmethod
    def from_config(cls, config):
        """Creates a schedule from `get_config()` output."""
        return cls(**config)


def _check_positive(name, value):
    if value <= 0:
        raise ValueError(f"Argument `{name}` must be > 0. Received: {name}={value}")


def _start(initial_learning_rate, step):
    """(initial rate as a tensor, its dtype, step cast to that dtype)."""
    initial = ops.convert_to_tensor(initial_learning_rate)
    dtype = ops.dtype(initial)
    return initial, dtype, ops.cast(step, dtype)


class ExponentialDecay(LearningRateSchedule):
    """`initial_learning_rate * decay_rate ** (step / decay_steps)`.

    Args:
        initial_learning_rate: the rate at step 0.
        decay_steps: steps per factor of `decay_rate` (> 0).
        decay_rate: the decay factor.
        staircase: decay in whole steps (`floor(step / decay_steps)`).
        name: display name.
    """

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False, name="ExponentialDecay"):
        _check_positive("decay_steps", decay_steps)
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.decay_rate = decay_rate
        self.staircase = staircase
        self.name = name

    def __call__(self, step):
        initial, dtype, step = _start(self.initial_learning_rate, step)
        p = ops.divide(step, ops.cast(self.decay_steps, dtype))
        if self.staircase:
            p = ops.floor(p)
        return ops.multiply(initial, ops.power(ops.cast(self.decay_rate, dtype), p))

    def get_config(self):
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "decay_rate": self.decay_rate,
            "staircase": self.staircase,
            "name": self.name,
        }


class PiecewiseConstantDecay(LearningRateSchedule):
    """`values[i]` while `boundaries[i-1] < step <= boundaries[i]`.

    Args:
        boundaries: increasing step boundaries (compared in the step's dtype).
        values: one more value than boundaries.
        name: display name.
    """

    def __init__(self, boundaries, values, name="PiecewiseConstant"):
        if len(boundaries) != len(values) - 1:
            raise ValueError(
                "The length of boundaries should be 1 less than the length of values. "
                f"Received: boundaries={boundaries} of length {len(boundaries)}, "
                f"and values={values} of length {len(values)}."
            )
        self.boundaries = boundaries
        self.values = values
        self.name = name

    def __call__(self, step):
        step = ops.convert_to_tensor(step)
        step_dtype = ops.dtype(step)
        dtype = ops.dtype(ops.convert_to_tensor(self.values[0]))
        result = ops.cast(self.values[-1], dtype)
        for boundary, value in zip(reversed(self.boundaries), reversed(self.values[:-1])):
            result = ops.where(ops.less_equal(step, ops.cast(boundary, step_dtype)), ops.cast(value, dtype), result)
        return result

    def get_config(self):
        return {"boundaries": self.boundaries, "values": self.values, "name": self.name}


class PolynomialDecay(LearningRateSchedule):
    """`(initial - end) * (1 - step / decay_steps) ** power + end`, held at `end` afterwards.

    Args:
        initial_learning_rate: the rate at step 0.
        decay_steps: steps to reach `end_learning_rate` (> 0).
        end_learning_rate: the final rate.
        power: the polynomial's power.
        cycle: restart the decay every `decay_steps` multiple instead of holding.
        name: display name.
    """

    def __init__(
        self,
        initial_learning_rate,
        decay_steps,
        end_learning_rate=0.0001,
        power=1.0,
        cycle=False,
        name="PolynomialDecay",
    ):
        _check_positive("decay_steps", decay_steps)
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.end_learning_rate = end_learning_rate
        self.power = power
        self.cycle = cycle
        self.name = name

    def __call__(self, step):
        initial, dtype, step = _start(self.initial_learning_rate, step)
        end = ops.cast(self.end_learning_rate, dtype)
        decay_steps = ops.cast(self.decay_steps, dtype)
        if self.cycle:
            multiplier = ops.where(ops.equal(step, 0), ops.ones_like(step), ops.ceil(ops.divide(step, decay_steps)))
            decay_steps = ops.multiply(decay_steps, multiplier)
        else:
            step = ops.minimum(step, decay_steps)
        p = ops.divide(step, decay_steps)
        return ops.add(ops.multiply(ops.subtract(initial, end), ops.power(ops.subtract(1, p), self.power)), end)

    def get_config(self):
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "end_learning_rate": self.end_learning_rate,
            "power": self.power,
            "cycle": self.cycle,
            "name": self.name,
        }


class InverseTimeDecay(LearningRateSchedule):
    """`initial_learning_rate / (1 + decay_rate * step / decay_steps)`.

    Args:
        initial_learning_rate: the rate at step 0.
        decay_steps: the step scale (> 0).
        decay_rate: the decay rate.
        staircase: decay in whole steps (`floor(step / decay_steps)`).
        name: display name.
    """

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False, name="InverseTimeDecay"):
        _check_positive("decay_steps", decay_steps)
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.decay_rate = decay_rate
        self.staircase = staircase
        self.name = name

    def __call__(self, step):
        initial, dtype, step = _start(self.initial_learning_rate, step)
        p = ops.divide(step, ops.cast(self.decay_steps, dtype))
        if self.staircase:
            p = ops.floor(p)
        return ops.divide(initial, ops.add(1, ops.multiply(ops.cast(self.decay_rate, dtype), p)))

    def get_config(self):
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "decay_rate": self.decay_rate,
            "staircase": self.staircase,
            "name": self.name,
        }


class CosineDecay(LearningRateSchedule):
    """Cosine decay from the start rate to `alpha` times it, after an optional linear warmup.

    Without `warmup_target`: `initial * ((1 - alpha) * 0.5 * (1 + cos(pi * t / decay_steps)) + alpha)`.
    With it, the rate rises linearly from `initial_learning_rate` to `warmup_target`
    over `warmup_steps`, then decays from `warmup_target` over `decay_steps`.

    Args:
        initial_learning_rate: the rate at step 0.
        decay_steps: length of the decay (> 0).
        alpha: the final rate as a fraction of the decayed-from rate.
        name: display name.
        warmup_target: the rate reached at the end of warmup (None: no warmup).
        warmup_steps: length of the warmup.
    """

    def __init__(
        self, initial_learning_rate, decay_steps, alpha=0.0, name="CosineDecay", warmup_target=None, warmup_steps=0
    ):
        _check_positive("decay_steps", decay_steps)
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.alpha = alpha
        self.name = name
        self.warmup_steps = warmup_steps
        self.warmup_target = warmup_target

    def _decay(self, step, decay_steps, decay_from, dtype):
        fraction = ops.divide(step, decay_steps)
        cosine = ops.multiply(0.5, ops.add(1.0, ops.cos(ops.multiply(ops.cast(math.pi, dtype), fraction))))
        return ops.multiply(decay_from, ops.add(ops.multiply(1 - self.alpha, cosine), self.alpha))

    def __call__(self, step):
        initial, dtype, step = _start(self.initial_learning_rate, step)
        decay_steps = ops.cast(self.decay_steps, dtype)
        if self.warmup_target is None:
            return self._decay(ops.minimum(step, decay_steps), decay_steps, initial, dtype)
        target = ops.cast(self.warmup_target, dtype)
        warmup_steps = ops.cast(self.warmup_steps, dtype)
        step = ops.minimum(step, ops.add(decay_steps, warmup_steps))
        # Both branches are computed and selected (a traced step cannot drive Python `if`);
        # the maximum keeps the unused warmup branch finite when warmup_steps == 0.
        warmup = ops.add(
            ops.multiply(ops.subtract(target, initial), ops.divide(step, ops.maximum(warmup_steps, 1.0))), initial
        )
        decay = self._decay(ops.subtract(step, warmup_steps), decay_steps, target, dtype)
        return ops.where(ops.less(step, warmup_steps), warmup, decay)

    def get_config(self):
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "alpha": self.alpha,
            "name": self.name,
            "warmup_target": self.warmup_target,
            "warmup_steps": self.warmup_steps,
        }


class CosineDecayRestarts(LearningRateSchedule):
    """Cosine decay with warm restarts (SGDR): period `i` lasts `first_decay_steps * t_mul**i`
    and starts from `initial_learning_rate * m_mul**i`.

    Args:
        initial_learning_rate: the rate at step 0.
        first_decay_steps: length of the first period (> 0).
        t_mul: period length multiplier.
        m_mul: start-rate multiplier per period.
        alpha: the final rate of each period as a fraction of the initial rate.
        name: display name.
    """

    def __init__(self, initial_learning_rate, first_decay_steps, t_mul=2.0, m_mul=1.0, alpha=0.0, name="SGDRDecay"):
        _check_positive("first_decay_steps", first_decay_steps)
        self.initial_learning_rate = initial_learning_rate
        self.first_decay_steps = first_decay_steps
        self._t_mul = t_mul
        self._m_mul = m_mul
        self.alpha = alpha
        self.name = name

    def __call__(self, step):
        initial, dtype, step = _start(self.initial_learning_rate, step)
        fraction = ops.divide(step, ops.cast(self.first_decay_steps, dtype))
        t_mul = ops.cast(self._t_mul, dtype)
        if self._t_mul == 1.0:
            restart = ops.floor(fraction)
            fraction = ops.subtract(fraction, restart)
        else:
            restart = ops.floor(
                ops.divide(ops.log(ops.subtract(1.0, ops.multiply(fraction, 1.0 - t_mul))), ops.log(t_mul))
            )
            done = ops.divide(ops.subtract(1.0, ops.power(t_mul, restart)), ops.subtract(1.0, t_mul))
            fraction = ops.divide(ops.subtract(fraction, done), ops.power(t_mul, restart))
        m_factor = ops.power(ops.cast(self._m_mul, dtype), restart)
        cosine = ops.multiply(
            ops.multiply(0.5, m_factor), ops.add(1.0, ops.cos(ops.multiply(ops.cast(math.pi, dtype), fraction)))
        )
        return ops.multiply(initial, ops.add(ops.multiply(1 - self.alpha, cosine), self.alpha))

    def get_config(self):
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "first_decay_steps": self.first_decay_steps,
            "t_mul": self._t_mul,
            "m_mul": self._m_mul,
            "alpha": self.alpha,
            "name": self.name,
        }


ALL_OBJECTS = (
    LearningRateSchedule, ExponentialDecay, PiecewiseConstantDecay, PolynomialDecay, InverseTimeDecay, CosineDecay,
    CosineDecayRestarts,
)  # fmt: skip
ALL_OBJECTS_DICT = {cls.__name__: cls for cls in ALL_OBJECTS}


def serialize(learning_rate_schedule):
    """Returns Keras 3's serialized dict of a schedule (module `keras.optimizers.schedules`)."""
    config = serialization_lib.serialize_keras_object(learning_rate_schedule)
    if isinstance(config, dict) and type(learning_rate_schedule).__module__.startswith("kbridge.optimizers.schedules"):
        # Keras looks built-in schedules up in this module, not in `keras.optimizers`.
        config["module"] = "keras.optimizers.schedules"
    return config


def deserialize(config, custom_objects=None):
    """Returns the schedule described by a serialized dict."""
    return serialization_lib.deserialize_keras_object(
        config, module_objects=ALL_OBJECTS_DICT, custom_objects=custom_objects
    )
