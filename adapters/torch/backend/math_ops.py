"""Math ops of the torch backend (Keras 3 `keras.ops.math`, plus `norm`)."""

# ruff: noqa: A001, A002
import torch

from kbridge.adapters.torch.backend._common import INTLIKE, Tensor, convert, floatx
from kbridge.adapters.torch.backend.numpy_math import _float_unary

__all__ = [
    "logsumexp", "top_k", "in_top_k", "segment_sum", "segment_max", "erf", "erfinv", "rsqrt",
    "extract_sequences", "norm",
]  # fmt: skip

erf = _float_unary(torch.erf, "erf", "Element-wise error function.")
erfinv = _float_unary(torch.erfinv, "erfinv", "Element-wise inverse error function.")
rsqrt = _float_unary(torch.rsqrt, "rsqrt", "Element-wise `1 / sqrt(x)`.")


def logsumexp(x, axis=None, keepdims=False):
    """`log(sum(exp(x)))` along `axis`, computed stably."""
    if not isinstance(x, Tensor):
        x = convert(x)
    if x.dtype in INTLIKE:
        x = x.to(floatx())
    if axis is None:
        axis = tuple(range(x.ndim))
    elif not isinstance(axis, int):
        axis = tuple(axis)
    return torch.logsumexp(x, dim=axis, keepdim=keepdims)


def top_k(x, k, sorted=True):
    """The `k` largest values along the last axis and their indices (int32)."""
    if not isinstance(x, Tensor):
        x = convert(x)
    values, indices = torch.topk(x, k, dim=-1, largest=True, sorted=sorted)
    return values, indices.to(torch.int32)


def in_top_k(targets, predictions, k):
    """Whether each target's prediction is among the `k` largest (ties count as in; NaN never is)."""
    predictions = predictions if isinstance(predictions, Tensor) else convert(predictions)
    targets = targets if isinstance(targets, Tensor) else convert(targets, device=predictions.device)
    at_target = torch.gather(predictions, -1, targets.long().unsqueeze(-1))
    at_target = torch.where(torch.isnan(at_target), torch.full_like(at_target, float("-inf")), at_target)
    rank = 1 + torch.sum(predictions > at_target, dim=-1)
    return rank <= k


def _segments(data, segment_ids, num_segments):
    data = data if isinstance(data, Tensor) else convert(data)
    ids = segment_ids if isinstance(segment_ids, Tensor) else convert(segment_ids, device=data.device)
    if num_segments is None:
        num_segments = int(ids.max()) + 1 if ids.numel() else 0
    ids = ids.long()
    # Out-of-range ids (e.g. -1) go to an extra bucket that is dropped at the end.
    ids = torch.where((ids >= 0) & (ids < num_segments), ids, num_segments)
    return data, ids, num_segments


def segment_sum(data, segment_ids, num_segments=None, sorted=False):
    """Sums of `data` rows per segment id (ids outside [0, num_segments) are dropped)."""
    data, ids, num = _segments(data, segment_ids, num_segments)
    out = torch.zeros((num + 1,) + tuple(data.shape[1:]), dtype=data.dtype, device=data.device)
    return out.index_add(0, ids, data)[:num]


def segment_max(data, segment_ids, num_segments=None, sorted=False):
    """Maxima of `data` rows per segment id (empty segments give -inf, or the dtype's minimum for ints)."""
    data, ids, num = _segments(data, segment_ids, num_segments)
    lowest = float("-inf") if data.is_floating_point() else torch.iinfo(data.dtype).min
    out = torch.full((num + 1,) + tuple(data.shape[1:]), lowest, dtype=data.dtype, device=data.device)
    index = ids.reshape((-1,) + (1,) * (data.ndim - 1)).expand_as(data)
    return out.scatter_reduce(0, index, data, reduce="amax", include_self=True)[:num]


def extract_sequences(x, sequence_length, sequence_stride):
    """Frames of the last axis: shape (..., num_frames, sequence_length)."""
    if not isinstance(x, Tensor):
        x = convert(x)
    return x.unfold(-1, sequence_length, sequence_stride)


def norm(x, ord=None, axis=None, keepdims=False):
    """Vector or matrix norm (as `numpy.linalg.norm`; ints give floatx)."""
    if not isinstance(x, Tensor):
        x = convert(x)
    if x.dtype in INTLIKE:
        x = x.to(floatx())
    if axis is None:
        if ord is None:
            out = torch.linalg.vector_norm(x)
            return out.reshape((1,) * x.ndim) if keepdims else out
        if x.ndim not in (1, 2):
            raise ValueError(f"norm: with `ord` given and `axis=None`, `x` must be 1-D or 2-D, received {x.ndim}-D")
        axis = tuple(range(x.ndim))
    if isinstance(axis, int):
        axis = (axis,)
    axis = tuple(axis)
    if len(axis) == 1:
        if isinstance(ord, str):
            raise ValueError(f"norm: invalid `ord` {ord!r} for a vector norm")
        return torch.linalg.vector_norm(x, ord=2 if ord is None else ord, dim=axis, keepdim=keepdims)
    if len(axis) != 2:
        raise ValueError(f"norm: `axis` must have 1 or 2 entries, received {axis!r}")
    if ord == 0 or (
        not isinstance(ord, str) and ord is not None and ord not in (1, -1, 2, -2, float("inf"), float("-inf"))
    ):
        raise ValueError(f"norm: invalid `ord` {ord!r} for a matrix norm")
    return torch.linalg.matrix_norm(x, ord="fro" if ord is None else ord, dim=axis, keepdim=keepdims)
