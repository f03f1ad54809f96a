"""NumPy backend: shape manipulation, indexing, sorting and products (`kbridge.ops.numpy`, part 2)."""

# ruff: noqa: A001, A002
import numpy as np

from .core import axis_arg, promote, shape_arg, tensor

_INT32 = np.dtype(np.int32)
_INT8 = np.dtype(np.int8)


def _promoted(xs):
    if not isinstance(xs, (list, tuple)):
        xs = list(tensor(xs))
    arrays, _ = promote(*xs)
    return arrays


# -- joining and splitting -------------------------------------------------------------------------


def concatenate(xs, axis=0):
    """Joins a sequence of tensors along `axis`."""
    return np.concatenate(_promoted(xs), axis=axis)


def stack(x, axis=0):
    """Stacks a sequence of tensors along a new axis."""
    return np.stack(_promoted(x), axis=axis)


def hstack(xs):
    """Stacks tensors horizontally."""
    return np.hstack(_promoted(xs))


def vstack(xs):
    """Stacks tensors vertically."""
    return np.vstack(_promoted(xs))


def append(x1, x2, axis=None):
    """Appends `x2` to `x1` along `axis` (flattened when None)."""
    (x1, x2), _ = promote(x1, x2)
    return np.append(x1, x2, axis=axis)


def split(x, indices_or_sections, axis=0):
    """Splits `x` into a list of tensors (equal sections, or at the given indices)."""
    if not isinstance(indices_or_sections, int):
        indices_or_sections = [int(i) for i in np.reshape(tensor(indices_or_sections), (-1,))]
    return list(np.split(tensor(x), indices_or_sections, axis=axis))


def meshgrid(*x, indexing="xy"):
    """Coordinate matrices from coordinate vectors."""
    if indexing not in ("xy", "ij"):
        raise ValueError(f"meshgrid: indexing must be 'xy' or 'ij', received {indexing!r}")
    return list(np.meshgrid(*[tensor(v) for v in x], indexing=indexing))


# -- shape -----------------------------------------------------------------------------------------


def reshape(x, newshape):
    """Gives `x` a new shape (one entry may be -1)."""
    return np.reshape(tensor(x), shape_arg(newshape))


def ravel(x):
    """Flattens `x` to 1-D."""
    return np.ravel(tensor(x))


def expand_dims(x, axis):
    """Inserts size-1 axes at `axis` (an int or a tuple of ints)."""
    return np.expand_dims(tensor(x), axis_arg(axis))


def squeeze(x, axis=None):
    """Removes size-1 axes (all of them when `axis` is None)."""
    x = tensor(x)
    axis = axis_arg(axis)
    if axis is not None:
        for a in axis if isinstance(axis, tuple) else (axis,):
            if x.shape[a] != 1:
                raise ValueError(f"squeeze: axis {a} of a tensor of shape {x.shape} has size {x.shape[a]}, not 1.")
    return np.squeeze(x, axis=axis)


def transpose(x, axes=None):
    """Permutes axes (reverses them when `axes` is None)."""
    return np.transpose(tensor(x), axes=None if axes is None else tuple(axes))


def moveaxis(x, source, destination):
    """Moves axes to new positions."""
    return np.moveaxis(tensor(x), axis_arg(source), axis_arg(destination))


def swapaxes(x, axis1, axis2):
    """Interchanges two axes."""
    return np.swapaxes(tensor(x), axis1, axis2)


def broadcast_to(x, shape):
    """Broadcasts `x` to `shape` (a read-only view)."""
    return np.broadcast_to(tensor(x), shape_arg(shape))


def tile(x, repeats):
    """Tiles `x` by `repeats`."""
    return np.tile(tensor(x), shape_arg(repeats))


def repeat(x, repeats, axis=None):
    """Repeats elements of `x`."""
    if not isinstance(repeats, int):
        repeats = np.asarray(tensor(repeats))
    return np.repeat(tensor(x), repeats, axis=axis)


