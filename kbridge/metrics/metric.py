"""`Metric`: the base of stateful metrics (Keras 3 `keras.metrics.Metric`).

A metric's state lives in non-trainable `kbridge.Variable`s on one backend (chosen
when it is created, like a layer's). `update_state`, `result` and `reset_state` run
with that backend active, so they accept NumPy inputs, and a stateless twin of each
(`stateless_update_state`, ...) swaps the variable values through the same scope
mechanism as `Layer.stateless_call`, for `jax.jit` and other pure callers.
"""

import functools

from kbridge import config, dtype_policies
from kbridge.backend import dispatch, registry
from kbridge.backend._state import state
from kbridge.tracking import Trackable
from kbridge.utils import naming
from kbridge.variables import Variable

_ON_BACKEND = ("update_state", "result", "reset_state")


def _on_backend(method):
    """Runs `method` with the metric's backend active (for ops and new variables)."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        saved = state.ops, state.backend
        # The variables' backend, in case they were moved one by one (Variable.to_backend).
        variables = self._variables
        state.ops = state.backend = variables[0]._backend if variables else self._backend
        try:
            return method(self, *args, **kwargs)
        finally:
            state.ops, state.backend = saved

    wrapper._kb_on_backend = True
    return wrapper


def _read_real_value(variable):
    return variable._value


class Metric(Trackable):
    """Encapsulates metric logic and state.

    Subclasses create state in `__init__` with `self.add_variable(...)`, accumulate it
    in `update_state(...)` with `variable.assign(...)` and `kbridge.ops`, and compute
    the value in `result()`.

    Args:
        dtype: the dtype of the metric's computations (default `kbridge.config.floatx()`).
        name: the metric's name (default: the snake_case class name, made unique).

    Example:
        >>> m = kbridge.metrics.Mean()
        >>> m.update_state([1, 3, 5, 7])
        >>> float(m.result())
        4.0
    """

    # Metric state is never a model weight (nor saved with the weights).
    _HOLDS_WEIGHTS = False
    _IN_PARENT_VARIABLES = False

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        for name in _ON_BACKEND:
            method = cls.__dict__.get(name)
            if method is not None and not getattr(method, "_kb_on_backend", False):
                setattr(cls, name, _on_backend(method))

    def __init__(self, dtype=None, name=None):
        if name is not None and not isinstance(name, str):
            raise TypeError(f"{type(self).__name__}: `name` must be a string, received {type(name).__name__}: {name!r}")
        self.name = name or naming.auto_name(type(self).__name__)
        self._dtype_policy = dtype_policies.get(dtype or config.floatx())
        self._dtype = self._dtype_policy.compute_dtype
        self._variables = []
        self._backend = dispatch.current_backend()

    # -- state --------------------------------------------------------------------------

    def add_variable(self, shape, initializer, dtype=None, aggregation="sum", name=None):
        """Creates a non-trainable state variable on the metric's backend and returns it.

        Args:
            shape: the variable's shape.
            initializer: an initializer object or name (e.g. "zeros").
            dtype: the variable's dtype (default `kbridge.config.floatx()`).
            aggregation: how distribution strategies combine replicas ("sum", "mean", ...).
            name: the last component of the variable's path.
        """
        self._check_super_called()
        saved = state.backend
        state.backend = self._variables[0]._backend if self._variables else self._backend
        try:
            variable = Variable(
                initializer, shape=tuple(shape), dtype=dtype, trainable=False,
                aggregation=aggregation, synchronization="on_read", name=name,
            )  # fmt: skip
        finally:
            state.backend = saved
        self._variables.append(variable)
        return variable

    def add_weight(self, shape=(), initializer=None, dtype=None, name=None):
        """Alias of `add_variable` kept for compatibility (zeros by default)."""
        return self.add_variable(shape=shape, initializer=initializer or "zeros", dtype=dtype, name=name)

    def _own_variables(self):
        return list(self._variables)

    @property
    def variables(self):
        """The state variables: this metric's, then those of metrics it holds."""
        return [v for _, v in self.named_variables(include_all=True)]

    @property
    def dtype(self):
        """The dtype of the metric's computations."""
        return self._dtype

    @property
    def backend(self):
        """The name of the backend the state lives on."""
        return (self._variables[0]._backend if self._variables else self._backend).NAME

    def to_backend(self, name):
        """Moves the state (exactly, through NumPy) to backend `name`. Returns self."""
        target = registry.get(name)
        for variable in self.variables:
            variable.to_backend(target.NAME)
        self._backend = target
        for _, child in self._named_children():
            if isinstance(child, Metric):
                child.to_backend(target.NAME)
        return self

    # -- the stateful API ---------------------------------------------------------------

    def update_state(self, *args, **kwargs):
        """Accumulates statistics for the metric (override in subclasses)."""
        raise NotImplementedError(f"{type(self).__name__} does not implement update_state().")

    def result(self):
        """Returns the metric's value: a scalar tensor, a tensor, or a dict of them."""
        raise NotImplementedError(f"{type(self).__name__} does not implement result().")

    @_on_backend
    def reset_state(self):
        """Sets every state variable back to zeros."""
        from kbridge import ops

        for variable in self.variables:
            variable.assign(ops.zeros(variable.shape, dtype=variable.dtype))

    def __call__(self, *args, **kwargs):
        """Updates the state with the arguments and returns `result()`."""
        self._check_super_called()
        self.update_state(*args, **kwargs)
        return self.result()

    # -- the stateless API (DESIGN.md invariant 4) ------------------------------------------

    def stateless_update_state(self, metric_variables, *args, **kwargs):
        """Returns the new state values after an update from `metric_variables`, touching no variable.

        Args:
            metric_variables: values for `self.variables`, in order.
            *args, **kwargs: the arguments of `update_state`.

        Returns:
            The list of new values, one per variable of `self.variables` (after the call:
            a metric that creates its state on first use, such as `R2Score`, has more).
        """
        scope = self._stateless_scope(metric_variables, "stateless_update_state")
        self._in_scope(scope, self.update_state, args, kwargs)
        return self._collect(scope)

    def stateless_result(self, metric_variables):
        """Returns `result()` computed from the state values `metric_variables`."""
        scope = self._stateless_scope(metric_variables, "stateless_result")
        return self._in_scope(scope, self.result, (), {})

    def stateless_reset_state(self):
        """Returns the state values `reset_state()` would set, touching no variable."""
        scope = {} if state.scope is None else dict(state.scope)
        self._in_scope(scope, self.reset_state, (), {})
        return self._collect(scope)

    def _stateless_scope(self, metric_variables, what):
        variables = self.variables
        if len(metric_variables) != len(variables):
            raise ValueError(
                f"{type(self).__name__}.{what}: `metric_variables` must hold one value per variable of "
                f"`metric.variables` ({len(variables)}), received {len(metric_variables)}."
            )
        scope = dict(zip(variables, metric_variables))
        return scope if state.scope is None else {**state.scope, **scope}

    def _in_scope(self, scope, method, args, kwargs):
        saved = state.scope, state.scope_fallback
        state.scope, state.scope_fallback = scope, _read_real_value
        try:
            return method(*args, **kwargs)
        finally:
            state.scope, state.scope_fallback = saved

    def _collect(self, scope):
        out = []
        for variable in self.variables:
            value = scope.get(variable)
            if value is None:
                value = variable.value
            elif not variable._backend.is_tensor(value) or variable._backend.dtype(value) != variable.dtype:
                # A stateful assign converts; do the same so a jitted loop's carry keeps its dtype.
                value = variable._backend.cast(variable._backend.convert_to_tensor(value), variable.dtype)
            out.append(value)
        return out

    # -- config -------------------------------------------------------------------------

    def get_config(self):
        """Returns the constructor arguments (Keras 3 keys; at least "name" and "dtype")."""
        return {"name": self.name, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config):
        """Creates a metric from `get_config()` output."""
        return cls(**config)

    def _check_super_called(self):
        if "_variables" not in vars(self):
            raise RuntimeError(
                f"{type(self).__name__}: you forgot to call `super().__init__()` in the `__init__()` method."
            )

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}>"
