"""Fused in-place updates of kbridge's built-in optimizers on torch.

A built-in optimizer's `_update_many` is written once in `kbridge.ops` (out of place: each
op allocates a tensor and makes a full pass). In eager torch that is ten passes per
variable where `torch.optim`'s foreach Adam makes about five, in place, over all variables
at once. `kernel_for(update_many)` returns a drop-in replacement computing the same formula
with `torch._foreach_*` ops; `Optimizer` uses it only for stateful updates (no
`StatelessScope`), so `stateless_apply` and the JAX-style pure paths are unchanged.
"""

import torch

_KERNELS = None


def kernel_for(update_many):
    """The fused kernel replacing the optimizer method `update_many`, or None."""
    global _KERNELS
    if _KERNELS is None:
        from kbridge.optimizers.adam import Adam

        _KERNELS = {Adam._update_many: adam}
    return _KERNELS.get(update_many)


def _groups(grads, variables, slots):
    """Splits the update into lists of plain tensors with one dtype and device each (foreach's rule)."""
    groups = {}
    for grad, variable, *states in zip(grads, variables, *slots):
        value = variable._value
        key = (value.dtype, value.device)
        group = groups.setdefault(key, [[], [], *[[] for _ in slots]])
        group[0].append(grad.to(value.dtype))
        group[1].append(value)
        for target, state in zip(group[2:], states):
            target.append(state._value)
    return groups


def adam(optimizer, grads, variables, learning_rate):
    """`Adam._update_many` (the kbridge/Keras formula) with foreach ops; AMSGrad falls back."""
    if optimizer.amsgrad:
        return False
    index = optimizer._trainable_variables_indices
    slots = [
        [optimizer._momentums[index[id(v)]] for v in variables],
        [optimizer._velocities[index[id(v)]] for v in variables],
    ]
    beta_1, beta_2 = float(optimizer.beta_1), float(optimizer.beta_2)
    with torch.no_grad():
        iterations = optimizer.iterations  # a Variable, or a tensor with gradient accumulation
        step = getattr(iterations, "_value", iterations) + 1
        for (dtype, _), (gs, params, ms, vs) in _groups(grads, variables, slots).items():
            t = step.to(dtype)
            rate = torch.as_tensor(learning_rate, dtype=dtype, device=params[0].device)
            # alpha = lr * sqrt(1 - beta_2^t) / (1 - beta_1^t), as `Adam._update_many`.
            alpha = rate * torch.sqrt(1 - torch.pow(beta_2, t)) / (1 - torch.pow(beta_1, t))
            torch._foreach_lerp_(ms, gs, 1 - beta_1)  # m + (g - m) * (1 - beta_1)
            torch._foreach_lerp_(vs, torch._foreach_mul(gs, gs), 1 - beta_2)
            denominators = torch._foreach_sqrt(vs)
            torch._foreach_add_(denominators, optimizer.epsilon)
            updates = torch._foreach_mul(ms, alpha)
            torch._foreach_div_(updates, denominators)
            torch._foreach_sub_(params, updates)
    return True
