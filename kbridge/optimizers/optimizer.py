"""`Optimizer`: the base of every optimizer (Keras 3 `keras.optimizers.Optimizer`).

Variable paths (structural, never from process-global counters):

- `iteration`: the step counter (int32), `learning_rate`: the rate when it is a float;
- a slot made for a trainable variable is `<slot>.<variable path>`, e.g.
  `momentum.layers.1.kernel`, `velocity.layers.1.kernel`, `average.layers.1.kernel`
  (EMA), `gradient_accumulator.layers.1.kernel`;
- other optimizer variables are their name (`u_product` for Nadam).

A repeated path gets `_1`, `_2`, ... appended in creation order. So two builds of one
architecture give identical paths, and the order of `variables` is Keras 3's (its
`.keras` files store optimizer state by position).

The optimizer's variables live on the backend of the trainable variables it is built
with (before `build`: the `use()` scope's backend, else NumPy); `apply` follows a model
moved with `to_backend`. `apply` is free of Python branching on tensor values
(gradient accumulation and EMA select with `ops.where`), so it runs under jax.jit,
tf.function and torch.compile; `stateless_apply` runs it inside the same
`state.scope` mechanism as `Layer.stateless_call`.
"""

import re
import warnings

from kbridge import ops
from kbridge.backend import registry
from kbridge.backend._state import state
from kbridge.backend.stateless_scope import StatelessScope
from kbridge.optimizers._helpers import (
    PerDtype,
    check_arguments,
    clip_by_global_norm,
    clip_by_norm,
    float_rate,
    floatx,
)
from kbridge.optimizers._slots import SlotTracker
from kbridge.optimizers.schedules import learning_rate_schedule as _schedules
from kbridge.utils import naming
from kbridge.variables import Variable


