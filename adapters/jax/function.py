"""A kbridge model as a pure JAX function over `params` / `state` pytrees.

`to_function(model)` snapshots the model's variables into two nested dicts keyed
by the structural path components (`params["layers"]["1"]["kernel"]`) and gives a
pure `apply(params, state, *inputs, training=False) -> (outputs, new_state)` built
on `Layer.stateless_call`, so it composes with `jax.jit`, `jax.grad`, `jax.vmap`,
`jax.checkpoint`, `jax.lax.scan` and optax. `load_into` writes a (trained)
snapshot back into the model's variables (DESIGN.md, invariant 5: snapshots are
written back explicitly).
"""

from collections.abc import Mapping

import jax
import jax.numpy as jnp
import numpy as np

from kbridge.utils.call_inputs import pack_inputs

__all__ = ["JaxFunction", "to_function", "load_into"]


def _model_paths(model):
    """`(trainable_paths, non_trainable_paths)` in `stateless_call` order, plus shapes by path."""
    if not getattr(model, "built", False):
        raise ValueError(
            f'Model "{getattr(model, "name", model)}" is not built yet; call it on data or call build() first.'
        )
    by_id = {}
    shapes = {}
    for path, variable in model.named_variables():
        by_id.setdefault(id(variable), path)
        shapes[path] = tuple(variable.shape)

    def paths_of(variables):
        out = []
        for variable in variables:
            path = by_id.get(id(variable))
            if path is None:  # not reachable by a structural path: should not happen
                raise ValueError(f"Variable {variable!r} of the model has no structural path.")
            out.append(path)
        return out

    return paths_of(model.trainable_variables), paths_of(model.non_trainable_variables), shapes


def _nest(paths, values):
    """Builds nested dicts from dotted `paths` and their `values`."""
    root = {}
    for path, value in zip(paths, values):
        *parents, leaf = path.split(".")
        node = root
        for i, key in enumerate(parents):
            child = node.setdefault(key, {})
            if not isinstance(child, dict):
                raise ValueError(f"Variable path {'.'.join(parents[: i + 1])} is both a leaf and a prefix of {path}.")
            node = child
        if leaf in node:
            raise ValueError(f"Variable path {path} appears twice (or is a prefix of another path).")
        node[leaf] = value
    return root


def _leaf_paths(tree, prefix=""):
    """Dotted paths of the leaves of a nested mapping."""
    out = {}
    for key, value in tree.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(_leaf_paths(value, path + "."))
        else:
            out[path] = value
    return out


def _flatten(tree, paths, shapes, what):
    """Values of `tree` in the order of `paths`; raises a `ValueError` naming any mismatch."""
    if not isinstance(tree, Mapping):
        raise ValueError(f"`{what}` must be a nested dict keyed by variable path components, got {type(tree).__name__}.")
    leaves = _leaf_paths(tree)
    missing = [p for p in paths if p not in leaves]
    extra = [p for p in leaves if p not in set(paths)]
    if missing or extra:
        details = []
        if missing:
            details.append(f"missing {missing}")
        if extra:
            details.append(f"unexpected {extra}")
        raise ValueError(f"`{what}` does not match the model's variables: {'; '.join(details)}.")
    values = []
    for path in paths:
        value = leaves[path]
        shape = tuple(jnp.shape(value))
        if shape != shapes[path]:
            raise ValueError(f"`{what}` entry {path} has shape {shape}, but the model's variable has shape {shapes[path]}.")
        values.append(value)
    return values


def _check_jax(model):
    variables = model.variables
    if variables and any(v.backend != "jax" for v in variables):
        found = sorted({v.backend for v in variables})
        raise ValueError(
            f'Model "{model.name}" has variables on backend(s) {found}; call model.to_backend("jax") '
            "before kbridge.adapters.jax.to_function(model)."
        )


class JaxFunction:
    """A kbridge model as a pure function plus its `params` / `state` pytrees.

    Attributes:
        params: nested dict of the trainable values (jax arrays).
        state: nested dict of the non-trainable values (statistics, seed state).
        model: the wrapped kbridge model (its variables are not changed by `apply`).

    Example:
        >>> fn = to_function(model)
        >>> y, new_state = jax.jit(fn.apply)(fn.params, fn.state, x)
    """

    def __init__(self, model):
        _check_jax(model)
        self.model = model
        self._trainable_paths, self._non_trainable_paths, self._shapes = _model_paths(model)
        self.params = _nest(self._trainable_paths, [v.value for v in model.trainable_variables])
        self.state = _nest(self._non_trainable_paths, [v.value for v in model.non_trainable_variables])

    def apply(self, params, state, *inputs, training=False, **kwargs):
        """Runs the model purely on `params` and `state`.

        Args:
            params: nested dict like `self.params`.
            state: nested dict like `self.state`.
            *inputs: the model's inputs (jax arrays or anything jax accepts).
            training: training mode (Dropout active, statistics updated); a Python
                bool, so under `jax.jit` mark it static or close over it.
            **kwargs: other call arguments of the model.

        Returns:
            `(outputs, new_state)`; `new_state` has the structure of `state`.
        """
        if isinstance(training, jax.core.Tracer):
            raise ValueError(
                "`training` must be a Python bool, not a traced value: use "
                '`jax.jit(fn.apply, static_argnames="training")` or close over it '
                "(`lambda p, s, x: fn.apply(p, s, x, training=True)`)."
            )
        trainable = _flatten(params, self._trainable_paths, self._shapes, "params")
        non_trainable = _flatten(state, self._non_trainable_paths, self._shapes, "state")
        inputs = jax.tree_util.tree_map(_to_jax, pack_inputs(self.model, inputs))
        outputs, new_values = self.model.stateless_call(trainable, non_trainable, *inputs, training=training, **kwargs)
        return outputs, _nest(self._non_trainable_paths, new_values)

    __call__ = apply

    def __repr__(self):
        return (
            f"<JaxFunction model={self.model.name} params={len(self._trainable_paths)} "
            f"state={len(self._non_trainable_paths)}>"
        )


def _to_jax(value):
    return jnp.asarray(value) if isinstance(value, (np.ndarray, np.generic)) else value


def to_function(model):
    """Returns `model` as a pure JAX function with `params` / `state` pytrees.

    Args:
        model: a built kbridge layer or model whose variables are on the jax backend.

    Returns:
        A `JaxFunction` with `.params`, `.state` and `.apply(params, state, *inputs, training=False)`.

    Raises:
        ValueError: the model is not built or not on the jax backend.
    """
    return JaxFunction(model)


def load_into(model, params, state=None):
    """Writes `params` (and `state` when given) into `model`'s variables.

    Everything is validated before anything is written, so a bad tree changes nothing.

    Args:
        model: the kbridge model the trees were taken from (any backend).
        params: nested dict of trainable values, as in `to_function(model).params`.
        state: optional nested dict of non-trainable values.

    Returns:
        The model.

    Raises:
        ValueError: a tree does not match the model's variables (names the path).
    """
    trainable_paths, non_trainable_paths, shapes = _model_paths(model)
    pairs = list(zip(model.trainable_variables, _flatten(params, trainable_paths, shapes, "params")))
    if state is not None:
        pairs += zip(model.non_trainable_variables, _flatten(state, non_trainable_paths, shapes, "state"))
    for variable, value in pairs:
        if isinstance(value, jax.core.Tracer):
            raise ValueError(f"load_into received a traced value for {variable.path}; call it outside jax transforms.")
    for variable, value in pairs:
        variable.assign(value if variable.backend == "jax" else np.asarray(value))
    return model
