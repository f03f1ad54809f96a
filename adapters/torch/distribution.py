"""torch side of multi-process `fit`: data parallelism under an initialised process group.

When `fit`/`evaluate` run on the torch backend inside an initialised
`torch.distributed` process group of more than one process (as `torchrun` starts
them), and no other `kbridge.distribution` is active:

- every process starts from process 0's variables and numpy RNG state, so all of them
  shuffle the data alike and hold the same weights;
- each global batch is split by rows over the processes (`batch_size` stays the global
  batch size, as with JAX's `DataParallel`); a loader that already shards per process
  (a `DistributedSampler`) is left alone;
- gradients are all-reduced, each process's weighted by its share of the batch, so a
  step equals a single-process step on the whole batch (for losses averaged over samples);
- metric states are summed over the processes before their results are read, so every
  process logs the global loss and metrics;
- at each epoch end the floating non-trainable variables (BatchNorm statistics) are averaged.

`predict` is not split: every process predicts all of its input.
"""

import threading

import numpy as np
import torch
import torch.distributed as dist

from kbridge import distribution as distribution_lib
from kbridge.utils import tree


def _process_info():
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return None


distribution_lib.register_process_info(_process_info)


def active():
    """Whether `fit` should run data parallel over the processes of the process group."""
    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() < 2:
        return False
    chosen = distribution_lib.distribution()
    return chosen is None or isinstance(chosen, distribution_lib.DataParallel)


class _StepState(threading.local):
    share = None  # this process's fraction of the current global training batch


_step = _StepState()


def current_share():
    """This process's fraction of the batch inside a data-parallel training step, else None."""
    return _step.share


def begin_loop(model):
    """All processes take process 0's numpy RNG state, so they shuffle the data alike."""
    if not active():
        return
    holder = [np.random.get_state() if dist.get_rank() == 0 else None]
    dist.broadcast_object_list(holder, src=0)
    np.random.set_state(holder[0])


def wrap_step(step, kind, model):
    """Wraps a compiled train/test step: split the batch, run, reduce the logs."""
    if kind == "predict" or not active():
        return step
    rank, world = dist.get_rank(), dist.get_world_size()
    if kind == "train":
        variables = list(model.variables)
        if getattr(model, "optimizer", None) is not None:
            variables += list(model.optimizer.variables)
        broadcast_from_zero(variables)

    def run(data):
        local, share = _split(data, rank, world, getattr(model, "_rank_local_data", False))
        if kind == "train":
            _step.share = share
        try:
            logs = step(local)
        finally:
            _step.share = None
        return reduce_logs(model, logs, world)

    return run


def end_epoch(model):
    """Averages floating non-trainable variables (BatchNorm statistics) over the processes."""
    if not active():
        return
    values = [v.value for v in model.non_trainable_variables if v.value.is_floating_point()]
    if values:
        flat = _flatten(values, torch.float64)
        dist.all_reduce(flat)
        flat /= dist.get_world_size()
        with torch.no_grad():
            for value, reduced in zip(values, _unflatten(flat, values)):
                value.copy_(reduced)


def _split(data, rank, world, rank_local):
    """This process's rows of every batch array, and its share of the batch."""
    sizes = [t.shape[0] for t in tree.flatten(data) if isinstance(t, torch.Tensor) and t.ndim > 0]
    if rank_local or not sizes or sizes[0] < world:
        # Already split by the loader, or too small to split: every process counts equally.
        return data, 1.0 / world
    total = sizes[0]
    start, stop = total * rank // world, total * (rank + 1) // world

    def rows(value):
        return value[start:stop] if isinstance(value, torch.Tensor) and value.ndim > 0 else value

    return tree.map_structure(rows, data), (stop - start) / total


@torch.compiler.disable
def all_reduce_gradients(grads, share):
    """Sums `share`-weighted gradients over the processes (one collective per dtype)."""
    grads = list(grads)
    by_dtype = {}
    for index, grad in enumerate(grads):
        if grad is not None:
            by_dtype.setdefault(grad.dtype, []).append(index)
    for indices in by_dtype.values():
        flat = _flatten([grads[i] for i in indices], None) * share
        dist.all_reduce(flat)
        for index, reduced in zip(indices, _unflatten(flat, [grads[i] for i in indices])):
            grads[index] = reduced
    return grads


@torch.compiler.disable
def broadcast_from_zero(variables):
    """Copies process 0's values of `variables` into every process's."""
    values = [v.value for v in variables]
    if not values:
        return
    flat = _flatten(values, torch.float64)
    dist.broadcast(flat, src=0)
    with torch.no_grad():
        for value, received in zip(values, _unflatten(flat, values)):
            value.copy_(received)


@torch.compiler.disable
def reduce_logs(model, logs, world):
    """The logs computed from metric states summed over all processes."""
    metrics = list(model.metrics)
    states = [[v.value for v in metric.variables] for metric in metrics]
    values = [value for state in states for value in state]
    reduced = {}
    if values:
        flat = _flatten(values, torch.float64)
        dist.all_reduce(flat)
        pieces = iter(_unflatten(flat, values))
        for metric, state in zip(metrics, states):
            result = metric.stateless_result([next(pieces) for _ in state])
            if isinstance(result, dict):
                reduced.update(result)
            else:
                reduced[metric.name] = result
    if not isinstance(logs, dict):
        return logs
    # Entries a custom train_step returns that no metric computes: averaged over processes.
    extra = [k for k, v in logs.items() if k not in reduced and isinstance(v, torch.Tensor) and v.numel() == 1]
    if extra:
        flat = torch.stack([logs[k].detach().reshape(()).to(torch.float64) for k in extra])
        dist.all_reduce(flat)
        reduced.update({k: flat[i] / world for i, k in enumerate(extra)})
    return {k: reduced.get(k, v) for k, v in logs.items()}


def _flatten(values, dtype):
    device = values[0].device
    return torch.cat([v.detach().reshape(-1).to(device=device, dtype=dtype or v.dtype) for v in values])


def _unflatten(flat, like):
    out, offset = [], 0
    for value in like:
        size = value.numel()
        out.append(flat[offset : offset + size].reshape(value.shape).to(value.dtype))
        offset += size
    return out
