"""`tf.distribute` glue: distributed variables and data-parallel `fit` under a strategy scope.

Variables created under `strategy.scope()` are the strategy's own (mirrored) variables,
since the TF backend's storage is a plain `tf.Variable` created there. When `fit` or
`evaluate` runs inside the scope of a strategy with more than one replica (e.g.
`MirroredStrategy` over 2 logical CPUs), the trainer hooks here make it data parallel:

- the model's, optimizer's and metrics' variables are re-created once in the strategy
  with the aggregation each needs when written from a replica: weights, optimizer slots
  and seeds take the first replica's value (every replica computes the same update from
  all-reduced gradients), floating non-trainable state (BatchNorm statistics) the mean
  over replicas, and metric state is kept per replica and summed when read
  (`ON_READ`/`SUM`, as Keras does); a `to_module` made before `fit` no longer shares;
- each batch is split by rows over the replicas and the step runs under `strategy.run`;
- gradients are all-reduced, each replica's weighted by its share of the batch, so a step
  equals a single-device step on the whole batch (for losses averaged over samples);
- the logs are recomputed from the summed metric states.

`predict` is not split. BatchNorm statistics are per-replica batch statistics averaged,
not statistics of the whole batch (as Keras without SyncBatchNormalization).
"""

import threading

import tensorflow as tf

from kbridge.utils import tree

__all__ = ["active_strategy", "current_share", "storage_for", "wrap_step"]

_AGGREGATIONS = {
    "none": tf.VariableAggregation.NONE,
    "sum": tf.VariableAggregation.SUM,
    "mean": tf.VariableAggregation.MEAN,
    "only_first_replica": tf.VariableAggregation.ONLY_FIRST_REPLICA,
}


class _StepState(threading.local):
    share = None  # this replica's fraction of the batch inside a data-parallel training step


_step = _StepState()


def current_share():
    """This replica's fraction of the batch inside a data-parallel `fit` step, else None."""
    return _step.share


def active_strategy():
    """The strategy whose scope is active (cross-replica context) with several replicas, else None."""
    if not tf.distribute.has_strategy() or not tf.distribute.in_cross_replica_context():
        return None
    strategy = tf.distribute.get_strategy()
    return strategy if strategy.num_replicas_in_sync > 1 else None


def _wanted(variable):
    """(synchronization, aggregation) a variable needs when written from a replica."""
    if getattr(variable, "synchronization", "auto") == "on_read":
        return tf.VariableSynchronization.ON_READ, _AGGREGATIONS.get(variable.aggregation, tf.VariableAggregation.SUM)
    aggregation = _AGGREGATIONS.get(getattr(variable, "aggregation", "none"), tf.VariableAggregation.NONE)
    if aggregation is tf.VariableAggregation.NONE:
        floating = variable.dtype.startswith(("float", "bfloat"))
        mean = not variable.trainable and floating and getattr(variable, "_kbridge_role", "model") == "model"
        aggregation = tf.VariableAggregation.MEAN if mean else tf.VariableAggregation.ONLY_FIRST_REPLICA
    return tf.VariableSynchronization.AUTO, aggregation


def _new_storage(variable, name, strategy):
    value = tf.convert_to_tensor(variable._value)
    if strategy is None:
        return tf.Variable(value, trainable=variable.trainable, name=name)
    synchronization, aggregation = _wanted(variable)
    with strategy.scope():
        storage = tf.Variable(
            value, trainable=variable.trainable, name=name, synchronization=synchronization, aggregation=aggregation
        )
        if synchronization is tf.VariableSynchronization.ON_READ and aggregation is tf.VariableAggregation.SUM:
            storage.assign(value)  # each replica starts from value / replicas: their sum reads as value
    return storage


def storage_for(variable, path, model=None):
    """A `tf.Variable` named `path` holding `variable`'s value, reusing its storage when it is one.

    Under an active strategy the storage is (re)created as the strategy's distributed
    variable. Variables adopted from a wrapped `tf.Module` (`TFModuleLayer`) keep their own
    `tf.Variable`, which that module computes with.
    """
    storage = variable._value
    if getattr(variable, "_kbridge_adopted", False):
        return storage
    strategy = tf.distribute.get_strategy() if tf.distribute.has_strategy() else None
    in_scope = strategy is None or strategy.extended.variable_created_in_scope(storage)
    same = isinstance(storage, tf.Variable) and storage.name == f"{path}:0" and storage.trainable == variable.trainable
    if same and in_scope:
        return storage
    return _new_storage(variable, path, strategy)


