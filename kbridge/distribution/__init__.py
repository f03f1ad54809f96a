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

Multi-process training (one process per device, as `torchrun` launches it) is detected by
the adapters, which register how to read the process's index (`process_index()`,
`num_processes()`). Under an initialised torch process group with more than one process,
`fit`/`evaluate` on the torch backend split every batch over the processes, average the
gradients, sum the metric states across processes and show the progress bar and write
checkpoints on process 0 only (`kbridge/adapters/torch/distribution.py`).
"""

import contextlib
import threading

__all__ = [
    "DataParallel",
    "Distribution",
    "distribution",
    "num_processes",
    "process_index",
    "register_process_info",
    "set_distribution",
]


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


_process_info_providers = []


def register_process_info(provider):
    """Registers `provider() -> (index, count) or None`, called by `process_index()`.

    Adapters register one for their framework's multi-process runtime (a torch process
    group, `jax.distributed`); the first provider that reports more than one process wins.
    """
    if provider not in _process_info_providers:
        _process_info_providers.append(provider)


def _process_info():
    for provider in _process_info_providers:
        info = provider()
        if info is not None and info[1] > 1:
            return info
    return 0, 1


def process_index():
    """The index of this process among the training processes (0 when there is one)."""
    return _process_info()[0]


def num_processes():
    """How many processes train together (1 outside multi-process training)."""
    return _process_info()[1]
