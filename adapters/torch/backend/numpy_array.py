"""Creation, shape, indexing and linear-algebra ops of the torch backend (Keras 3 `keras.ops.numpy`)."""

# ruff: noqa: A001, A002
import builtins

import numpy as np
import torch

from kbridge.adapters.torch.backend._common import (
    DTYPE_NAMES,
    INTLIKE,
    Tensor,
    axes_tuple,
    convert,
    default_device,
    floatx,
    pair_tensors,
    tensors,
    to_torch_dtype,
)
from kbridge.backend.dtypes import result_type

__all__ = [
    "arange", "array", "empty", "eye", "full", "full_like", "identity", "linspace", "meshgrid",
    "ones", "ones_like", "tri", "zeros", "zeros_like", "copy",
    "append", "broadcast_to", "concatenate", "diag", "diagonal", "diff", "digitize", "expand_dims",
    "flip", "hstack", "moveaxis", "pad", "ravel", "repeat", "reshape", "roll", "split", "squeeze",
    "stack", "swapaxes", "take", "take_along_axis", "tile", "transpose", "tril", "triu", "vstack",
    "matmul", "dot", "einsum", "outer", "tensordot", "vdot", "cross", "trace",
    "ndim", "size", "real", "imag", "conj", "conjugate",
]  # fmt: skip


def _dtype_or_floatx(dtype):
    return floatx() if dtype is None else to_torch_dtype(dtype)


def _shape(shape):
    if isinstance(shape, int):
        return (shape,)
    return tuple(int(s) if isinstance(s, (Tensor, np.integer)) else s for s in shape)


def _t(x):
    return x if isinstance(x, Tensor) else convert(x)


# -- creation -----------------------------------------------------------------------------


def _scalar_value(value):
    if isinstance(value, Tensor):
        return value.item()
    if isinstance(value, np.generic):
        return value.item()
    return value


def arange(start, stop=None, step=1, dtype=None):
    """Evenly spaced values in [start, stop) (int arguments give int32, floats give floatx)."""
    if dtype is None:
        if type(start) is int and type(step) is int and (stop is None or type(stop) is int):
            dtype = torch.int32
        else:
            kinds = [getattr(v, "dtype", type(v)) for v in (start, stop, step) if v is not None]
            dtype = to_torch_dtype(result_type(*[DTYPE_NAMES.get(k, k) for k in kinds]))
    else:
        dtype = to_torch_dtype(dtype)
    start, step = _scalar_value(start), _scalar_value(step)
    if stop is None:
        return torch.arange(0, start, step, dtype=dtype, device=default_device())
    return torch.arange(start, _scalar_value(stop), step, dtype=dtype, device=default_device())


def array(x, dtype=None):
    """Creates a tensor from `x`."""
    return convert(x, None if dtype is None else to_torch_dtype(dtype))


def zeros(shape, dtype=None):
    """Tensor of zeros (floatx by default)."""
    return torch.zeros(_shape(shape), dtype=_dtype_or_floatx(dtype), device=default_device())


def ones(shape, dtype=None):
    """Tensor of ones (floatx by default)."""
    return torch.ones(_shape(shape), dtype=_dtype_or_floatx(dtype), device=default_device())


def empty(shape, dtype=None):
    """Tensor of `shape` (filled with zeros, for determinism)."""
    return torch.zeros(_shape(shape), dtype=_dtype_or_floatx(dtype), device=default_device())


def full(shape, fill_value, dtype=None):
    """Tensor of `shape` filled with `fill_value` (floatx by default)."""
    dtype = _dtype_or_floatx(dtype)
    if isinstance(fill_value, Tensor):
        return fill_value.to(dtype).expand(_shape(shape)).clone()
    if not isinstance(fill_value, (int, float, bool, complex)):
        return convert(fill_value, dtype).expand(_shape(shape)).clone()
    return torch.full(_shape(shape), fill_value, dtype=dtype, device=default_device())


def zeros_like(x, dtype=None):
    """Zeros with the shape (and dtype unless given) of `x`."""
    return torch.zeros_like(_t(x), dtype=None if dtype is None else to_torch_dtype(dtype))


def ones_like(x, dtype=None):
    """Ones with the shape (and dtype unless given) of `x`."""
    return torch.ones_like(_t(x), dtype=None if dtype is None else to_torch_dtype(dtype))


