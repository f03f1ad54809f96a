"""A kbridge optimizer as an optax `GradientTransformation`: `to_optax(optimizer)`.

`init(params)` builds a fresh copy of the optimizer (`type(opt).from_config(opt.get_config())`)
over variables shaped like the leaves of `params` (any pytree of float arrays) and
returns its variables' values as the optax state. `update(grads, opt_state, params)` runs
`Optimizer.stateless_apply` on them, so the numbers are exactly those of the kbridge
optimizer (Keras's epsilon placement, weight decay, clipping, EMA, gradient
accumulation and learning-rate schedules included), and returns
`updates = new_params - params` (to be added by `optax.apply_updates`).

The state (`KbridgeOptimizerState.values`) is a tuple of arrays in the order of
`optimizer.variables` (`iteration`, `learning_rate`, then the slots), so it composes
with `jax.jit`, `optax.chain`, checkpointing and so on. `params` is required by
`update`. The given optimizer itself is never built or changed.
"""

from typing import NamedTuple

import jax
import jax.numpy as jnp

__all__ = ["KbridgeOptimizerState", "to_optax"]


class KbridgeOptimizerState(NamedTuple):
    """The optax state of `to_optax`: the kbridge optimizer's variable values, in `variables` order."""

    values: tuple


def _key_name(key):
    for attr in ("key", "name", "idx"):
        if hasattr(key, attr):
            return str(getattr(key, attr))
    return str(key)


def _signature(params):
    leaves, treedef = jax.tree_util.tree_flatten(params)
    return treedef, tuple((tuple(jnp.shape(leaf)), jnp.result_type(leaf).name) for leaf in leaves)


def to_optax(optimizer):
    """Returns the kbridge `optimizer` as an optax `GradientTransformation`.

    Args:
        optimizer: a kbridge optimizer (e.g. `kbridge.optimizers.Adam(1e-3)`); a fresh copy
            is built from its config for each params structure, the optimizer itself is untouched.

    Returns:
        An `optax.GradientTransformation` with `init(params)` and `update(grads, state, params)`.

    Example:
        >>> fn = kbridge.adapters.jax.to_function(model)
        >>> tx = kbridge.adapters.jax.to_optax(kbridge.optimizers.Adam(1e-3))
        >>> opt_state = tx.init(fn.params)
        >>> updates, opt_state = tx.update(grads, opt_state, fn.params)
        >>> params = optax.apply_updates(fn.params, updates)
    """
    import optax

    from kbridge.backend.dispatch import use
    from kbridge.variables import Variable

    if not (callable(getattr(optimizer, "stateless_apply", None)) and callable(getattr(optimizer, "get_config", None))):
        raise ValueError(f"to_optax expects a kbridge optimizer, got {optimizer!r}.")
    config = optimizer.get_config()
    built = {}  # params signature -> built optimizer copy

    def build_for(params):
        key = _signature(params)
        copy = built.get(key)
        if copy is None:
            with use("jax"):
                copy = type(optimizer).from_config(dict(config))
                variables = []
                for path, leaf in jax.tree_util.tree_leaves_with_path(params):
                    names = [_key_name(k) for k in path] or ["param"]
                    name = names[-1].replace(".", "_").replace("/", "_") or "param"
                    variable = Variable("zeros", shape=tuple(jnp.shape(leaf)), dtype=jnp.result_type(leaf).name,
                                        name=name)  # fmt: skip
                    variable.path = ".".join(names)  # slot paths: `<slot>.<params path>`
                    variables.append(variable)
                copy.build(variables)
            built[key] = copy
        return copy

    def init_fn(params):
        copy = build_for(params)
        return KbridgeOptimizerState(tuple(v.value for v in copy.variables))

    def update_fn(updates, state, params=None):
        if params is None:
            raise ValueError("The transformation of to_optax needs `params`: call `update(grads, state, params)`.")
        copy = build_for(params)
        grads, treedef = jax.tree_util.tree_flatten(updates)
        values, params_def = jax.tree_util.tree_flatten(params)
        if treedef != params_def:
            raise ValueError(f"`grads` ({treedef}) and `params` ({params_def}) have different structures.")
        if len(state.values) != len(copy.variables):
            raise ValueError(
                f"The optimizer state has {len(state.values)} values but the optimizer has "
                f"{len(copy.variables)} variables for these params (was it initialized on other params?)."
            )
        with use("jax"):
            new_values, new_state = copy.stateless_apply(list(state.values), grads, values)
        deltas = [jnp.asarray(new, old.dtype) - old for new, old in zip(new_values, values)]
        return jax.tree_util.tree_unflatten(treedef, deltas), KbridgeOptimizerState(tuple(new_state))

    return optax.GradientTransformation(init_fn, update_fn)
