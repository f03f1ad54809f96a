"""Training hooks for the JAX backend: pure steps over a stateless scope, jitted with donation."""

import jax

from kbridge.adapters.jax import distribution as distribution_lib
from kbridge.backend.stateless_scope import StatelessScope
from kbridge import distribution as kbridge_distribution
from kbridge.utils import tree

# Multi-host JAX (`jax.distributed.initialize()`): process 0 alone shows the progress bar
# and writes checkpoints.
kbridge_distribution.register_process_info(lambda: (jax.process_index(), jax.process_count()))


def value_and_grad(fn, variables, has_aux=False):
    """See `kbridge.value_and_grad`: `jax.value_and_grad` of `fn` with the variables
    swapped for the differentiated values; assignments `fn` makes (statistics,
    seeds) are replayed on the variables afterwards."""

    def run(*args, **kwargs):
        assigned = []

        def pure(values):
            with StatelessScope(zip(variables, values)) as scope:
                before = dict(scope.mapping)
                out = fn(*args, **kwargs)
            assigned[:] = [v for v, value in scope.mapping.items() if before.get(v) is not value]
            loss = out[0] if has_aux else out
            return loss, (out, [scope.mapping[v] for v in assigned])

        (_, (out, new_values)), grads = jax.value_and_grad(pure, has_aux=True)([v.value for v in variables])
        for variable, value in zip(assigned, new_values):
            variable.assign(value)
        return out, grads

    return run


def make_step(step_fn, state_variables, jit_compile=True, donate=True, kind="train"):
    """Compiles `step_fn(data)` into a pure jitted function of the state values.

    The state (model, optimizer and metric variables) goes in as arrays and comes
    back updated; its input buffers are donated so XLA updates them in place.
    The outputs travel flat, so a dict of logs keeps its key order (a pytree dict
    would come back sorted: "accuracy" before "loss").
    """
    template = []  # the outputs' structure, recorded when tracing

    def pure(values, data):
        with StatelessScope(zip(state_variables, values)) as scope:
            outputs = step_fn(data)
        template[:] = [tree.map_structure(lambda _: None, outputs)]
        return tree.flatten(outputs), [scope.get_current_value(v) for v in state_variables]

    compiled = jax.jit(pure, donate_argnums=(0,) if donate else ()) if jit_compile else pure

    def run(data):
        values = [v._value for v in state_variables]
        dist = distribution_lib.active()
        if dist is not None:  # DataParallel: the state replicated over the mesh (batch: see place_batch)
            values = distribution_lib.place_state(dist, values)
        outputs, new_values = compiled(values, data)
        for variable, value in zip(state_variables, new_values):
            variable._value = value
        return tree.pack_sequence_as(template[0], outputs)

    run.takes_numpy = jit_compile  # jax.jit converts NumPy inputs (to the canonical dtypes) itself
    return run


def place_batch(data, kind="train"):
    """Places a converted batch before the step: sharded along axis 0 under `DataParallel`."""
    dist = distribution_lib.active()
    return data if dist is None else distribution_lib.place_batch(dist, data, kind)