def full_like(x, fill_value, dtype=None):
    """Tensor like `x` filled with `fill_value`."""
    x = _t(x)
    dtype = x.dtype if dtype is None else to_torch_dtype(dtype)
    if isinstance(fill_value, (int, float, bool)):
        return torch.full_like(x, fill_value, dtype=dtype)
    return convert(fill_value, dtype, x.device).expand(x.shape).clone()


def eye(N, M=None, k=0, dtype=None):
    """2-D tensor with ones on the k-th diagonal."""
    M = N if M is None else M
    rows = torch.arange(N, device=default_device()).unsqueeze(1)
    cols = torch.arange(M, device=default_device()).unsqueeze(0)
    return (cols - rows == k).to(_dtype_or_floatx(dtype))


def identity(n, dtype=None):
    """Identity matrix of size `n`."""
    return torch.eye(n, dtype=_dtype_or_floatx(dtype), device=default_device())


def tri(N, M=None, k=0, dtype=None):
    """Ones at and below the k-th diagonal."""
    M = N if M is None else M
    rows = torch.arange(N, device=default_device()).unsqueeze(1)
    cols = torch.arange(M, device=default_device()).unsqueeze(0)
    return (cols - rows <= k).to(_dtype_or_floatx(dtype))


def linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0):
    """`num` evenly spaced numbers over [start, stop] (start/stop may be arrays)."""
    device = stop.device if isinstance(stop, Tensor) else start.device if isinstance(start, Tensor) else None
    start_t = convert(start, device=device) if not isinstance(start, Tensor) else start
    stop_t = convert(stop, device=device) if not isinstance(stop, Tensor) else stop
    compute = torch.float64 if torch.float64 in (start_t.dtype, stop_t.dtype) else floatx()
    if compute not in (torch.float32, torch.float64):
        compute = torch.float32
    start_t, stop_t = torch.broadcast_tensors(start_t.to(compute), stop_t.to(compute))
    div = (num - 1) if endpoint else num
    ramp = torch.arange(num, dtype=compute, device=start_t.device).reshape((num,) + (1,) * start_t.ndim)
    if div > 0:
        step = (stop_t - start_t) / div
        out = start_t.unsqueeze(0) + ramp * step.unsqueeze(0)
    else:
        # A single sample: NumPy gives `start` and a NaN step.
        step = torch.full_like(start_t, float("nan"))
        out = start_t.unsqueeze(0) + ramp
    if endpoint and num > 1:
        out = torch.cat([out[:-1], stop_t.unsqueeze(0)])
    out = torch.movedim(out, 0, axis)
    target = _dtype_or_floatx(dtype)
    if target in INTLIKE:
        out = torch.floor(out)
    out = out.to(target)
    if retstep:
        return out, (step if target in INTLIKE else step.to(target))
    return out


def meshgrid(*x, indexing="xy"):
    """Coordinate matrices from coordinate vectors."""
    return list(torch.meshgrid(*tensors(x), indexing=indexing))


def copy(x):
    """Returns a copy of `x`."""
    return _t(x).clone()


# -- shape and layout ---------------------------------------------------------------------


def reshape(x, newshape):
    """Gives `x` a new shape (one entry may be -1)."""
    if not isinstance(x, Tensor):
        x = convert(x)
    if isinstance(newshape, int):
        newshape = (newshape,)
    return x.reshape(newshape)


def ravel(x):
    """Flattens `x` to 1-D."""
    return _t(x).reshape(-1)


def expand_dims(x, axis):
    """Inserts size-1 axes at `axis` (an int or a tuple of ints)."""
    if not isinstance(x, Tensor):
        x = convert(x)
    if isinstance(axis, int):
        return x.unsqueeze(axis)
    out_ndim = x.ndim + len(axis)
    for a in sorted(a % out_ndim for a in axis):
        x = x.unsqueeze(a)
    return x


def squeeze(x, axis=None):
    """Removes size-1 axes (raises if a named axis is not of size 1)."""
    if not isinstance(x, Tensor):
        x = convert(x)
    if axis is None:
        return x.squeeze()
    dims = axes_tuple(axis, x.ndim)
    for dim in dims:
        if x.shape[dim] != 1:
            raise ValueError(f"squeeze: cannot squeeze axis {dim} of size {x.shape[dim]} (shape {tuple(x.shape)}).")
    return x.squeeze(dims)


