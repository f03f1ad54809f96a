"""Shape inference without a framework: run a function on KerasTensors with the symbolic backend."""

import contextlib

from kbridge.backend._state import state
from kbridge.symbolic.keras_tensor import KerasTensor


def _variable_spec(variable):
    return KerasTensor(variable.shape, variable.dtype)


def symbolic_backend():
    """Returns the module implementing every op on KerasTensors."""
    from kbridge.symbolic import backend

    return backend


def in_symbolic_scope():
    """Whether ops currently run symbolically."""
    return state.ops is symbolic_backend()


@contextlib.contextmanager
def symbolic_scope(target_backend):
    """Inside: ops act on KerasTensors, variables read as KerasTensors, and new
    variables are created on `target_backend` (a backend module)."""
    saved = (state.ops, state.backend, state.scope, state.scope_fallback)
    state.ops = symbolic_backend()
    state.backend = target_backend
    state.scope = {}
    state.scope_fallback = _variable_spec
    try:
        yield
    finally:
        state.ops, state.backend, state.scope, state.scope_fallback = saved


def compute_output_spec(fn, target_backend, *args, **kwargs):
    """Returns `fn(*args, **kwargs)` evaluated on KerasTensors (no values computed)."""
    with symbolic_scope(target_backend):
        return fn(*args, **kwargs)
