"""Optional backend kernels a layer may use (`fused_dense`, `fused_layer_norm`, ...).

A layer asks `fused(name)`; when the active backend defines that function the layer calls it,
and falls back to its `kbridge.ops` formula when the answer is None (no such kernel, or the
kernel returned None for these operands). See kbridge/backend/README.md for the hooks.
"""

from kbridge.backend._state import state


def fused(name):
    """The active backend module's function `name`, or None.

    Read from `state.backend` (the module a layer call sets), never `state.ops`: outside a layer
    call that is the dispatcher, which answers for every name.
    """
    return getattr(state.backend, name, None)
