"""Safe mode: loading never runs code from a file (DESIGN.md invariant 8).

Deserializing a Lambda's Python code, or any object outside kbridge's registry and
the caller's `custom_objects`, is refused while safe mode is on (the default).
"""

import threading

_local = threading.local()
_unsafe_globally = False


def in_safe_mode():
    """Whether deserialization must refuse code (True unless disabled by scope or config)."""
    scoped = getattr(_local, "safe_mode", None)
    if scoped is not None:
        return scoped
    return not _unsafe_globally


class SafeModeScope:
    """`with SafeModeScope(False):` allows loading Lambda code inside the block (this thread)."""

    def __init__(self, safe_mode=True):
        self.safe_mode = safe_mode

    def __enter__(self):
        self._saved = getattr(_local, "safe_mode", None)
        _local.safe_mode = self.safe_mode
        return self

    def __exit__(self, *exc):
        _local.safe_mode = self._saved


def enable_unsafe_deserialization():
    """Turns safe mode off for the whole process (as `keras.config.enable_unsafe_deserialization`)."""
    global _unsafe_globally
    _unsafe_globally = True
