"""`inputs @ kernel + bias` for `Dense` as one `F.linear` (an `addmm`, as `nn.Linear` runs).

Optional backend function: `Dense` calls `fused_dense(inputs, kernel, bias)` when the backend
has it and falls back to `matmul` + `add` when it returns None. One fused op instead of two
means one autograd node fewer per layer and the same kernels a hand-written `nn.Linear` uses.
"""

import torch

from kbridge.adapters.torch.backend._common import convert


def fused_dense(inputs, kernel, bias):
    """`inputs @ kernel + bias` (Keras kernel layout `(in, out)`), or None when the operands
    are not torch tensors of one floating dtype."""
    if not isinstance(inputs, torch.Tensor) or inputs.ndim < 2 or not inputs.is_floating_point():
        return None
    kernel = convert(kernel)
    bias = None if bias is None else convert(bias)
    if kernel.dtype != inputs.dtype or (bias is not None and bias.dtype != inputs.dtype):
        return None
    return torch.nn.functional.linear(inputs, kernel.t(), bias)
