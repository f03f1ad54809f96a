"""JAX side of `kbridge.distribution`: meshes and shardings for `DataParallel`.

Under an active `DataParallel`, the batch is sharded along axis 0 over a 1-D
`jax.sharding.Mesh` with axis "batch" (`NamedSharding(mesh, P("batch"))`) and the
state is replicated (`NamedSharding(mesh, P())`); jit's sharding propagation then
inserts the gradient all-reduce.

Several processes (multi-host, after `jax.distributed.initialize(...)` in every process):
the mesh spans every process's devices, each process feeds `fit`/`evaluate` its own rows
(`batch_size` is then the per-process batch), and the global batch is their concatenation in
process order (`jax.make_array_from_process_local_data`). Metrics are global. `predict` under
the distribution is refused there (each process can predict its own data outside the scope).
"""

import functools

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P

from kbridge import distribution as distribution_lib


def active():
    """The active distribution if the JAX adapter handles it (a `DataParallel`), else None."""
    dist = distribution_lib.distribution()
    if isinstance(dist, distribution_lib.DataParallel):
        return dist
    if dist is not None:
        raise NotImplementedError(f"The jax backend does not support the distribution {dist!r}.")
    return None


def _resolve_device(device):
    if isinstance(device, str):
        kind, _, index = device.partition(":")
        return jax.devices(kind or None)[int(index or 0)]
    return device


@functools.lru_cache(maxsize=16)
def _mesh_for(devices):
    return Mesh(np.array(devices, dtype=object), (distribution_lib.DataParallel.batch_dim_name,))


def mesh(dist):
    """The 1-D "batch" mesh over the distribution's devices (all devices when None)."""
    devices = jax.devices() if dist.devices is None else [_resolve_device(d) for d in dist.devices]
    return _mesh_for(tuple(devices))


def batch_sharding(dist):
    return NamedSharding(mesh(dist), P(distribution_lib.DataParallel.batch_dim_name))


def replicated_sharding(dist):
    return NamedSharding(mesh(dist), P())


def place_batch(dist, batch, kind="train"):
    """Shards every array of `batch` along axis 0 over the mesh.

    A training batch whose size does not divide evenly over the devices raises a
    `ValueError`; for evaluation and prediction such a batch (typically the last,
    partial one) is replicated instead, which gives the same results.
    """
    sharded, replicated = batch_sharding(dist), replicated_sharding(dist)
    count = mesh(dist).size
    if jax.process_count() > 1:
        return _place_process_local(batch, sharded, kind)

    def place(value):
        if not isinstance(value, (jax.Array, np.ndarray)):
            return value
        if value.ndim == 0:
            return jax.device_put(value, replicated)
        size = value.shape[0]
        if size % count:
            if kind == "train":
                raise ValueError(
                    f"DataParallel shards each batch over {count} devices, but got a batch of {size} samples, "
                    f"which does not divide by {count}. Use a batch_size (and a number of samples) that is a "
                    f"multiple of {count}, or pass a distribution with fewer devices."
                )
            return jax.device_put(value, replicated)
        return jax.device_put(value, sharded)

    return jax.tree_util.tree_map(place, batch)


def _place_process_local(batch, sharded, kind):
    """Multi-host: each process feeds its own rows; the global batch is their concatenation."""
    if kind == "predict":
        raise NotImplementedError(
            "predict under DataParallel with several JAX processes is not supported: leave the "
            "distribution scope (each process then predicts its own data on its local devices)."
        )
    local = jax.local_device_count()

    def place(value):
        if not isinstance(value, (jax.Array, np.ndarray)) or value.ndim == 0:
            return value
        if value.shape[0] % local:
            raise ValueError(
                f"DataParallel over {jax.process_count()} processes: each process's batch must split evenly over "
                f"its {local} local devices, but this process got {value.shape[0]} samples."
            )
        return jax.make_array_from_process_local_data(sharded, np.asarray(value))

    return jax.tree_util.tree_map(place, batch)


def place_state(dist, values):
    """Replicates the state values over the mesh (a no-op when they already are)."""
    replicated = replicated_sharding(dist)
    return [v if getattr(v, "sharding", None) == replicated else jax.device_put(v, replicated) for v in values]
