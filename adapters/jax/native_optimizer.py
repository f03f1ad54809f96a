"""Optax optimizers for JAX-backed models: `compile(optimizer=optax.adamw(1e-3))`.

`OptaxOptimizer` gives an optax `GradientTransformation` the interface the shared
trainer uses (`build`, `apply`, `variables`, `iterations`, `learning_rate`). The optax
state's leaves become `kbridge.Variable`s with the paths `optax.0`, `optax.1`, ... (in
`jax.tree_util` leaf order), so the jitted JAX train step carries them like any other
optimizer state. The transformation is duck-typed (anything with `init` and `update`):
this module does not import optax.
"""

import jax
import jax.numpy as jnp

from kbridge.backend import registry
from kbridge.backend.dispatch import use
from kbridge.utils import naming
from kbridge.variables import Variable

_HYPERPARAMS = "hyperparams"


def wrap(identifier):
    """Returns `identifier` as an `OptaxOptimizer`.

    Args:
        identifier: an optax `GradientTransformation` (any object with `init` and
            `update`), or an `OptaxOptimizer` (returned as is).

    Raises:
        ValueError: `identifier` is not an optax-style transformation.
    """
    if isinstance(identifier, OptaxOptimizer):
        return identifier
    if callable(getattr(identifier, "init", None)) and callable(getattr(identifier, "update", None)):
        return OptaxOptimizer(identifier)
    raise ValueError(
        f"Could not interpret optimizer identifier: {identifier!r}. A JAX-backed model takes a kbridge optimizer "
        "(e.g. 'adam' or kbridge.optimizers.Adam(1e-3)) or an optax GradientTransformation (e.g. optax.adamw(1e-3))."
    )


