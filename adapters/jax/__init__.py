"""`kbridge.adapters.jax`: kbridge models as JAX functions and pytrees (the backend is in `.backend`).

`to_function(model)` gives a pure `apply(params, state, *inputs, training=False)` with
`params` / `state` pytrees; `load_into(model, params, state)` writes them back.
"""

__all__ = ["JaxFunction", "load_into", "to_function"]


def __getattr__(name):
    # Lazy, so that importing the backend subpackage does not load the adapter.
    if name in __all__:
        from kbridge.adapters.jax import function

        return getattr(function, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
