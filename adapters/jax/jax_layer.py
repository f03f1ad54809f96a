"""JAX code as kbridge layers: `JaxLayer(call_fn, params, state)` and `EquinoxLayer(module)`.

The other direction of `to_function`: a pure JAX function (or an Equinox module)
becomes a `kbridge.layers.Layer` that lives inside kbridge models (Sequential,
Functional, subclassed) on the **jax backend** and is trained by `model.fit`.

Every array leaf of the wrapped parameters becomes a kbridge variable (created
with `add_weight`, the leaf as its initial value); `call` rebuilds the pytrees from
the variables' current `.value`, so jit, `stateless_call` and the jitted train step
see traced values, and writes new state back with `assign`.

Variable names are the leaf's pytree path, components joined with "_" (a variable
name may not contain "."): `params["dense"]["kernel"]` is `params_dense_kernel`, so
inside `Sequential` its structural path is `layers.0.params_dense_kernel`.

These layers hold code, so they cannot be serialized: `get_config` raises
`NotImplementedError` (save weights with `save_weights` / `get_weights`; saving
never pickles code).
"""

import inspect

import jax
import numpy as np

from kbridge.backend import dispatch
from kbridge.backend._state import state as _kb_state
from kbridge.layers.layer import Layer
from kbridge.symbolic.keras_tensor import KerasTensor
from kbridge.utils import tree as kb_tree

__all__ = ["JaxLayer", "EquinoxLayer"]

_CALL_FN_ARGUMENTS = ("params", "state", "rng", "inputs", "training")


# -- helpers ---------------------------------------------------------------------------------


def _key_name(key):
    if isinstance(key, jax.tree_util.DictKey):
        text = str(key.key)
    elif isinstance(key, jax.tree_util.GetAttrKey):
        text = key.name
    elif isinstance(key, jax.tree_util.SequenceKey):
        text = str(key.idx)
    elif isinstance(key, jax.tree_util.FlattenedIndexKey):
        text = str(key.key)
    else:
        text = str(key)
    text = text.replace(".", "_").replace("/", "_").strip("[]'\"")
    return text or "leaf"


def _leaf_name(prefix, path):
    """`("dense", "kernel")` under prefix "params" -> "params_dense_kernel"."""
    parts = ([prefix] if prefix else []) + [_key_name(k) for k in path]
    return "_".join(parts) or "variable"


def _flatten_arrays(pytree, what):
    """`(names_paths, numpy_leaves, treedef)`; every leaf must be an array (copied to NumPy)."""
    leaves_with_path, treedef = jax.tree_util.tree_flatten_with_path(pytree)
    paths, leaves = [], []
    for path, leaf in leaves_with_path:
        if not (hasattr(leaf, "shape") and hasattr(leaf, "dtype")) and not isinstance(leaf, (int, float, bool)):
            raise ValueError(
                f"`{what}` must be a pytree of arrays; the leaf at {jax.tree_util.keystr(path)} is a "
                f"{type(leaf).__name__}."
            )
        paths.append(path)
        # A copy: the jitted train step donates variable buffers, which must never be
        # the caller's arrays.
        leaves.append(np.array(leaf, copy=True))
    return paths, leaves, treedef


def _unflatten(treedef, leaves):
    return None if treedef is None else jax.tree_util.tree_unflatten(treedef, leaves)


def _check_jax_backend(layer, module=None):
    module = module or dispatch.current_backend()
    name = getattr(module, "NAME", None)
    if name != "jax":
        raise ValueError(
            f'{type(layer).__name__} "{layer.name}" wraps JAX code and only runs on the jax backend, but it is '
            f'being used on the {name} backend. Build the model under kbridge.backend.use("jax") (or call it on '
            f"JAX arrays), or move it with model.to_backend(\"jax\")."
        )


def _spec_structs(inputs, batch):
    """KerasTensors (None dims -> `batch`) as `jax.ShapeDtypeStruct`s."""

    def convert(x):
        if isinstance(x, KerasTensor):
            shape = tuple(batch if d is None else d for d in x.shape)
            return jax.ShapeDtypeStruct(shape, np.dtype(x.dtype))
        if hasattr(x, "shape") and hasattr(x, "dtype"):
            return jax.ShapeDtypeStruct(tuple(x.shape), x.dtype)
        return x

    return kb_tree.map_structure(convert, inputs)


def _output_spec(fn, inputs, extra):
    """KerasTensors for `fn(inputs, extra)` by `jax.eval_shape` (`extra`: ShapeDtypeStructs of
    the variables); dims that follow the unknown (None) input dims are found by evaluating
    at two sizes."""
    first = jax.eval_shape(fn, _spec_structs(inputs, 2), extra)
    has_unknown = any(isinstance(x, KerasTensor) and None in x.shape for x in kb_tree.flatten(inputs))
    second = jax.eval_shape(fn, _spec_structs(inputs, 3), extra) if has_unknown else first

    def to_spec(a, b):
        shape = tuple(None if da != db else da for da, db in zip(a.shape, b.shape))
        return KerasTensor(shape, str(np.dtype(a.dtype)))

    return jax.tree_util.tree_map(to_spec, first, second)


