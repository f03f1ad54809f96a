"""`LayerNormalization` over trailing axes as one `F.layer_norm` (as `nn.LayerNorm` runs).

Optional backend function: the layer calls `fused_layer_norm(x, axes, gamma, beta, epsilon)`
when the backend has it and falls back to its `ops.moments` formula when it returns None. The
fused kernel reads the input twice instead of six times and has its own backward.
"""

import torch

from kbridge.adapters.torch.backend._common import convert


def fused_layer_norm(x, axes, gamma, beta, epsilon):
    """Normalizes `x` over `axes` (scaled by `gamma`, shifted by `beta`; either may be None),
    or returns None unless `axes` are the last dims of a floating torch tensor."""
    if not isinstance(x, torch.Tensor) or not x.is_floating_point():
        return None
    rank = x.ndim
    normalized = sorted(a % rank for a in axes)
    if normalized != list(range(rank - len(normalized), rank)):
        return None
    gamma = None if gamma is None else convert(gamma)
    beta = None if beta is None else convert(beta)
    if any(p is not None and p.dtype != x.dtype for p in (gamma, beta)):
        return None
    return torch.nn.functional.layer_norm(x, x.shape[rank - len(normalized) :], gamma, beta, epsilon)
