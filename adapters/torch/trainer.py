"""Training hooks for the torch backend: gradients by autograd, eager steps (or torch.compile)."""

import torch

from kbridge.adapters.torch import distribution
from kbridge.adapters.torch.distribution import begin_loop, end_epoch, wrap_step  # noqa: F401  (trainer hooks)
from kbridge.utils import tree

# The dispatch state's fields: class attributes of a `threading.local`, i.e. defaults
# that enter a thread's instance `__dict__` only when first assigned.


def _detach(value):
    return value.detach() if isinstance(value, torch.Tensor) else value


def value_and_grad(fn, variables, has_aux=False):
    """See `kbridge.value_and_grad`: autograd w.r.t. the variables' current tensors."""

    def run(*args, **kwargs):
        with torch.enable_grad():
            for variable in variables:
                # A variable unfrozen after to_module().refresh() froze its Parameter.
                storage = variable.value
                if not storage.requires_grad and storage.is_leaf and storage.is_floating_point():
                    storage.requires_grad_(True)
            out = fn(*args, **kwargs)
            loss = out[0] if has_aux else out
            values = [v.value for v in variables]
            if all(t.requires_grad for t in values):
                grads = list(torch.autograd.grad(loss, values, allow_unused=True))
            else:
                wanted = [i for i, t in enumerate(values) if t.requires_grad]
                found = torch.autograd.grad(loss, [values[i] for i in wanted], allow_unused=True) if wanted else ()
                grads = [None] * len(values)
                for index, grad in zip(wanted, found):
                    grads[index] = grad
        share = distribution.current_share()
        if share is not None:  # inside a multi-process fit step: average over the processes
            grads = distribution.all_reduce_gradients(grads, share)
        if has_aux and type(out) is tuple and len(out) == 2 and type(out[0]) is torch.Tensor:
            return (out[0].detach(), tree.map_structure(_detach, out[1])), grads
        return tree.map_structure(_detach, out), grads

    return run


def make_step(step_fn, state_variables, jit_compile=False, donate=False, kind="train"):
    """Returns `step_fn` itself (torch variables update in place), compiled if `jit_compile`.

    Evaluation and prediction steps run under `torch.no_grad()`: no graph is recorded.
    """
    step = torch.compile(step_fn) if jit_compile else step_fn
    if kind == "train":
        return step

    def no_grad_step(data):
        with torch.no_grad():
            return step(data)

    return no_grad_step
