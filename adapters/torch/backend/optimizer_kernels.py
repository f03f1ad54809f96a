"""Fused in-place updates of kbridge's built-in optimizers on torch.

A built-in optimizer's `_update_many` is written once in `kbridge.ops` (out of place: each
op allocates a tensor and makes a full pass). In eager torch that is ten passes per
variable where `torch.optim`'s foreach Adam makes about six, in place, over all variables
at once. `kernel_for(update_many)` returns a drop-in replacement computing the same formula
with `torch._foreach_*` ops; `Optimizer` uses it only for stateful updates (no
`StatelessScope`), so `stateless_apply` and the JAX-style pure paths are unchanged.

On the CPU (eager) the step size is read as a Python number (no device sync there) and scales
the update inside `addcdiv_`: one pass and one allocation fewer than multiplying the momentum
first; the result differs from the neutral formula only in rounding. Tensors of
`_LARGE` entries or more are updated one at a time into work buffers kept on the optimizer
(same ops, same bits as the foreach path).
"""

import numpy as np
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


# Tensors of at least this many entries (256 KB of float32) get their per-step work tensors
# from `_scratch`: above glibc's mmap threshold a fresh tensor can mean fresh pages at every
# step, which made the MLP's 784x512 kernel update ~3x slower inside `fit`.
_LARGE = 1 << 16


def _scratch(optimizer, key, params):
    """Two lists of work tensors shaped like `params`, kept on the optimizer between steps.

    Each step overwrites them before reading them, so any buffers of the right shapes serve:
    they are made again only when the shapes change.
    """
    shapes = tuple(p.shape for p in params)
    store = optimizer.__dict__.setdefault("_torch_scratch", {})
    found = store.get(key)
    if found is None or found[0] != shapes:
        found = store[key] = (shapes, [torch.empty_like(p) for p in params], [torch.empty_like(p) for p in params])
    return found[1], found[2]


def _split(gs, params, ms, vs):
    """`(large, small)`: the four lists cut at `_LARGE` entries (None where a part is empty)."""
    large = [i for i, p in enumerate(params) if p.numel() >= _LARGE]
    if not large:
        return None, (gs, params, ms, vs)
    if len(large) == len(params):
        return (gs, params, ms, vs), None
    small = [i for i, p in enumerate(params) if p.numel() < _LARGE]
    groups = (gs, params, ms, vs)
    return tuple([g[i] for i in large] for g in groups), tuple([g[i] for i in small] for g in groups)


def _cpu_update(optimizer, key, parts, alpha, beta_1, beta_2):
    """Eager CPU update with a Python-float step size `alpha` (foreach for small tensors)."""
    epsilon = optimizer.epsilon
    large, small = _split(*parts)
    if large is not None:
        squares, denominators = _scratch(optimizer, key, large[1])
        for g, p, m, v, u, d in zip(*large, squares, denominators):
            m.lerp_(g, 1 - beta_1)
            v.lerp_(torch.mul(g, g, out=u), 1 - beta_2)
            torch.sqrt(v, out=d).add_(epsilon)
            p.addcdiv_(m, d, value=-alpha)
    if small is not None:
        gs, params, ms, vs = small
        torch._foreach_lerp_(ms, gs, 1 - beta_1)
        torch._foreach_lerp_(vs, torch._foreach_mul(gs, gs), 1 - beta_2)
        denominators = torch._foreach_sqrt(vs)
        torch._foreach_add_(denominators, epsilon)
        torch._foreach_addcdiv_(params, ms, denominators, -alpha)


def _step_size(step, learning_rate, dtype, device, beta_1, beta_2):
    """`lr * sqrt(1 - beta_2^t) / (1 - beta_1^t)` in `dtype`, computed as `Adam._update_many` does.

    In the variables' dtype, not in Python floats: Keras rounds the betas to float32 first, and
    for small `t` that rounding moves `1 - beta_2^t` by ~1e-5 relative.
    """
    t = step.to(dtype)
    rate = torch.as_tensor(learning_rate, dtype=dtype, device=device)
    return rate * torch.sqrt(1 - torch.pow(beta_2, t)) / (1 - torch.pow(beta_1, t))


_NUMPY_FLOATS = {torch.float32: np.float32, torch.float64: np.float64}


def _host_step_size(step, learning_rate, dtype, beta_1, beta_2):
    """`_step_size` as a Python float, for CPU tensors of float32/float64 (else None).

    The two powers come from one torch op (the same `pow` as `_step_size`, so the same bits);
    subtract, sqrt, multiply and divide run in the same dtype on NumPy scalars, at a fraction of
    eight tiny torch ops' cost. The value may differ from `_step_size`'s in the last bit or two
    (NumPy's sqrt is correctly rounded, torch's float32 sqrt on the CPU is not always).
    """
    kind = _NUMPY_FLOATS.get(dtype)
    if kind is None:
        return None
    betas = torch.tensor((beta_1, beta_2), dtype=dtype)
    power_1, power_2 = (kind(p) for p in torch.pow(betas, step).tolist())
    one = kind(1)
    rate = kind(float(learning_rate))
    return float(rate * np.sqrt(one - power_2) / (one - power_1))


def _device_update(optimizer, alpha, parts, beta_1, beta_2):
    """Update with the step size kept as a tensor: no host read (accelerators, torch.compile)."""
    gs, params, ms, vs = parts
    torch._foreach_lerp_(ms, gs, 1 - beta_1)  # m + (g - m) * (1 - beta_1)
    torch._foreach_lerp_(vs, torch._foreach_mul(gs, gs), 1 - beta_2)
    denominators = torch._foreach_sqrt(vs)
    torch._foreach_add_(denominators, optimizer.epsilon)
    updates = torch._foreach_mul(ms, alpha)
    # p - 1 * (u / d): the same rounding as `p - u / d`, in one pass.
    torch._foreach_addcdiv_(params, updates, denominators, -1)


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
        eager = not torch.compiler.is_compiling()
        for (dtype, device), parts in _groups(grads, variables, slots).items():
            if eager and device.type == "cpu" and step.device.type == "cpu":
                alpha = _host_step_size(step, learning_rate, dtype, beta_1, beta_2)
                if alpha is None:
                    alpha = _step_size(step, learning_rate, dtype, device, beta_1, beta_2).item()
                _cpu_update(optimizer, (dtype, device), parts, alpha, beta_1, beta_2)
            else:
                _device_update(optimizer, _step_size(step, learning_rate, dtype, device, beta_1, beta_2), parts,
                               beta_1, beta_2)  # fmt: skip
    return True