def transpose(x, axes=None):
    """Permutes axes (reverses them when `axes` is None)."""
    if not isinstance(x, Tensor):
        x = convert(x)
    if axes is None:
        return x.permute(tuple(range(x.ndim - 1, -1, -1)))
    return x.permute(tuple(axes))


def swapaxes(x, axis1, axis2):
    """Interchanges two axes."""
    return torch.swapaxes(_t(x), axis1, axis2)


def moveaxis(x, source, destination):
    """Moves axes to new positions."""
    if not isinstance(source, int):
        source, destination = tuple(source), tuple(destination)
    return torch.movedim(_t(x), source, destination)


def broadcast_to(x, shape):
    """Broadcasts `x` to `shape`."""
    return torch.broadcast_to(_t(x), _shape(shape))


def flip(x, axis=None):
    """Reverses the order of elements along `axis` (all axes when None)."""
    x = _t(x)
    return torch.flip(x, axes_tuple(axis, x.ndim))


def roll(x, shift, axis=None):
    """Rolls elements along `axis` (of the flattened `x` when None)."""
    x = _t(x)
    if axis is None:
        return torch.roll(x.reshape(-1), shift).reshape(x.shape)
    return torch.roll(x, shift, axis)


def tile(x, repeats):
    """Tiles `x` by `repeats`."""
    repeats = (repeats,) if isinstance(repeats, int) else tuple(int(r) for r in repeats)
    return torch.tile(_t(x), repeats)


def repeat(x, repeats, axis=None):
    """Repeats elements of `x` (of the flattened `x` when `axis` is None)."""
    x = _t(x)
    if axis is None:
        x = x.reshape(-1)
        axis = 0
    if not isinstance(repeats, int):
        repeats = convert(repeats, torch.int64, x.device)
        if repeats.ndim == 0:
            repeats = int(repeats)
    return torch.repeat_interleave(x, repeats, dim=axis)


def _flat_or(xs, axis):
    xs = tensors(xs)
    if axis is None:
        return [x.reshape(-1) for x in xs], 0
    return xs, axis


def concatenate(xs, axis=0):
    """Joins tensors along `axis` (flattened first when None), promoting dtypes."""
    xs, axis = _flat_or(xs, axis)
    return torch.cat(xs, dim=axis)


def append(x1, x2, axis=None):
    """Appends `x2` to `x1` along `axis` (flattened when None)."""
    return concatenate([x1, x2], axis=axis)


def stack(x, axis=0):
    """Stacks tensors along a new axis, promoting dtypes."""
    return torch.stack(tensors(x), dim=axis)


def hstack(xs):
    """Stacks tensors horizontally."""
    xs = tensors(xs)
    return torch.cat(xs, dim=0 if xs[0].ndim <= 1 else 1) if xs[0].ndim else torch.stack(xs)


def vstack(xs):
    """Stacks tensors vertically."""
    return torch.cat([torch.atleast_2d(x) for x in tensors(xs)], dim=0)


def split(x, indices_or_sections, axis=0):
    """Splits `x` into equal sections (int) or at the given indices (a list of tensors)."""
    x = _t(x)
    if isinstance(indices_or_sections, int):
        if x.shape[axis] % indices_or_sections:
            raise ValueError(
                f"split: axis {axis} of size {x.shape[axis]} cannot be split into {indices_or_sections} equal sections."
            )
        return list(torch.tensor_split(x, indices_or_sections, dim=axis))
    return list(torch.tensor_split(x, [int(i) for i in indices_or_sections], dim=axis))


def _pad_pairs(pad_width, ndim):
    # NumPy's forms: n, (n,), (before, after), ((before, after),), or one pair per axis.
    # Plain Python, so that compilers see constants.
    if isinstance(pad_width, Tensor) or hasattr(pad_width, "tolist"):
        pad_width = pad_width.tolist()
    if isinstance(pad_width, int):
        return [(pad_width, pad_width)] * ndim
    pad_width = [tuple(int(v) for v in item) if isinstance(item, (list, tuple)) else int(item) for item in pad_width]
    if all(isinstance(item, int) for item in pad_width):
        if len(pad_width) == 1:
            return [(pad_width[0], pad_width[0])] * ndim
        if len(pad_width) == 2:
            return [tuple(pad_width)] * ndim
        raise ValueError(f"pad: invalid pad_width {pad_width!r}")
    if len(pad_width) == 1:
        pair_ = pad_width[0] if len(pad_width[0]) == 2 else pad_width[0] * 2
        return [pair_] * ndim
    if len(pad_width) != ndim:
        raise ValueError(f"pad: pad_width has {len(pad_width)} entries for a {ndim}-D tensor")
    return [item if len(item) == 2 else item * 2 for item in pad_width]


