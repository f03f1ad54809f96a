"""Fused in-place updates of kbridge's built-in optimizers on torch.

A built-in optimizer's `_update_many` is written once in `kbridge.ops` (out of place: each
op allocates a tensor and makes a full pass). In eager torch that is ten passes per
variable where `torch.optim`'s foreach Adam makes about five, in place, over all variables
at once. `kernel_for(update_many)` returns a drop-in replacement computing the same formula
with `torch._foreach_*` ops; `Optimizer` uses it only for stateful updates (no
`StatelessScope`), so `stateless_apply` and the JAX-style pure paths are unchanged. Tensors of
`_LARGE` entries or more are updated one at a time into work buffers kept on the optimizer
(same ops, same bits) on the CPU, where a new tensor per step would cost fresh pages.
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
        group = groups.get(key)
        if group is None:
            group = groups[key] = [[], [], *[[] for _ in slots]]
        group[0].append(grad if grad.dtype is value.dtype else grad.to(value.dtype))
        group[1].append(value)
        for target, state in zip(group[2:], states):
            target.append(state._value)
    return groups


# Tensors of at least this many entries get their per-step work tensors from `_scratch`.
_LARGE = 1 << 20


def _scratch(optimizer, key, params):
    """Two lists of work tensors shaped like `params`, kept on the optimizer between steps.

    Each step overwrites them before reading them, so any buffers of the right shapes serve:
    they are made again only when the shapes change. Why kept: a new tensor this large costs
    fresh pages at every step (a 10 MB embedding table's `g * g`: ~2.5 ms, the same
    multiplication into a kept buffer ~0.4 ms); smaller ones are reused by the allocator.
    """
    shapes = tuple(p.shape for p in params)
    store = optimizer.__dict__.setdefault("_torch_scratch", {})
    found = store.get(key)
    if found is None or found[0] != shapes:
        found = store[key] = (shapes, [torch.empty_like(p) for p in params], [torch.empty_like(p) for p in params])
    return found[1], found[2]


def _update_large(optimizer, key, gs, params, ms, vs, alpha, beta_2):
    """The rest of the update for large tensors, one tensor at a time into kept buffers."""
    squares, denominators = _scratch(optimizer, key, params)
    for g, p, m, v, u, d in zip(gs, params, ms, vs, squares, denominators):
        v.lerp_(torch.mul(g, g, out=u), 1 - beta_2)
        torch.sqrt(v, out=d).add_(optimizer.epsilon)
        p.addcdiv_(torch.mul(m, alpha, out=u), d, value=-1)


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
            # CPU only: CUDA's caching allocator makes new tensors cheap, and kept buffers would hold
            # device memory between steps. No state kept on the optimizer under torch.compile.
            if params[0].device.type == "cpu" and not torch.compiler.is_compiling():
                large = [i for i, p in enumerate(params) if p.numel() >= _LARGE]
                if large:
                    parts = [[group[i] for i in large] for group in (gs, params, ms, vs)]
                    _update_large(optimizer, (dtype, params[0].device), *parts, alpha, beta_2)
                    if len(large) == len(params):
                        continue
                    small = sorted(set(range(len(params))) - set(large))
                    gs, params, ms, vs = ([group[i] for i in small] for group in (gs, params, ms, vs))
            torch._foreach_lerp_(vs, torch._foreach_mul(gs, gs), 1 - beta_2)
            denominators = torch._foreach_sqrt(vs)
            torch._foreach_add_(denominators, optimizer.epsilon)
            updates = torch._foreach_mul(ms, alpha)
            # p - 1 * (u / d): the same rounding as `p - u / d`, in one pass.
            torch._foreach_addcdiv_(params, updates, denominators, -1)
    return True