class OptaxOptimizer:
    """Trains a JAX-backed model's variables with an optax `GradientTransformation`.

    Args:
        transformation: the optax transformation (`init(params)`, `update(grads, state, params)`).
        name: display name.

    Example:
        >>> model.compile(optimizer=optax.inject_hyperparams(optax.adamw)(learning_rate=1e-3), loss="mse")
        >>> model.optimizer.learning_rate = 1e-4   # settable because of inject_hyperparams
    """

    _kbridge_native_framework = "jax"

    def __init__(self, transformation, name=None):
        self.transformation = transformation
        self.name = name or naming.auto_name("optax_optimizer")
        self.built = False
        self._state_variables = []
        self._treedef = None
        self._rate_index = None
        self._trainable_variables = []
        # Before `build`: the rate `inject_hyperparams` starts from (None without it), and one set since.
        self._initial_rate = _initial_rate(transformation)
        self._pending_rate = None
        with use("jax"):
            self._iterations = Variable(0, dtype="int32", trainable=False, name="iteration")

    # -- building ---------------------------------------------------------------------------

    def build(self, variables):
        """Creates the optax state for `variables` (JAX-backed kbridge Variables)."""
        variables = list(variables)
        self._check_backend(variables)
        state = self.transformation.init([v.value for v in variables])
        keyed, self._treedef = jax.tree_util.tree_flatten_with_path(state)
        created = []
        with use("jax"):
            for index, (key_path, leaf) in enumerate(keyed):
                leaf = jnp.asarray(leaf)
                variable = Variable(leaf, dtype=str(leaf.dtype), trainable=False, name=f"optax_{index}")
                variable.path = f"optax.{index}"
                created.append(variable)
                if self._rate_index is None and _is_learning_rate(key_path):
                    self._rate_index = index
        self._state_variables = created
        self._trainable_variables = variables
        self.built = True
        if self._rate_index is not None and self._pending_rate is not None:
            self.learning_rate, self._pending_rate = self._pending_rate, None

    def _check_backend(self, variables):
        jax_backend = registry.get("jax")
        foreign = sorted({v.backend for v in variables if v._backend is not jax_backend})
        if foreign:
            raise ValueError(
                f"Optimizer '{self.name}' is an optax optimizer: it trains JAX variables only, but the model's "
                f"variables live on {foreign}. Move the model back with `model.to_backend('jax')`, or compile with a "
                "kbridge optimizer (e.g. kbridge.optimizers.AdamW), which trains on every backend."
            )

    # -- applying ---------------------------------------------------------------------------

    def apply(self, grads, trainable_variables=None):
        """Updates the variables with `grads` through `transformation.update`.

        A `None` gradient counts as zero (optax needs one gradient per parameter).
        Inside the jitted train step the reads and assignments go through the
        step's `StatelessScope`, so the update stays pure.
        """
        if trainable_variables is None:
            if not self.built:
                raise ValueError(f"Optimizer '{self.name}' is not built: pass `trainable_variables` to `apply`.")
            trainable_variables = self._trainable_variables
        else:
            trainable_variables = list(trainable_variables)
            if not self.built:
                self.build(trainable_variables)
        if len(grads) != len(trainable_variables):
            raise ValueError(
                f"Optimizer '{self.name}': received {len(grads)} gradients for {len(trainable_variables)} variables."
            )
        self._check_backend(trainable_variables)
        params = [v.value for v in trainable_variables]
        grads = [jnp.zeros_like(p) if g is None else jnp.asarray(g, dtype=p.dtype) for g, p in zip(grads, params)]
        state = jax.tree_util.tree_unflatten(self._treedef, [v.value for v in self._state_variables])
        updates, new_state = self.transformation.update(grads, state, params)
        for variable, param, update in zip(trainable_variables, params, updates):
            if update is not None:
                variable.assign(jnp.asarray(param + update).astype(param.dtype))
        for variable, leaf in zip(self._state_variables, jax.tree_util.tree_leaves(new_state)):
            variable.assign(jnp.asarray(leaf).astype(variable.dtype))
        self._iterations.assign(self._iterations.value + 1)

    def apply_gradients(self, grads_and_vars):
        """Applies `[(gradient, variable), ...]`; returns `iterations`."""
        grads, variables = zip(*grads_and_vars)
        self.apply(list(grads), list(variables))
        return self._iterations

    # -- state ------------------------------------------------------------------------------

    @property
    def variables(self):
        """`[iterations] + optax state leaves`, all kbridge Variables on JAX."""
        return [self._iterations] + list(self._state_variables)

    @property
    def iterations(self):
        """The number of steps applied (an int32 Variable)."""
        return self._iterations

    @property
    def learning_rate(self):
        """The rate held by `optax.inject_hyperparams` (a Variable once built, a float before);
        other transformations have none."""
        if self._rate_index is not None:
            return self._state_variables[self._rate_index]
        if not self.built and self._initial_rate is not None:
            return self._initial_rate if self._pending_rate is None else self._pending_rate
        raise AttributeError(self._no_rate_message())

    @learning_rate.setter
    def learning_rate(self, value):
        if self._rate_index is not None:
            variable = self._state_variables[self._rate_index]
            variable.assign(jnp.asarray(value, dtype=variable.dtype))
        elif not self.built and self._initial_rate is not None:
            self._pending_rate = float(value)
        else:
            raise ValueError(self._no_rate_message())

    def _no_rate_message(self):
        return (
            f"Optimizer '{self.name}': this optax transformation keeps no learning rate in its state, so it cannot "
            "be read or set. Create it with `optax.inject_hyperparams`, e.g. "
            "`optax.inject_hyperparams(optax.adamw)(learning_rate=1e-3)`."
        )

    def to_backend(self, name):
        """Keeps the optax state on JAX (it cannot train another framework's variables); returns self."""
        return self

    def finalize_variable_values(self, var_list):
        """Nothing to finalize (no EMA)."""

    def get_config(self):
        """Returns `{"name": ...}`: an optax transformation is code and is not serialized."""
        return {"name": self.name}

    def __repr__(self):
        return f"<OptaxOptimizer name={self.name}, built={self.built}>"


def _initial_rate(transformation):
    """The `learning_rate` hyperparameter `transformation.init` creates (a float), or None."""
    try:
        keyed, _ = jax.tree_util.tree_flatten_with_path(transformation.init([]))
    except Exception:  # noqa: BLE001 - a transformation that needs real parameters to initialize
        return None
    for key_path, leaf in keyed:
        if _is_learning_rate(key_path):
            return float(leaf)
    return None


def _is_learning_rate(key_path):
    """Whether a leaf's key path is `....hyperparams['learning_rate']` (optax.inject_hyperparams)."""
    names = [getattr(key, "name", getattr(key, "key", None)) for key in key_path]
    return len(names) >= 2 and names[-1] == "learning_rate" and names[-2] == _HYPERPARAMS
