"""`inputs @ kernel + bias` for `Dense` as one `F.linear` (an `addmm`, as `nn.Linear` runs).

Optional backend function: `Dense` calls `fused_dense(inputs, kernel, bias)` when the backend
has it and falls back to `matmul` + `add` when it returns None. One fused op instead of two
means one autograd node fewer per layer and the same kernels a hand-written `nn.Linear` uses.
"""

import torch

from kbridge.adapters.torch.backend._common import convert


def _narrow_on_cpu(kernel):
    """Whether a transposed copy of `kernel` makes the CPU GEMMs faster.

    Keras keeps kernels as (in, out), `nn.Linear` as (out, in), so the BLAS calls see the
    other operand transposed. For a narrow output (2-16 units) from a wide input, the CPU
    GEMMs in the Keras layout measured 2-3x slower (forward and both gradients of 512 -> 10:
    ~190 vs ~70 us at batch 128), while the copy of so small a kernel costs ~1 us.
    """
    rows, units = kernel.shape
    return 2 <= units <= 16 and rows >= 256 and kernel.device.type == "cpu"


def fused_dense(inputs, kernel, bias):
    """`inputs @ kernel + bias` (Keras kernel layout `(in, out)`), or None when the operands
    are not torch tensors of one floating dtype."""
    if not isinstance(inputs, torch.Tensor) or inputs.ndim < 2 or not inputs.is_floating_point():
        return None
    kernel = convert(kernel)
    bias = None if bias is None else convert(bias)
    if kernel.dtype != inputs.dtype or (bias is not None and bias.dtype != inputs.dtype):
        return None
    weight = kernel.t()
    if _narrow_on_cpu(kernel):
        weight = weight.contiguous()
    return torch.nn.functional.linear(inputs, weight, bias)