def flip(x, axis=None):
    """Reverses the order of elements along `axis` (all axes when None)."""
    return np.flip(tensor(x), axis=axis_arg(axis))


def roll(x, shift, axis=None):
    """Rolls elements along `axis` (of the flattened tensor when None)."""
    return np.roll(tensor(x), shift if isinstance(shift, int) else tensor(shift), axis=axis_arg(axis))


_PAD_MODES = ("constant", "edge", "linear_ramp", "maximum", "mean", "median", "minimum", "reflect", "symmetric", "wrap", "empty")


def pad(x, pad_width, mode="constant", constant_values=None):
    """Pads `x`; `pad_width` is a per-axis list of (before, after)."""
    if mode not in _PAD_MODES:
        raise ValueError(f"pad: mode must be one of {_PAD_MODES}, received {mode!r}")
    x = tensor(x)
    pad_width = np.asarray(tensor(pad_width)).astype(np.int64)
    if constant_values is not None:
        if mode != "constant":
            raise ValueError(f"pad: constant_values is only allowed with mode='constant', received mode={mode!r}")
        return np.pad(x, pad_width, mode="constant", constant_values=tensor(constant_values))
    return np.pad(x, pad_width, mode=mode)


# -- diagonals and triangles ---------------------------------------------------------------------


def diag(x, k=0):
    """Extracts a diagonal (2-D input) or builds a diagonal matrix (1-D input)."""
    x = tensor(x)
    if x.ndim not in (1, 2):
        raise ValueError(f"diag: expected a 1-D or 2-D tensor, received shape {x.shape}")
    return np.diag(x, k=k)


def diagonal(x, offset=0, axis1=0, axis2=1):
    """Returns the specified diagonals."""
    return np.diagonal(tensor(x), offset=offset, axis1=axis1, axis2=axis2)


def trace(x, offset=0, axis1=0, axis2=1):
    """Sum along diagonals (bools and narrow ints accumulate in int32)."""
    x = tensor(x)
    dtype = x.dtype
    if dtype.kind in "bu" and dtype.itemsize < 4 or dtype.kind == "i" and dtype.itemsize < 4:
        dtype = _INT32
    return np.trace(x, offset=offset, axis1=axis1, axis2=axis2, dtype=dtype)


def tril(x, k=0):
    """Lower triangle of `x`."""
    return np.tril(tensor(x), k=k)


def triu(x, k=0):
    """Upper triangle of `x`."""
    return np.triu(tensor(x), k=k)


# -- indexing --------------------------------------------------------------------------------------


def _indices(indices, name):
    indices = tensor(indices)
    if indices.dtype.kind not in "iu":
        if indices.dtype.kind == "b":
            raise TypeError(f"{name}: indices must be integers, received a bool tensor.")
        indices = indices.astype(_INT32)
    return indices


def take(x, indices, axis=None):
    """Takes elements of `x` at `indices` along `axis` (flattened when None); negative indices count from the end."""
    return np.take(tensor(x), _indices(indices, "take"), axis=axis)


def take_along_axis(x, indices, axis=None):
    """Takes values at `indices` along `axis` (of the flattened tensor when None)."""
    x = tensor(x)
    indices = _indices(indices, "take_along_axis")
    if axis is None:
        return np.take_along_axis(x.reshape(-1), indices.reshape(-1), axis=0)
    # NumPy needs equal ranks and no broadcasting of the indexed axis; broadcast the rest.
    axis = axis % x.ndim
    shape_x = list(x.shape)
    shape_i = list(indices.shape)
    shape_x[axis] = shape_i[axis] = 1
    common = np.broadcast_shapes(tuple(shape_x), tuple(shape_i))
    x = np.broadcast_to(x, common[:axis] + (x.shape[axis],) + common[axis + 1 :])
    indices = np.broadcast_to(indices, common[:axis] + (indices.shape[axis],) + common[axis + 1 :])
    return np.take_along_axis(x, indices, axis=axis)


