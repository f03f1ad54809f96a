"""`kbridge.distribution`: framework-free description of how `fit` spreads over devices.

Keras 3-like API::

    dist = kbridge.distribution.DataParallel()          # every device of the backend
    kbridge.distribution.set_distribution(dist)         # global setting
    with dist.scope(): model.fit(...)                   # or only inside a block

Only the description lives here (no framework is imported); a backend's adapter reads
`distribution()` when it places a batch and the state. Today the JAX adapter honours
`DataParallel` (`kbridge/adapters/jax/distribution.py`): each batch is sharded along axis 0
over a 1-D mesh named "batch" and the state is replicated. Every training batch (a last
partial one included) must then split evenly over the devices: otherwise `fit` raises a
`ValueError` naming the batch size and the device count (no padding).
Other backends ignore the setting.
"""

import contextlib
import threading

__all__ = ["DataParallel", "Distribution", "distribution", "set_distribution"]


class Distribution:
    """Base class of the distribution descriptions."""

    def __init__(self, devices=None):
        self._devices = None if devices is None else list(devices)

    @property
    def devices(self):
        """The devices to use (backend device objects or strings), or None for all of them."""
        return None if self._devices is None else list(self._devices)

    @contextlib.contextmanager
    def scope(self):
        """Makes this the active distribution inside the `with` block (restores the previous one)."""
        previous = getattr(_local, "distribution", _UNSET)
        _local.distribution = self
        try:
            yield self
        finally:
            if previous is _UNSET:
                del _local.distribution
            else:
                _local.distribution = previous

    def __repr__(self):
        devices = "all" if self._devices is None else len(self._devices)
        return f"{type(self).__name__}(devices={devices})"


class DataParallel(Distribution):
    """Data parallelism: the batch is split along axis 0 over the devices, the state replicated.

    Args:
        devices: the devices to use, as backend device objects (e.g. `jax.devices()[:2]`)
            or strings ("cpu:0"); None (default) uses every device of the backend.
    """

    batch_dim_name = "batch"


_UNSET = object()
_global = [None]
_local = threading.local()


def set_distribution(value):
    """Sets the global distribution (a `Distribution`, or None to turn distribution off)."""
    if value is not None and not isinstance(value, Distribution):
        raise TypeError(f"set_distribution expects a kbridge.distribution.Distribution or None, received {value!r}")
    _global[0] = value


def distribution():
    """The active distribution: the innermost `scope()`, else the global setting, else None."""
    active = getattr(_local, "distribution", _UNSET)
    return _global[0] if active is _UNSET else active
