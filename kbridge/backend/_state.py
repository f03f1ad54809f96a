"""Per-thread dispatch state.

A plain `threading.local` subclass, not a `contextvars.ContextVar`: torch.compile
(fullgraph=True) traces thread-local attribute reads but not `ContextVar.get`
(DESIGN.md invariant 3). Every thread starts from `DEFAULTS`. They are not class
attributes: torch 2.9's dynamo reads a class attribute of a `threading.local` subclass
in place of the thread's own value (torch 2.13 reads the thread's value).
"""

import threading

DEFAULTS = {
    # The op namespace `kbridge.ops.*` forwards to: the auto-dispatcher at top
    # level, a concrete backend module inside a layer call or a `use()` scope,
    # or the symbolic backend while inferring shapes.
    "ops": None,
    # The concrete backend new variables are created on, when a scope names one.
    "backend": None,
    # Variable -> value overrides of a stateless call (or None).
    "scope": None,
    # Called with a Variable missing from `scope`; returns the value to read.
    "scope_fallback": None,
    # Loss tensors added with `Layer.add_loss` during a stateless call.
    "scope_losses": None,
    # True until the outermost layer call of this thread starts; it alone converts inputs.
    "outermost": True,
    # The `training` flag of the outermost layer call that set one.
    "training": None,
}


class _State(threading.local):
    def __init__(self):
        # Every field in each thread's own __dict__ from the start: torch.compile
        # guards fail when a compiled frame first creates one by assignment.
        for name, value in DEFAULTS.items():
            setattr(self, name, value)


state = _State()