def where(condition, x1=None, x2=None):
    """Chooses `x1` where `condition` else `x2`; with neither, the indices of True entries."""
    condition = tensor(condition)
    if x1 is None and x2 is None:
        return nonzero(condition)
    if x1 is None or x2 is None:
        raise ValueError("where: pass both x1 and x2, or neither.")
    (x1, x2), _ = promote(x1, x2)
    return np.where(condition, x1, x2)


def nonzero(x):
    """Indices (int32, one array per axis) of non-zero elements."""
    return tuple(i.astype(_INT32) for i in np.nonzero(tensor(x)))


def sort(x, axis=-1):
    """Sorts along `axis`."""
    return np.sort(tensor(x), axis=axis)


def argsort(x, axis=-1):
    """Indices (int32) that sort `x` along `axis`; stable, so ties keep their order."""
    return np.argsort(tensor(x), axis=axis, kind="stable").astype(_INT32)


# -- products --------------------------------------------------------------------------------------


def _product_operands(*xs):
    first = xs[0]
    if type(first) is np.ndarray and first.dtype != _INT8 and all(
        type(x) is np.ndarray and x.dtype == first.dtype for x in xs[1:]
    ):
        return xs
    arrays, dtype = promote(*xs)
    if dtype == _INT8:
        # int8 products accumulate in int32, as in Keras 3.
        arrays = [a.astype(_INT32) for a in arrays]
    return arrays


def matmul(x1, x2):
    """Matrix product with broadcasting of batch dimensions."""
    x1, x2 = _product_operands(x1, x2)
    if x1.ndim == 0 or x2.ndim == 0:
        raise ValueError(f"matmul: operands must be at least 1-D, received shapes {x1.shape} and {x2.shape}")
    return np.matmul(x1, x2)


def dot(x1, x2):
    """Dot product (matrix product for 2-D, sum over last/second-to-last axes otherwise)."""
    x1, x2 = _product_operands(x1, x2)
    return np.dot(x1, x2)


def vdot(x1, x2):
    """Dot product of flattened vectors (conjugating `x1`)."""
    x1, x2 = _product_operands(x1, x2)
    return np.vdot(x1, x2)


def outer(x1, x2):
    """Outer product of two (flattened) vectors."""
    x1, x2 = _product_operands(x1, x2)
    return np.outer(x1, x2)


def tensordot(x1, x2, axes=2):
    """Tensor dot product over `axes` (an int, or a pair of axis lists)."""
    x1, x2 = _product_operands(x1, x2)
    return np.tensordot(x1, x2, axes=axes)


def einsum(subscripts, *operands):
    """Einstein summation (BLAS-backed contraction order for several operands)."""
    arrays = _product_operands(*operands)
    return np.einsum(subscripts, *arrays, optimize=len(arrays) > 1)


def cross(x1, x2, axisa=-1, axisb=-1, axisc=-1, axis=None):
    """Cross product of 2- or 3-vectors."""
    x1, x2 = _product_operands(x1, x2)
    if axis is not None:
        axisa = axisb = axisc = axis
    x1, x2 = np.moveaxis(x1, axisa, -1), np.moveaxis(x2, axisb, -1)
    if x1.shape[-1] not in (2, 3) or x2.shape[-1] not in (2, 3):
        raise ValueError(f"cross: vectors must have 2 or 3 components, received shapes {x1.shape} and {x2.shape}")
    if x1.shape[-1] == x2.shape[-1] == 2:
        return x1[..., 0] * x2[..., 1] - x1[..., 1] * x2[..., 0]
    # NumPy 2 deprecates 2-vectors in np.cross: give them a zero third component.
    if x1.shape[-1] == 2:
        x1 = np.concatenate([x1, np.zeros_like(x1[..., :1])], axis=-1)
    if x2.shape[-1] == 2:
        x2 = np.concatenate([x2, np.zeros_like(x2[..., :1])], axis=-1)
    return np.moveaxis(np.cross(x1, x2), -1, axisc)