def _reflect(p, n):
    if n == 1:
        return 0
    q = p % (2 * n - 2)
    return q if q < n else 2 * n - 2 - q


def _symmetric(p, n):
    q = p % (2 * n)
    return q if q < n else 2 * n - 1 - q


# Source index of padded position p (p < 0: before the data) along an axis of size n.
_PAD_SOURCES = {
    "reflect": _reflect,
    "symmetric": _symmetric,
    "edge": lambda p, n: min(max(p, 0), n - 1),
    "replicate": lambda p, n: min(max(p, 0), n - 1),
    "wrap": lambda p, n: p % n,
    "circular": lambda p, n: p % n,
}


def pad(x, pad_width, mode="constant", constant_values=None):
    """Pads `x`; `pad_width` is an int, a (before, after) pair or one pair per axis."""
    x = _t(x)
    pairs = _pad_pairs(pad_width, x.ndim)
    if mode == "constant":
        flat = []
        for before, after in reversed(pairs):
            flat += [before, after]
        value = 0 if constant_values is None else constant_values
        return torch.nn.functional.pad(x, flat, mode="constant", value=value)
    if constant_values is not None:
        raise ValueError(f"pad: `constant_values` is only allowed with mode='constant', received mode={mode!r}")
    if mode not in _PAD_SOURCES:
        raise ValueError(f"pad: unsupported mode {mode!r}")
    source = _PAD_SOURCES[mode]
    for dim, (before, after) in enumerate(pairs):
        if before or after:
            n = x.shape[dim]
            index = [source(p, n) for p in range(-before, n + after)]
            x = torch.index_select(x, dim, torch.tensor(index, device=x.device))
    return x


def _index(indices, device):
    if not isinstance(indices, Tensor):
        indices = convert(indices, device=device)
    if indices.dtype not in INTLIKE or indices.dtype is torch.bool:
        indices = indices.to(torch.int64)
    return indices


def take(x, indices, axis=None):
    """Takes elements of `x` at `indices` along `axis` (flattened when None); negative indices wrap."""
    if not isinstance(x, Tensor):
        x = convert(x)
    indices = _index(indices, x.device)
    if axis is None:
        return x.reshape(-1)[indices]
    axis = axis % x.ndim
    if axis == 0 and x.ndim == 2 and x.is_floating_point():
        # An embedding lookup: F.embedding's backward accumulates rows (embedding_dense_backward)
        # instead of index_put_ into a zero-filled copy of the whole table.
        return torch.nn.functional.embedding(torch.where(indices < 0, indices + x.shape[0], indices), x)
    if axis == 0:
        return x[indices]
    return x[(builtins.slice(None),) * axis + (indices,)]


def take_along_axis(x, indices, axis=None):
    """Takes values at `indices` along `axis` (negative indices wrap; shapes broadcast)."""
    x = _t(x)
    indices = _index(indices, x.device).to(torch.int64)
    if axis is None:
        x = x.reshape(-1)
        indices = indices.reshape(-1)
        axis = 0
    indices = torch.where(indices < 0, indices + x.shape[axis], indices)
    return torch.take_along_dim(x, indices, dim=axis)


def tril(x, k=0):
    """Lower triangle of `x`."""
    return torch.tril(_t(x), diagonal=k)


def triu(x, k=0):
    """Upper triangle of `x`."""
    return torch.triu(_t(x), diagonal=k)


def diag(x, k=0):
    """Extracts a diagonal (2-D input) or builds a diagonal matrix (1-D input)."""
    x = _t(x)
    if x.ndim not in (1, 2):
        raise ValueError(f"diag: `x` must be 1-D or 2-D, received shape {tuple(x.shape)}")
    return torch.diag(x, k)


def diagonal(x, offset=0, axis1=0, axis2=1):
    """Returns the diagonals of `x` over `axis1`, `axis2` (as a new last axis)."""
    return torch.diagonal(_t(x), offset=offset, dim1=axis1, dim2=axis2)


def trace(x, offset=0, axis1=0, axis2=1):
    """Sum along diagonals."""
    from kbridge.adapters.torch.backend.numpy_reduce import sum as _sum

    return _sum(torch.diagonal(_t(x), offset=offset, dim1=axis1, dim2=axis2), axis=-1)


