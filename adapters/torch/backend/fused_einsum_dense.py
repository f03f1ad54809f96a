"""`EinsumDense` projections as one `F.linear` (an `addmm`, bias folded in) when the equation allows.

Optional backend function: `EinsumDense` calls `fused_einsum_dense(equation, inputs, kernel, bias)`
when the backend has it and runs `einsum` + `add` when it returns None. It applies to the plain
projections `MultiHeadAttention` builds: the input's trailing axes are contracted with the kernel's
leading ones and the kernel's remaining axes are appended, e.g. "abc,cde->abde" (last axis ->
(heads, dim)) or "abcd,cde->abe" ((heads, dim) -> last axis), with a bias over all produced axes.
"""

import math

import torch

from kbridge.adapters.torch.backend._common import convert

# equation -> number of contracted axes, or None when the equation is not a plain projection.
_PLANS = {}


def _plan(equation):
    """Number of contracted axes if `equation` is "F B, B O -> F O" (each letter once), else None."""
    if equation in _PLANS:
        return _PLANS[equation]
    plan = None
    if isinstance(equation, str) and "..." not in equation and equation.count(",") == 1 and "->" in equation:
        lhs, out = equation.split("->")
        inputs, weights = lhs.split(",")
        specs = (inputs, weights, out)
        if all(s.isalpha() and len(set(s)) == len(s) for s in specs):
            bound = "".join(c for c in inputs if c in weights and c not in out)
            free = inputs[: len(inputs) - len(bound)]
            produced = weights[len(bound) :]
            if bound and inputs == free + bound and weights == bound + produced and out == free + produced:
                plan = len(bound)
    _PLANS[equation] = plan
    return plan


def fused_einsum_dense(equation, inputs, kernel, bias):
    """`einsum(equation, inputs, kernel) + bias` as reshapes around one `F.linear`, or None.

    None when the equation is not a plain projection, the bias does not cover exactly the
    produced axes, or the operands are not torch tensors of one floating dtype.
    """
    bound = _plan(equation)
    if bound is None or not isinstance(inputs, torch.Tensor) or not inputs.is_floating_point():
        return None
    kernel = convert(kernel)
    if kernel.dtype != inputs.dtype or inputs.ndim <= bound or kernel.ndim <= bound:
        return None
    produced = tuple(kernel.shape[bound:])
    if bias is not None:
        bias = convert(bias)
        if bias.dtype != inputs.dtype or tuple(bias.shape) != produced:
            return None
        bias = bias.reshape(-1)
    if tuple(inputs.shape[inputs.ndim - bound :]) != tuple(kernel.shape[:bound]):
        return None
    free = tuple(inputs.shape[: inputs.ndim - bound])
    contracted = math.prod(kernel.shape[:bound])
    flat_inputs = inputs if bound == 1 else inputs.reshape(free + (contracted,))
    flat_kernel = kernel if len(produced) == 1 and bound == 1 else kernel.reshape(contracted, -1)
    out = torch.nn.functional.linear(flat_inputs, flat_kernel.t(), bias)
    return out if len(produced) == 1 else out.reshape(free + produced)
