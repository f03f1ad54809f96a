"""`kbridge.adapters.jax`: kbridge models as JAX functions and pytrees (the backend is in `.backend`).

`to_function(model)` gives a pure `apply(params, state, *inputs, training=False)` with
`params` / `state` pytrees; `load_into(model, params, state)` writes them back.
`to_optax(optimizer)` gives a kbridge optimizer as an optax `GradientTransformation`;
`to_equinox(model)` gives `(module, state)`: the model as an Equinox module.
`JaxLayer(call_fn, params, state)` / `EquinoxLayer(module)` go the other way: JAX code as kbridge layers.
"""

__all__ = [
    "EquinoxLayer",
    "JaxLayer",
    "JaxFunction",
    "KbridgeModule",
    "KbridgeOptimizerState",
    "load_into",
    "to_equinox",
    "to_function",
    "to_optax",
]

_MODULES = {
    "JaxFunction": "function",
    "load_into": "function",
    "to_function": "function",
    "KbridgeOptimizerState": "optax_bridge",
    "to_optax": "optax_bridge",
    "KbridgeModule": "equinox_module",
    "to_equinox": "equinox_module",
    "JaxLayer": "jax_layer",
    "EquinoxLayer": "jax_layer",
}


def __getattr__(name):
    # Lazy, so that importing the backend subpackage does not load the adapters (nor optax / equinox).
    if name in _MODULES:
        import importlib

        module = importlib.import_module(f"kbridge.adapters.jax.{_MODULES[name]}")
        return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