def _distribute_variables(model, strategy):
    """Re-creates the variables `fit` writes from replicas in `strategy`, once."""
    groups = [("model", model.variables)]
    if getattr(model, "optimizer", None) is not None:
        groups.append(("optimizer", model.optimizer.variables))
    groups.append(("metric", [v for metric in model.metrics for v in metric.variables]))
    seen = set()
    for role, variables in groups:
        for variable in variables:
            if id(variable) in seen or getattr(variable, "_kbridge_adopted", False):
                continue
            seen.add(id(variable))
            variable._kbridge_role = role
            storage = variable._value
            wanted = _wanted(variable)
            current = (getattr(storage, "synchronization", None), getattr(storage, "aggregation", None))
            if strategy.extended.variable_created_in_scope(storage) and current == wanted:
                continue
            name = getattr(storage, "name", variable.path).split(":")[0]
            variable._value = _new_storage(variable, name, strategy)


def _split(data, replicas):
    """Per-replica rows of every batch tensor, and each replica's share of the batch."""
    sizes = [int(t.shape[0]) for t in tree.flatten(data) if isinstance(t, tf.Tensor) and t.shape.rank]
    total = sizes[0] if sizes else 0
    if total < replicas:
        return [data] * replicas, [1.0 / replicas] * replicas
    bounds = [total * r // replicas for r in range(replicas + 1)]

    def rows(r):
        def take(value):
            if isinstance(value, tf.Tensor) and value.shape.rank:
                return value[bounds[r] : bounds[r + 1]]
            return value

        return tree.map_structure(take, data)

    return [rows(r) for r in range(replicas)], [(bounds[r + 1] - bounds[r]) / total for r in range(replicas)]


def wrap_step(step, kind, model):
    """Trainer hook: runs train/test steps data parallel under an active multi-replica strategy."""
    strategy = active_strategy()
    if strategy is None or kind == "predict":
        return step
    _distribute_variables(model, strategy)
    replicas = strategy.num_replicas_in_sync
    # A tf.function inside `strategy.run` cannot all-reduce: the step's Python body runs
    # in the replicas, and the whole `strategy.run` is the compiled function.
    jit_compile = getattr(step, "_jit_compile", None)
    step = getattr(step, "python_function", step)

    def replica_step(data, share):
        _step.share = share if kind == "train" else None
        try:
            return step(data)
        finally:
            _step.share = None

    @tf.function(reduce_retracing=True, jit_compile=jit_compile)
    def distributed(data, shares):
        return strategy.run(replica_step, args=(data, shares))

    def run(data):
        pieces, shares = _split(data, replicas)
        per_replica = strategy.experimental_distribute_values_from_function(
            lambda ctx: pieces[ctx.replica_id_in_sync_group]
        )
        per_share = strategy.experimental_distribute_values_from_function(
            lambda ctx: tf.constant(shares[ctx.replica_id_in_sync_group], tf.float32)
        )
        logs = distributed(per_replica, per_share)
        return _reduce_logs(model, logs, strategy)

    return run


def all_reduce_gradients(grads, share):
    """Sums `share`-weighted gradients over the replicas (inside a replica context)."""
    context = tf.distribute.get_replica_context()
    indices = [i for i, g in enumerate(grads) if g is not None]
    weighted = [tf.convert_to_tensor(grads[i]) * tf.cast(share, grads[i].dtype) for i in indices]
    reduced = context.all_reduce(tf.distribute.ReduceOp.SUM, weighted) if weighted else []
    out = list(grads)
    for index, value in zip(indices, reduced):
        out[index] = value
    return out


def _reduce_logs(model, logs, strategy):
    """The logs computed from the metric states summed over replicas (read cross-replica)."""
    reduced = {}
    for metric in model.metrics:
        result = metric.result()
        if isinstance(result, dict):
            reduced.update(result)
        else:
            reduced[metric.name] = result
    if not isinstance(logs, dict):
        return logs
    out = {}
    for key, value in logs.items():
        if key in reduced:
            out[key] = reduced[key]
        else:  # entries of a custom train_step that no metric computes: mean over replicas
            out[key] = strategy.reduce(tf.distribute.ReduceOp.MEAN, value, axis=None)
    return out