class _JaxAdapterLayer(Layer):
    """Shared parts: variables from pytrees, backend check, no config."""

    def _make_variables(self, prefix, paths, leaves, trainable):
        variables = []
        for path, leaf in zip(paths, leaves):
            variables.append(
                self.add_weight(
                    shape=leaf.shape, initializer=leaf, dtype=str(leaf.dtype), trainable=trainable,
                    autocast=False, name=_leaf_name(prefix, path),
                )  # fmt: skip
            )
        return variables

    def _check_backend_of_variables(self):
        module = self._backend
        if module is not None:
            _check_jax_backend(self, module)
        ops = _kb_state.ops
        if ops is not None and getattr(ops, "NAME", None) != "jax":
            _check_jax_backend(self, ops)

    def get_config(self):
        raise NotImplementedError(
            f'{type(self).__name__} "{self.name}" wraps JAX code and cannot be serialized to a config '
            "(kbridge never pickles code). Save its weights with save_weights()/get_weights() and rebuild "
            "the layer in code."
        )


# -- JaxLayer --------------------------------------------------------------------------------


class JaxLayer(_JaxAdapterLayer):
    """A kbridge layer wrapping a pure JAX function `call_fn` (Keras 3 `keras.layers.JaxLayer`).

    `call_fn`'s arguments are recognized by name, as in Keras: any of `params`,
    `state`, `rng`, `inputs` (required) and `training`, in any order; they are
    passed positionally in the order of `call_fn`'s signature. The usual forms:

        call_fn(params, inputs, training=False) -> outputs
        call_fn(params, state, inputs, training=False) -> (outputs, new_state)
        call_fn(params, state, rng, inputs, training=False) -> (outputs, new_state)

    With a `state` argument `call_fn` must return `(outputs, new_state)`, `new_state`
    with the structure of `state`; the new state is written to the layer's
    non-trainable variables on every call (return `state` unchanged to keep it).
    `rng` is a `jax.random` key, different on every call (drawn from a kbridge
    `SeedGenerator`, so it is part of the model state). `inputs` is the layer's single
    input (a tensor, or one nested structure of tensors). `training` is a Python bool.

    Args:
        call_fn: the pure JAX function.
        params: pytree of arrays; each leaf becomes a trainable variable named by its
            pytree path (`params_dense_kernel`).
        state: optional pytree of arrays; each leaf becomes a non-trainable variable
            (`state_count`).
        seed: int seed for `rng` (when `call_fn` takes one).
        **kwargs: `Layer` arguments (`name`, `trainable`, `dtype`).

    Runs only on the jax backend (a `ValueError` otherwise). Variables are created
    when the layer is built, on the backend it is built on.
    """

    def __init__(self, call_fn, params=None, state=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        if not callable(call_fn):
            raise TypeError(f"JaxLayer: `call_fn` must be callable, received {type(call_fn).__name__}.")
        self.call_fn = call_fn
        self._arguments = _call_fn_arguments(call_fn)
        has_state = "state" in self._arguments
        if has_state and state is None:
            raise ValueError("JaxLayer: `call_fn` has a `state` argument but no `state` was given.")
        if not has_state and state is not None:
            raise ValueError("JaxLayer: `state` was given but `call_fn` has no `state` argument.")
        if "params" in self._arguments and params is None:
            raise ValueError("JaxLayer: `call_fn` has a `params` argument but no `params` was given.")
        self._has_state = has_state
        self._pending = {
            "params": _flatten_arrays(params, "params") if params is not None else ([], [], None),
            "state": _flatten_arrays(state, "state") if state is not None else ([], [], None),
        }
        self._params_treedef = self._pending["params"][2]
        self._state_treedef = self._pending["state"][2]
        self._param_variables = []
        self._state_variables = []
        self.seed_generator = None
        self._seed = seed

    def build(self, input_shape=None):
        _check_jax_backend(self)
        paths, leaves, _ = self._pending["params"]
        self._param_variables = self._make_variables("params", paths, leaves, trainable=True)
        paths, leaves, _ = self._pending["state"]
        self._state_variables = self._make_variables("state", paths, leaves, trainable=False)
        if "rng" in self._arguments:
            from kbridge.random.seed_generator import SeedGenerator

            self.seed_generator = SeedGenerator(self._seed)
        self._pending = None

    def _arguments_for(self, params, state_values, rng, inputs, training):
        values = {"params": params, "state": state_values, "rng": rng, "inputs": inputs, "training": training}
        return [values[name] for name in self._arguments]

    def _current(self, variables, treedef):
        return _unflatten(treedef, [v.value for v in variables])

    def call(self, inputs, training=None):
        self._check_backend_of_variables()
        training = bool(training) if training is not None else False
        params = self._current(self._param_variables, self._params_treedef)
        state_values = self._current(self._state_variables, self._state_treedef)
        rng = None
        if self.seed_generator is not None:
            seed = self.seed_generator.next()
            rng = jax.random.fold_in(jax.random.fold_in(jax.random.key(0), seed[0]), seed[1])
        result = self.call_fn(*self._arguments_for(params, state_values, rng, inputs, training))
        if not self._has_state:
            return result
        outputs, new_state = self._split_result(result)
        for variable, value in zip(self._state_variables, self._flat_new_state(new_state)):
            variable.assign(value)
        return outputs

    def _split_result(self, result):
        if not isinstance(result, tuple) or len(result) != 2:
            raise ValueError(
                f'JaxLayer "{self.name}": a `call_fn` with a `state` argument must return (outputs, new_state), '
                f"received {type(result).__name__}."
            )
        return result

    def _flat_new_state(self, new_state):
        leaves, treedef = jax.tree_util.tree_flatten(new_state)
        if treedef != self._state_treedef:
            raise ValueError(
                f'JaxLayer "{self.name}": the new state returned by `call_fn` has structure {treedef}, '
                f"expected {self._state_treedef}."
            )
        return leaves

    def compute_output_spec(self, inputs, training=None):
        training = bool(training) if training is not None else False
        param_structs = [jax.ShapeDtypeStruct(v.shape, np.dtype(v.dtype)) for v in self._param_variables]
        state_structs = [jax.ShapeDtypeStruct(v.shape, np.dtype(v.dtype)) for v in self._state_variables]

        def run(x, values):
            param_values, state_leaves = values
            params = _unflatten(self._params_treedef, param_values)
            state_values = _unflatten(self._state_treedef, state_leaves)
            rng = jax.random.key(0) if "rng" in self._arguments else None
            result = self.call_fn(*self._arguments_for(params, state_values, rng, x, training))
            return self._split_result(result)[0] if self._has_state else result

        return _output_spec(run, inputs, (param_structs, state_structs))


def _call_fn_arguments(call_fn):
    try:
        parameters = inspect.signature(call_fn).parameters
    except (TypeError, ValueError):
        raise ValueError(
            "JaxLayer: cannot read the signature of `call_fn`; give it arguments named "
            f"among {_CALL_FN_ARGUMENTS}."
        ) from None
    names = []
    for name, p in parameters.items():
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        if name not in _CALL_FN_ARGUMENTS:
            if p.default is p.empty:
                raise ValueError(
                    f"JaxLayer: `call_fn` argument {name!r} is not supported; arguments must be named among "
                    f"{_CALL_FN_ARGUMENTS} (as in keras.layers.JaxLayer)."
                )
            continue
        if p.kind is p.KEYWORD_ONLY:
            raise ValueError(f"JaxLayer: `call_fn` argument {name!r} must be positional (not keyword-only).")
        names.append(name)
    if "inputs" not in names:
        raise ValueError("JaxLayer: `call_fn` must have an `inputs` argument.")
    return names


# -- EquinoxLayer ----------------------------------------------------------------------------


class EquinoxLayer(_JaxAdapterLayer):
    """A kbridge layer wrapping an Equinox module.

    The module is split with `eqx.partition(module, eqx.is_inexact_array)`: every
    inexact (floating) array leaf becomes a trainable variable named by its path
    (`layers_0_weight`); everything else stays static. `call` recombines the current
    variable values with the static part and calls the module on the inputs.

    Args:
        module: an `equinox.Module` taking one input array.
        batched: Equinox modules usually act on one example (`eqx.nn.MLP` takes a
            vector); with `batched=False` (the default) the layer `jax.vmap`s the module
            over the leading (batch) axis of the inputs. Pass `batched=True` when the
            module already handles a batch.
        **kwargs: `Layer` arguments (`name`, `trainable`, `dtype`).

    Modules needing a `key` (dropout) or `eqx.nn.State` (BatchNorm) are not supported.
    Runs only on the jax backend (a `ValueError` otherwise).
    """

    def __init__(self, module, batched=False, **kwargs):
        super().__init__(**kwargs)
        import equinox as eqx

        if not isinstance(module, eqx.Module):
            raise TypeError(f"EquinoxLayer: `module` must be an equinox.Module, received {type(module).__name__}.")
        self.batched = bool(batched)
        params, static = eqx.partition(module, eqx.is_inexact_array)
        self._static = static
        self._pending = _flatten_arrays(params, "module")
        self._params_treedef = self._pending[2]
        self._param_variables = []

    def build(self, input_shape=None):
        _check_jax_backend(self)
        paths, leaves, _ = self._pending
        self._param_variables = self._make_variables("", paths, leaves, trainable=True)
        self._pending = None

    def _apply(self, inputs, values):
        import equinox as eqx

        params = jax.tree_util.tree_unflatten(self._params_treedef, values)
        module = eqx.combine(params, self._static)
        return module(inputs) if self.batched else jax.vmap(module)(inputs)

    def call(self, inputs):
        self._check_backend_of_variables()
        return self._apply(inputs, [v.value for v in self._param_variables])

    def compute_output_spec(self, inputs):
        structs = [jax.ShapeDtypeStruct(v.shape, np.dtype(v.dtype)) for v in self._param_variables]
        return _output_spec(self._apply, inputs, structs)
