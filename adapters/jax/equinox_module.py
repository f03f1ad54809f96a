"""A kbridge model as an Equinox module: `to_equinox(model) -> (module, state)`.

Convention (the one of Equinox's stateful layers, `eqx.nn.make_with_state`):

- `module.params` is the nested dict of trainable arrays of `to_function(model).params`:
  the module's only array leaves, so `eqx.filter(module, eqx.is_array)`,
  `eqx.filter_grad`, `eqx.partition` / `eqx.combine` and optax see exactly the params;
- the non-trainable variables (BatchNormalization statistics, Dropout seed state) live
  in an `eqx.nn.State` under `module.state_index` (an `eqx.nn.StateIndex`), created by
  `eqx.nn.make_with_state`, so `to_equinox` returns `(module, state)`;
- `module(*inputs, state, training=False) -> (outputs, new_state)`: the last positional
  argument is the `eqx.nn.State`; `training` is a Python bool (static). As with any
  `eqx.nn.State`, a state passed to a call (outside `jit`) is used up: go on with `new_state`.

`module.model_state(state)` gives the nested dict of non-trainable values, so
`kbridge.adapters.jax.load_into(model, module.params, module.model_state(state))`
writes a trained module back into the kbridge model (`module.load_into(model, state)`
does the same).
"""

import equinox as eqx

from kbridge.adapters.jax.function import JaxFunction, load_into

__all__ = ["KbridgeModule", "to_equinox"]


class KbridgeModule(eqx.Module):
    """An Equinox module running a kbridge model on its `params` and an `eqx.nn.State`.

    Build it with `to_equinox(model)` (or `eqx.nn.make_with_state(KbridgeModule)(to_function(model))`).

    Attributes:
        params: nested dict of trainable arrays (keyed by structural path components).
        state_index: the `eqx.nn.StateIndex` of the non-trainable values in the `eqx.nn.State`.
        function: the `JaxFunction` (static) that runs the model.
    """

    params: dict
    state_index: eqx.nn.StateIndex
    function: JaxFunction = eqx.field(static=True)

    def __init__(self, function):
        if not isinstance(function, JaxFunction):
            raise TypeError(f"KbridgeModule expects a JaxFunction (from to_function(model)), got {function!r}.")
        self.function = function
        self.params = function.params
        self.state_index = eqx.nn.StateIndex(function.state)

    def __call__(self, *args, training=False, **kwargs):
        """`module(*inputs, state, training=False, **call_kwargs) -> (outputs, new_state)`."""
        if not args or not isinstance(args[-1], eqx.nn.State):
            raise TypeError(
                "Call a KbridgeModule as `module(*inputs, state, training=False)` with the `eqx.nn.State` "
                "returned by `to_equinox(model)` as the last positional argument."
            )
        *inputs, state = args
        outputs, new_model_state = self.function.apply(
            self.params, state.get(self.state_index), *inputs, training=training, **kwargs
        )
        return outputs, state.set(self.state_index, new_model_state)

    def model_state(self, state):
        """The nested dict of non-trainable values held for this module in `state`."""
        return state.get(self.state_index)

    def load_into(self, model, state=None):
        """Writes `self.params` (and the non-trainable values in `state`, when given) into `model`."""
        return load_into(model, self.params, None if state is None else self.model_state(state))

    @property
    def model(self):
        """The wrapped kbridge model (not changed by calls)."""
        return self.function.model


def to_equinox(model):
    """Returns `(module, state)`: `model` as a `KbridgeModule` and its `eqx.nn.State`.

    Args:
        model: a built kbridge model whose variables are on the jax backend.

    Returns:
        `(module, state)` as from `eqx.nn.make_with_state`; call `module(x, state, training=...)`.

    Example:
        >>> module, state = kbridge.adapters.jax.to_equinox(model)
        >>> y, state = eqx.filter_jit(module)(x, state)
    """
    function = model if isinstance(model, JaxFunction) else JaxFunction(model)
    return eqx.nn.make_with_state(KbridgeModule)(function)