def diff(a, n=1, axis=-1):
    """n-th discrete difference along `axis`."""
    return torch.diff(_t(a), n=n, dim=axis)


def digitize(x, bins):
    """Indices (int32) of the bins to which each value belongs (NumPy semantics, increasing bins)."""
    x = _t(x)
    bins = convert(bins, device=x.device) if not isinstance(bins, Tensor) else bins
    x, bins = pair_tensors(x, bins)
    return torch.bucketize(x, bins, right=True).to(torch.int32)


# -- products -----------------------------------------------------------------------------


def matmul(x1, x2):
    """Matrix product with broadcast batch dimensions."""
    if isinstance(x1, Tensor) and isinstance(x2, Tensor):
        dtype = x1.dtype
        if dtype is x2.dtype and dtype is not torch.bool:
            return torch.matmul(x1, x2)
    x1, x2 = pair_tensors(x1, x2)
    if x1.dtype is torch.bool:
        x1, x2 = x1.to(torch.int32), x2.to(torch.int32)
    return torch.matmul(x1, x2)


def dot(x1, x2):
    """NumPy `dot`: products of scalars, inner product of vectors, else sum over x1's last and x2's second-last axis."""
    x1, x2 = pair_tensors(x1, x2)
    if x1.ndim == 0 or x2.ndim == 0:
        return x1 * x2
    if x2.ndim == 1:
        return torch.tensordot(x1, x2, dims=([-1], [0]))
    return torch.tensordot(x1, x2, dims=([-1], [x2.ndim - 2]))


def tensordot(x1, x2, axes=2):
    """Tensor dot product over `axes` (an int or a pair of axis lists)."""
    x1, x2 = pair_tensors(x1, x2)
    if not isinstance(axes, int):
        a, b = axes
        axes = ([a] if isinstance(a, int) else list(a), [b] if isinstance(b, int) else list(b))
    return torch.tensordot(x1, x2, dims=axes)


def einsum(subscripts, *operands):
    """Einstein summation (operands promoted to one dtype)."""
    operands = tensors(operands)
    if operands and operands[0].dtype is torch.bool:
        operands = [o.to(torch.int32) for o in operands]
    return torch.einsum(subscripts, *operands)


def outer(x1, x2):
    """Outer product of the flattened inputs."""
    x1, x2 = pair_tensors(x1, x2)
    return torch.outer(x1.reshape(-1), x2.reshape(-1))


def vdot(x1, x2):
    """Dot product of the flattened inputs (conjugating the first)."""
    x1, x2 = pair_tensors(x1, x2)
    x1, x2 = x1.reshape(-1), x2.reshape(-1)
    if x1.is_complex():
        return torch.vdot(x1, x2)
    return torch.dot(x1, x2)


def cross(x1, x2, axisa=-1, axisb=-1, axisc=-1, axis=None):
    """Cross product of 2- or 3-vectors (NumPy semantics)."""
    x1, x2 = pair_tensors(x1, x2)
    if axis is not None:
        axisa = axisb = axisc = axis
    a = torch.movedim(x1, axisa, -1)
    b = torch.movedim(x2, axisb, -1)
    both_2d = a.shape[-1] == 2 and b.shape[-1] == 2
    if a.shape[-1] == 2:
        a = torch.nn.functional.pad(a, (0, 1))
    if b.shape[-1] == 2:
        b = torch.nn.functional.pad(b, (0, 1))
    a, b = torch.broadcast_tensors(a, b)
    out = torch.linalg.cross(a, b, dim=-1)
    if both_2d:
        return out[..., 2]
    return torch.movedim(out, -1, axisc)


# -- misc ---------------------------------------------------------------------------------


def ndim(x):
    """Number of dimensions of `x`."""
    return _t(x).ndim


def size(x):
    """Number of elements in `x`."""
    return _t(x).numel()


def real(x):
    """Real part."""
    x = _t(x)
    return torch.real(x) if x.is_complex() else x


def imag(x):
    """Imaginary part."""
    x = _t(x)
    return torch.imag(x) if x.is_complex() else torch.zeros_like(x)


def conjugate(x):
    """Element-wise complex conjugate."""
    x = _t(x)
    return torch.conj_physical(x) if x.is_complex() else x


def conj(x):
    """Element-wise complex conjugate."""
    return conjugate(x)