class Optimizer(SlotTracker):
    """Base optimizer: subclasses create slots in `build` and implement `update_step`.

    Args:
        learning_rate: a float, a `LearningRateSchedule` (evaluated at `iterations`)
            or a callable taking no argument.
        weight_decay: if set, variables are decayed by `variable * weight_decay * lr` each step.
        clipnorm: clip each gradient to this L2 norm.
        clipvalue: clip each gradient element to [-clipvalue, clipvalue].
        global_clipnorm: clip all gradients together to this global L2 norm.
        use_ema: keep an exponential moving average of the trained variables.
        ema_momentum: the EMA momentum.
        ema_overwrite_frequency: overwrite the variables with their average every this many steps.
        loss_scale_factor: gradients are divided by it (see `scale_loss`).
        gradient_accumulation_steps: update every this many steps with the mean gradient.
        name: display name (not used in variable paths).

    Example:
        >>> optimizer = kbridge.optimizers.Adam(1e-3)
        >>> optimizer.apply(grads, model.trainable_variables)
    """

    def __init__(
        self,
        learning_rate,
        weight_decay=None,
        clipnorm=None,
        clipvalue=None,
        global_clipnorm=None,
        use_ema=False,
        ema_momentum=0.99,
        ema_overwrite_frequency=None,
        loss_scale_factor=None,
        gradient_accumulation_steps=None,
        name=None,
        **kwargs,
    ):
        check_arguments(kwargs, gradient_accumulation_steps, use_ema, ema_momentum, ema_overwrite_frequency,
                        clipnorm, clipvalue, global_clipnorm)  # fmt: skip
        self.name = name or naming.auto_name(type(self).__name__)
        self.weight_decay = weight_decay
        self.clipnorm = clipnorm
        self.clipvalue = clipvalue
        self.global_clipnorm = global_clipnorm
        self.use_ema = use_ema
        self.ema_momentum = ema_momentum
        self.ema_overwrite_frequency = ema_overwrite_frequency
        self.loss_scale_factor = loss_scale_factor
        self.gradient_accumulation_steps = gradient_accumulation_steps
        self.built = False
        self._trainable_variables = []
        self._trainable_variables_indices = {}
        self._exclude_ids = set()
        self._exclude_pattern = None
        self._decay_cache = {}
        # Until `build` knows the model's backend: the `use()` scope's, else NumPy (cheap, always there).
        self._init_tracking(state.backend or registry.get("numpy"))
        self._iterations = self.add_variable(
            (), initializer=0, dtype="int32", aggregation="only_first_replica", name="iteration"
        )
        if isinstance(learning_rate, _schedules.LearningRateSchedule) or callable(learning_rate):
            self._learning_rate = learning_rate
        else:
            self._learning_rate = self.add_variable(
                (), initializer=float_rate(learning_rate), dtype=floatx(), aggregation="only_first_replica",
                name="learning_rate",
            )  # fmt: skip

    @property
    def iterations(self):
        """The number of optimizer steps (micro-steps divided by `gradient_accumulation_steps`)."""
        if self.gradient_accumulation_steps:
            return ops.floor_divide(self._iterations.value, self.gradient_accumulation_steps)
        return self._iterations

    @property
    def learning_rate(self):
        """The current rate: the Variable, or the schedule evaluated at the raw step count."""
        return self._get_current_learning_rate()

    @learning_rate.setter
    def learning_rate(self, learning_rate):
        previous = self._learning_rate if isinstance(self._learning_rate, Variable) else None
        if isinstance(learning_rate, _schedules.LearningRateSchedule) or callable(learning_rate):
            self._learning_rate = learning_rate
            if previous is not None:
                self._untrack_variable(previous)
        elif previous is None:
            raise TypeError(
                "This optimizer was created with a `LearningRateSchedule` object (or a callable) as its "
                "`learning_rate` constructor argument, hence its learning rate is not settable. If you need the "
                "learning rate to be settable, you should instantiate the optimizer with a float `learning_rate` "
                "argument."
            )
        else:
            previous.assign(learning_rate)

    def _get_current_learning_rate(self):
        rate = self._learning_rate
        if isinstance(rate, Variable):
            return rate
        if isinstance(rate, _schedules.LearningRateSchedule):
            return rate(self._iterations)
        return rate()

    def _learning_rate_value(self):
        rate = self._learning_rate
        if isinstance(rate, Variable):
            return rate.value
        return self._get_current_learning_rate()

    # -- building ---------------------------------------------------------------------------

    def build(self, variables):
        """Creates the optimizer state for `variables` (subclasses add their slots after `super().build`)."""
        variables = list(variables)
        backends = {variable._backend for variable in variables}
        if len(backends) > 1:
            raise ValueError(
                f"Optimizer '{self.name}': the variables live on several backends "
                f"({sorted(b.NAME for b in backends)}); move the model to one with `model.to_backend(name)`."
            )
        if backends:
            self.to_backend(backends.pop().NAME)
        if self.use_ema:
            self._model_variables_moving_average = self.add_optimizer_variables(variables, "average")
        if self.gradient_accumulation_steps:
            self._accumulated_gradients = [
                self.add_variable_from_reference(v, "gradient_accumulator") for v in variables
            ]
        self._trainable_variables_indices = {id(variable): index for index, variable in enumerate(variables)}
        self._trainable_variables = variables
        self._dtypes = [variable.dtype for variable in variables]
        # Filled once here: a dict mutated inside apply would make torch.compile recompile.
        self._decay_cache = {}
        self._decay_cache = {id(v): self._use_weight_decay(v) for v in variables}
        self.built = True

    def _get_variable_index(self, variable):
        return self._trainable_variables_indices[id(variable)]

    # -- applying ---------------------------------------------------------------------------

    def apply_gradients(self, grads_and_vars):
        """Applies `[(gradient, variable), ...]`; returns `iterations` (as tf.keras)."""
        grads, trainable_variables = zip(*grads_and_vars)
        self.apply(grads, trainable_variables)
        return self._iterations

    def apply(self, grads, trainable_variables=None):
        """Updates `trainable_variables` (default: those the optimizer was built with) with `grads`.

        The first call with `trainable_variables` builds the optimizer. `None` gradients
        are skipped (with a warning naming the variables).
        """
        if len(grads) == 0:
            return
        if trainable_variables is None:
            if not self.built:
                raise ValueError(
                    "When passing `grads` without `variables`, the optimizer must already be built on a list of "
                    "variables. Call `optimizer.build(trainable_variables)` first."
                )
            trainable_variables = self._trainable_variables
        else:
            trainable_variables = list(trainable_variables)
            if not self.built:
                self.build(trainable_variables)
                self.built = True
        if len(grads) != len(trainable_variables):
            raise ValueError(
                f"Optimizer '{self.name}': received {len(grads)} gradients for {len(trainable_variables)} variables; "
                "pass one gradient (or None) per variable."
            )
        module = trainable_variables[0]._backend
        if module is not self._backend and state.scope is None:
            self.to_backend(module.NAME)  # The model was moved since the optimizer was built.
        saved = state.ops
        state.ops = self._backend
        try:
            self._apply(grads, trainable_variables)
        finally:
            state.ops = saved

    def _apply(self, grads, trainable_variables):
        grads, variables = self._filter_gradients(grads, trainable_variables)
        if grads:
            if self.loss_scale_factor is not None:
                grads = [ops.divide(g, self.loss_scale_factor) for g in grads]
            self._backend_apply_gradients(grads, variables)
            for variable in variables:
                if variable.constraint is not None:
                    variable.assign(variable.constraint(variable))
        self._iterations.assign(ops.add(self._iterations.value, 1))

    def _filter_gradients(self, grads, variables):
        """Drops None gradients, casts the rest to their variable's dtype and handles
        `overwrite_with_gradient` variables."""
        index = self._trainable_variables_indices
        dtypes = self._dtypes
        kept_grads, kept_vars, missing = [], [], []
        for grad, variable in zip(grads, variables):
            i = index.get(id(variable))
            if i is None:
                raise ValueError(
                    f"Unknown variable: {variable}. This optimizer can only be called for the variables it was "
                    "originally built with. When working with a new set of variables, you should recreate a new "
                    "optimizer instance."
                )
            if grad is None:
                missing.append(variable.path)
                continue
            grad = ops.cast(grad, dtypes[i])
            if getattr(variable, "overwrite_with_gradient", False):
                self._overwrite_with_gradient(grad, variable, i)
                continue
            kept_grads.append(grad)
            kept_vars.append(variable)
        if missing:
            if len(missing) == len(variables):
                raise ValueError("No gradients provided for any variable.")
            warnings.warn(
                f"Gradients do not exist for variables {missing} when minimizing the loss. If using "
                "`model.compile()`, did you forget to provide a `loss` argument?",
                stacklevel=4,
            )
        return kept_grads, kept_vars

    def _overwrite_with_gradient(self, grad, variable, index):
        if not self.gradient_accumulation_steps:
            variable.assign(grad)
            return
        # Accumulated by maximum (float8 scales), as Keras 3.
        accumulator = self._accumulated_gradients[index]
        is_update = self._is_update_step()
        largest = ops.maximum(grad, accumulator.value)
        variable.assign(ops.where(is_update, largest, variable.value))
        accumulator.assign(ops.where(is_update, ops.zeros_like(largest), largest))

    def _is_update_step(self):
        steps = self.gradient_accumulation_steps
        return ops.equal(ops.mod(ops.add(self._iterations.value, 1), steps), 0)

    def _backend_apply_gradients(self, grads, trainable_variables):
        if self.gradient_accumulation_steps:
            steps = self.gradient_accumulation_steps
            is_update = self._is_update_step()
            accumulators = [self._accumulated_gradients[self._get_variable_index(v)] for v in trainable_variables]
            totals = [ops.add(g, a.value) for g, a in zip(grads, accumulators)]
            means = [ops.divide(total, steps) for total in totals]
            # Update unconditionally, then keep the old values on accumulation-only steps.
            touched = list(trainable_variables) + self._slot_variables()
            old = [ops.copy(v.value) for v in touched]  # torch and tf assign in place
            self._clip_decay_update(means, trainable_variables)
            for variable, value in zip(touched, old):
                variable.assign(ops.where(is_update, variable.value, value))
            for accumulator, total in zip(accumulators, totals):
                accumulator.assign(ops.where(is_update, ops.zeros_like(total), total))
        else:
            self._clip_decay_update(grads, trainable_variables)
        if self.use_ema:
            self._update_model_variables_moving_average(self._trainable_variables)
            if self.ema_overwrite_frequency:
                iterations = self.iterations
                overwrite = ops.equal(ops.mod(ops.add(iterations, 1), self.ema_overwrite_frequency), 0)
                for variable, average in zip(self._trainable_variables, self._model_variables_moving_average):
                    if average is not None:
                        variable.assign(ops.where(overwrite, average.value, variable.value))

    def _slot_variables(self):
        """Optimizer variables an update step may change (not the counter, rate, accumulators or averages)."""
        fixed = {id(self._iterations), id(self._learning_rate)}
        for group in (
            getattr(self, "_accumulated_gradients", ()),
            getattr(self, "_model_variables_moving_average", ()),
        ):
            fixed.update(id(v) for v in group if v is not None)
        return [v for v in self._variables if id(v) not in fixed]

    def _clip_decay_update(self, grads, trainable_variables):
        learning_rate = self._learning_rate_value()
        grads = self._clip_gradients(grads)
        self._apply_weight_decay(trainable_variables, learning_rate)
        self._backend_update_step(grads, trainable_variables, learning_rate)

    def _backend_update_step(self, grads, trainable_variables, learning_rate):
        """Updates every variable; built-ins do all variables in one `_update_many` call."""
        if type(self).update_step is Optimizer.update_step:
            # A backend may fuse a built-in update (torch: foreach ops, in place); only when the
            # variables are really updated, not inside a stateless call.
            kernel_for = getattr(self._backend, "optimizer_kernel", None)
            kernel = None if kernel_for is None or state.scope is not None else kernel_for(type(self)._update_many)
            if kernel is None or not kernel(self, grads, trainable_variables, learning_rate):
                self._update_many(grads, trainable_variables, learning_rate)
        else:
            for grad, variable in zip(grads, trainable_variables):
                self.update_step(grad, variable, learning_rate)

    def update_step(self, gradient, variable, learning_rate):
        """Updates one variable with its gradient (override in custom optimizers)."""
        self._update_many([gradient], [variable], learning_rate)

    def _update_many(self, grads, variables, learning_rate):
        raise NotImplementedError(f"Optimizer {type(self).__name__} must implement `update_step`.")

    def stateless_apply(self, optimizer_variables, grads, trainable_variables):
        """Pure `apply`: returns `(new_trainable_values, new_optimizer_values)`, touching no variable.

        Args:
            optimizer_variables: values for `self.variables`, in order.
            grads: one gradient per trainable variable.
            trainable_variables: values for the variables the optimizer was built with.
        """
        if not self.built:
            raise ValueError(
                f"To call `stateless_apply`, {type(self).__name__} must be built (i.e. its variables must have been "
                "created). You can build it via `optimizer.build(trainable_variables)`."
            )
        if len(optimizer_variables) != len(self._variables):
            raise ValueError(
                f"Argument `optimizer_variables` must be a list of tensors corresponding 1:1 to "
                f"{type(self).__name__}().variables. Received list with length {len(optimizer_variables)}, but "
                f"expected {len(self._variables)} variables."
            )
        if len(trainable_variables) != len(self._trainable_variables):
            raise ValueError(
                "Argument `trainable_variables` must be a list of tensors corresponding 1:1 to the trainable "
                f"variables list that the optimizer was built with. Received {len(trainable_variables)} values "
                f"whereas the optimizer was built with {len(self._trainable_variables)} variables."
            )
        mapping = dict(zip(self._trainable_variables, trainable_variables))
        mapping.update(zip(self._variables, optimizer_variables))
        with StatelessScope(mapping) as scope:
            self.apply(grads)
        return (
            [scope.get_current_value(v) for v in self._trainable_variables],
            [scope.get_current_value(v) for v in self._variables],
        )

    def to_optax(self):
        """Returns this optimizer as an `optax.GradientTransformation` with the same updates (needs jax)."""
        from kbridge.adapters.jax import to_optax

        return to_optax(self)

    def scale_loss(self, loss):
        """Multiplies `loss` by `loss_scale_factor` when set."""
        if self.loss_scale_factor is not None:
            return ops.multiply(loss, self.loss_scale_factor)
        return loss

    # -- clipping, weight decay, EMA ----------------------------------------------------------

    def _clip_gradients(self, grads):
        if self.clipnorm and self.clipnorm > 0:
            return [self._clip_by_norm(g) for g in grads]
        if self.global_clipnorm and self.global_clipnorm > 0:
            return clip_by_global_norm(grads, self.global_clipnorm)
        if self.clipvalue and self.clipvalue > 0:
            return [ops.clip(g, -self.clipvalue, self.clipvalue) for g in grads]
        return grads

    def _clip_by_norm(self, values):
        return clip_by_norm(values, self.clipnorm)

    def exclude_from_weight_decay(self, var_list=None, var_names=None):
        """Excludes variables from weight decay (call before the optimizer is built).

        Args:
            var_list: variables to exclude.
            var_names: substrings (regular expressions); a variable whose name contains
                one is excluded, e.g. `["bias"]`.
        """
        if self.built:
            raise ValueError("`exclude_from_weight_decay()` can only be configured before the optimizer is built.")
        self._exclude_ids = {id(v) for v in var_list} if var_list else set()
        self._exclude_pattern = re.compile("|".join(set(var_names))) if var_names else None
        self._decay_cache = {}

    def _use_weight_decay(self, variable):
        use = self._decay_cache.get(id(variable))
        if use is None:
            use = id(variable) not in self._exclude_ids and not (
                self._exclude_pattern is not None and self._exclude_pattern.search(variable.name)
            )
        return use

    def _apply_weight_decay(self, variables, learning_rate=None):
        if self.weight_decay is None:
            return
        if learning_rate is None:
            learning_rate = self._learning_rate_value()
        factors = PerDtype(
            lambda dtype: ops.multiply(ops.cast(learning_rate, dtype), ops.cast(self.weight_decay, dtype))
        )
        for variable in variables:
            if self._use_weight_decay(variable):
                value = variable.value
                variable.assign(ops.subtract(value, ops.multiply(value, factors[variable.dtype])))

    def _update_model_variables_moving_average(self, trainable_variables):
        not_first = ops.not_equal(self.iterations, 0)
        momenta = PerDtype(lambda dtype: ops.multiply(ops.cast(not_first, dtype), self.ema_momentum))
        for variable, average in zip(trainable_variables, self._model_variables_moving_average):
            if average is not None:
                momentum = momenta[average.dtype]
                average.assign(
                    ops.add(
                        ops.multiply(momentum, average.value), ops.multiply(ops.subtract(1, momentum), variable.value)
                    )
                )

    def _overwrite_model_variables_with_average_value(self, trainable_variables):
        averages = self._model_variables_moving_average
        if len(trainable_variables) != len(averages):
            raise ValueError(
                f"The length of model variables ({len(trainable_variables)}) to override does not match the length "
                f"of model variables stored in the optimizer ({len(averages)}). Please check if the optimizer was "
                "called on your model."
            )
        for variable, average in zip(trainable_variables, averages):
            if average is not None:
                variable.assign(average.value)

    def finalize_variable_values(self, var_list):
        """Ends training: with `use_ema`, overwrites `var_list` with the moving averages."""
        if self.use_ema:
            self._overwrite_model_variables_with_average_value(var_list)

    # -- state and config ---------------------------------------------------------------------

    def set_weights(self, weights):
        """Sets the optimizer variables from arrays, in the order of `variables`."""
        if not self.built:
            raise ValueError(
                "You are calling `set_weights()` on an optimizer that has not yet been built. Please call "
                "`optimizer.build(trainable_variables)` to create the optimizer weights before calling `set_weights()`."
            )
        for variable, weight in zip(self._variables, weights):
            if tuple(variable.shape) != tuple(weight.shape):
                raise ValueError(
                    f"Optimizer variable {variable.path} has shape {variable.shape} not compatible with provided "
                    f"weight shape {tuple(weight.shape)}."
                )
            variable.assign(weight)

    def save_own_variables(self, store):
        """Writes the variables into `store` under "0", "1", ... (the `.keras` format)."""
        for index, variable in enumerate(self._variables):
            store[str(index)] = variable.numpy()

    def load_own_variables(self, store):
        """Reads the variables written by `save_own_variables` (skipped with a warning on a count mismatch)."""
        if len(store.keys()) != len(self._variables):
            message = (
                f"Skipping variable loading for optimizer '{self.name}', because it has {len(self._variables)} "
                f"variables whereas the saved optimizer has {len(store.keys())} variables. "
            )
            if len(self._variables) == 0:
                message += "This is likely because the optimizer has not been called/built yet."
            warnings.warn(message, stacklevel=2)
            return
        for index, variable in enumerate(self._variables):
            variable.assign(store[str(index)])

    def get_config(self):
        """Returns the constructor arguments (Keras 3 keys); a schedule is serialized."""
        rate = self._learning_rate
        if isinstance(rate, _schedules.LearningRateSchedule):
            rate = _schedules.serialize(rate)
        elif isinstance(rate, Variable):
            rate = float(rate.numpy())
        else:
            from kbridge.saving import serialization_lib

            rate = serialization_lib.serialize_keras_object(rate)
        return {
            "name": self.name,
            "learning_rate": rate,
            "weight_decay": self.weight_decay,
            "clipnorm": self.clipnorm,
            "global_clipnorm": self.global_clipnorm,
            "clipvalue": self.clipvalue,
            "use_ema": self.use_ema,
            "ema_momentum": self.ema_momentum,
            "ema_overwrite_frequency": self.ema_overwrite_frequency,
            "loss_scale_factor": self.loss_scale_factor,
            "gradient_accumulation_steps": self.gradient_accumulation_steps,
        }

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """Creates an optimizer from `get_config()` output."""
        config = dict(config)
        if isinstance(config.get("learning_rate"), dict):
            config["learning_rate"] = _schedules.deserialize(config["learning_rate"], custom_objects=custom_objects)
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"
