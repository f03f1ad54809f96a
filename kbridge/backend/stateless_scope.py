"""`StatelessScope`: run code with variables read from (and written to) a mapping.

Inside the scope, `variable.value` returns the mapped value and `variable.assign`
records the new value in the scope instead of touching the variable. This is how
`Layer.stateless_call`, `kbridge.value_and_grad` on JAX and the jitted JAX train
step stay pure (DESIGN.md invariant 4).
"""

from kbridge.backend._state import state


def _read_real_value(variable):
    return variable._value


class StatelessScope:
    """Context manager mapping variables to values (Keras 3 `keras.StatelessScope`).

    Args:
        state_mapping: iterable of `(variable, value)` pairs (or a dict).
        collect_losses: collect losses from `Layer.add_loss` in `scope.losses`.

    Example:
        >>> with StatelessScope([(layer.kernel, new_kernel)]) as scope:
        ...     outputs = layer(x)
        >>> scope.get_current_value(layer.kernel)
    """

    def __init__(self, state_mapping=None, collect_losses=False):
        mapping = dict(state_mapping or {})
        outer = state.scope
        self.mapping = {**outer, **mapping} if outer is not None else mapping
        self.losses = [] if collect_losses else None

    def __enter__(self):
        self._saved = (state.scope, state.scope_fallback, state.scope_losses)
        state.scope = self.mapping
        state.scope_fallback = state.scope_fallback or _read_real_value
        if self.losses is not None:
            state.scope_losses = self.losses
        return self

    def __exit__(self, *exc):
        state.scope, state.scope_fallback, state.scope_losses = self._saved
        return False

    def get_current_value(self, variable):
        """The value `variable` has in this scope (assigned, mapped, or its real value)."""
        value = self.mapping.get(variable)
        return variable._value if value is None else value

    def add_loss(self, loss):
        """Records a loss (used by `Layer.add_loss`)."""
        if self.losses is not None:
            self.losses.append(loss)
