"""NumPy-like creation, shape and indexing ops for TensorFlow."""

# ruff: noqa: A001, A002
import numpy as np
import tensorflow as tf
from kbridge.adapters.tf.backend._common import (
    Tensor,
    axis_list,
    canonical_axis,
    common,
    dims,
    dtype_of,
    is_static,
    padding_arg,
    shape_arg,
    tensor,
)

from kbridge import config
from kbridge.backend.dtypes import result_type, standardize_dtype

__all__ = [
    "append",
    "arange",
    "array",
    "broadcast_to",
    "concatenate",
    "diag",
    "diagonal",
    "empty",
    "expand_dims",
    "eye",
    "flip",
    "full",
    "full_like",
    "hstack",
    "identity",
    "linspace",
    "meshgrid",
    "moveaxis",
    "ndim",
    "nonzero",
    "ones",
    "ones_like",
    "pad",
    "ravel",
    "repeat",
    "reshape",
    "roll",
    "size",
    "split",
    "squeeze",
    "stack",
    "swapaxes",
    "take",
    "take_along_axis",
    "tile",
    "transpose",
    "tri",
    "tril",
    "triu",
    "vstack",
    "zeros",
    "zeros_like",
]


def _dtype_or_floatx(dtype):
    return config.floatx() if dtype is None else standardize_dtype(dtype)


# -- creation ---------------------------------------------------------------------------------


def array(x, dtype=None):
    """Creates a tensor from `x`."""
    return tensor(x, None if dtype is None else standardize_dtype(dtype))


def zeros(shape, dtype=None):
    """Tensor of zeros (`floatx()` by default)."""
    return tf.zeros(shape_arg(shape), _dtype_or_floatx(dtype))


def ones(shape, dtype=None):
    """Tensor of ones (`floatx()` by default)."""
    return tf.ones(shape_arg(shape), _dtype_or_floatx(dtype))


def empty(shape, dtype=None):
    """Uninitialized tensor of `shape`; here zeros."""
    return zeros(shape, dtype)


def full(shape, fill_value, dtype=None):
    """Tensor of `shape` filled with `fill_value` (`floatx()` unless `dtype` is given)."""
    return tf.broadcast_to(tensor(fill_value, _dtype_or_floatx(dtype)), shape_arg(shape))


def _like_dtype(x, dtype):
    return x.dtype.name if dtype is None else standardize_dtype(dtype)


def full_like(x, fill_value, dtype=None):
    """Tensor shaped like `x` filled with `fill_value`."""
    x = tensor(x)
    return tf.broadcast_to(tensor(fill_value, _like_dtype(x, dtype)), tf.shape(x))


def zeros_like(x, dtype=None):
    """Tensor of zeros shaped like `x`."""
    x = tensor(x)
    return tf.zeros_like(x, dtype=_like_dtype(x, dtype))


def ones_like(x, dtype=None):
    """Tensor of ones shaped like `x`."""
    x = tensor(x)
    return tf.ones_like(x, dtype=_like_dtype(x, dtype))


# tf.range kernels exist for these types only; others are computed in one and cast.
_RANGE_TYPES = {"int32", "int64", "float32", "float64", "bfloat16"}


def arange(start, stop=None, step=1, dtype=None):
    """Evenly spaced values in [start, stop): int32 for Python ints, `floatx()` for floats."""
    if stop is None:
        start, stop = 0, start
    if dtype is None:
        dtype = result_type(*[dtype_of(v) for v in (start, stop, step)])
    dtype = standardize_dtype(dtype)
    compute = dtype
    if dtype not in _RANGE_TYPES:
        compute = "float32" if dtype in ("float16",) else ("int64" if dtype in ("uint32", "uint64") else "int32")
    values = tf.range(tensor(start, compute), tensor(stop, compute), tensor(step, compute), dtype=compute)
    return values if compute == dtype else tf.cast(values, dtype)


def linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0):
    """`num` evenly spaced numbers over [start, stop] (or [start, stop) without `endpoint`)."""
    (start, stop), compute = common([start, stop], extra=(float,))
    dtype = compute if dtype is None else standardize_dtype(dtype)
    if compute not in ("float32", "float64"):
        compute = "float32"
        start, stop = tf.cast(start, compute), tf.cast(stop, compute)
    num = int(num)
    divisor = (num - 1) if endpoint else num
    delta = stop - start
    step = delta / divisor if divisor > 0 else delta * np.nan
    rank = max(start.shape.rank, stop.shape.rank)
    index = tf.reshape(tf.range(num, dtype=compute), [num] + [1] * rank)
    values = start + index * (step if divisor > 0 else tf.zeros_like(delta))
    if endpoint and num > 1:
        # Land exactly on `stop`, as NumPy does.
        values = tf.concat([values[:-1], tf.broadcast_to(stop, tf.shape(values[-1:]))], axis=0)
    if axis != 0:
        values = moveaxis(values, 0, axis)
    if dtype != compute:
        if dtype.startswith(("int", "uint")):
            values = tf.math.floor(values)
        values = tf.cast(values, dtype)
    if retstep:
        return values, step
    return values


def eye(N, M=None, k=0, dtype=None):
    """2-D tensor with ones on the k-th diagonal."""
    M = N if M is None else M
    rows = tf.range(N)[:, None]
    cols = tf.range(M)[None, :]
    return tf.cast(tf.equal(cols - rows, k), _dtype_or_floatx(dtype))


def identity(n, dtype=None):
    """Identity matrix of size `n`."""
    return eye(n, dtype=dtype)


def tri(N, M=None, k=0, dtype=None):
    """Ones at and below the k-th diagonal."""
    M = N if M is None else M
    return tf.cast(_lower_mask(N, M, k), _dtype_or_floatx(dtype))


def _lower_mask(rows, cols, k):
    return tf.range(cols)[None, :] <= tf.range(rows)[:, None] + k


def tril(x, k=0):
    """Lower triangle of `x` (entries above the k-th diagonal zeroed)."""
    x = tensor(x)
    shape = dims(x)
    return tf.where(_lower_mask(shape[-2], shape[-1], k), x, tf.zeros_like(x))


def triu(x, k=0):
    """Upper triangle of `x` (entries below the k-th diagonal zeroed)."""
    x = tensor(x)
    shape = dims(x)
    return tf.where(_lower_mask(shape[-2], shape[-1], k - 1), tf.zeros_like(x), x)


def diag(x, k=0):
    """Extracts the k-th diagonal of a 2-D `x`, or builds a 2-D tensor with 1-D `x` on it."""
    x = tensor(x)
    rank = x.shape.rank
    if rank == 1:
        return tf.linalg.diag(x, k=k)
    if rank == 2:
        return diagonal(x, offset=k)
    raise ValueError(f"diag: expected a 1-D or 2-D input, received shape {x.shape}")


def diagonal(x, offset=0, axis1=0, axis2=1):
    """Returns the diagonals of `x` over `axis1`, `axis2`, as its last axis."""
    x = tensor(x)
    x = moveaxis(x, (axis1, axis2), (-2, -1))
    rows, cols = dims(x)[-2:]
    if is_static(rows) and is_static(cols) and not -rows < offset < cols:
        return tf.zeros(dims(x)[:-2] + [0], x.dtype)
    if x.dtype == tf.bool:
        return tf.cast(tf.linalg.diag_part(tf.cast(x, "int8"), k=offset), "bool")
    return tf.linalg.diag_part(x, k=offset)


# -- shape manipulation -----------------------------------------------------------------------


def reshape(x, newshape):
    """Gives `x` a new shape (one entry may be -1; entries may be scalar tensors)."""
    return tf.reshape(tensor(x), shape_arg(newshape))


def ravel(x):
    """Flattens `x` to 1-D."""
    return tf.reshape(tensor(x), [-1])


def ndim(x):
    """Number of dimensions of `x`."""
    return tensor(x).shape.rank


def size(x):
    """Number of elements in `x`, as an int32 scalar tensor."""
    return tf.size(tensor(x), out_type=tf.int32)


def broadcast_to(x, shape):
    """Broadcasts `x` to `shape`."""
    return tf.broadcast_to(tensor(x), shape_arg(shape))


def expand_dims(x, axis):
    """Inserts size-1 axes at `axis` (an int or a tuple of ints)."""
    x = tensor(x)
    if isinstance(axis, (int, np.integer)):
        return tf.expand_dims(x, int(axis))
    out_rank = x.shape.rank + len(axis)
    for a in axis_list(axis, out_rank, "expand_dims"):
        x = tf.expand_dims(x, a)
    return x


def squeeze(x, axis=None):
    """Removes size-1 axes (all of them, or those in `axis`)."""
    x = tensor(x)
    if axis is None:
        return tf.squeeze(x)
    return tf.squeeze(x, axis=axis_list(axis, x.shape.rank, "squeeze"))


def transpose(x, axes=None):
    """Permutes axes (reverses them when `axes` is None)."""
    return tf.transpose(tensor(x), perm=None if axes is None else list(axes))


def moveaxis(x, source, destination):
    """Moves axes `source` to positions `destination`."""
    x = tensor(x)
    rank = x.shape.rank
    source = [source] if isinstance(source, (int, np.integer)) else list(source)
    destination = [destination] if isinstance(destination, (int, np.integer)) else list(destination)
    if len(source) != len(destination):
        raise ValueError(f"moveaxis: `source` {source} and `destination` {destination} differ in length")
    source = [canonical_axis(a, rank, "moveaxis") for a in source]
    destination = [canonical_axis(a, rank, "moveaxis") for a in destination]
    order = [a for a in range(rank) if a not in source]
    for dest, src in sorted(zip(destination, source)):
        order.insert(dest, src)
    if order == list(range(rank)):
        return x
    return tf.transpose(x, order)


def swapaxes(x, axis1, axis2):
    """Interchanges two axes."""
    x = tensor(x)
    rank = x.shape.rank
    order = list(range(rank))
    a, b = canonical_axis(axis1, rank, "swapaxes"), canonical_axis(axis2, rank, "swapaxes")
    order[a], order[b] = order[b], order[a]
    return tf.transpose(x, order)


def flip(x, axis=None):
    """Reverses the order of elements along `axis` (all axes when None)."""
    x = tensor(x)
    return tf.reverse(x, axis_list(axis, x.shape.rank, "flip"))


def roll(x, shift, axis=None):
    """Rolls elements along `axis` (over the flattened tensor when None)."""
    x = tensor(x)
    if axis is None:
        return tf.reshape(tf.roll(tf.reshape(x, [-1]), shift, axis=0), tf.shape(x))
    return tf.roll(x, shift, axis=axis)


def tile(x, repeats):
    """Tiles `x` by `repeats` (NumPy rules for differing lengths)."""
    x = tensor(x)
    repeats = (
        [repeats]
        if isinstance(repeats, (int, np.integer)) or (isinstance(repeats, Tensor) and repeats.shape.rank == 0)
        else list(repeats)
    )
    rank = x.shape.rank
    if len(repeats) < rank:
        repeats = [1] * (rank - len(repeats)) + repeats
    elif len(repeats) > rank:
        x = tf.reshape(x, [1] * (len(repeats) - rank) + dims(x))
    return tf.tile(x, shape_arg(repeats))


def repeat(x, repeats, axis=None):
    """Repeats elements of `x` (over the flattened tensor when `axis` is None)."""
    x = tensor(x)
    if axis is None:
        x = tf.reshape(x, [-1])
        axis = 0
    if not isinstance(repeats, (int, np.integer)):
        repeats = tensor(repeats)
    return tf.repeat(x, repeats, axis=axis)


def _join_inputs(xs):
    xs = list(xs)
    if not xs:
        raise ValueError("need at least one tensor to join")
    values, _ = common(xs)
    return values


def concatenate(xs, axis=0):
    """Joins a sequence of tensors along `axis` (flattening them when None)."""
    xs = _join_inputs(xs)
    if axis is None:
        xs = [tf.reshape(x, [-1]) for x in xs]
        axis = 0
    return tf.concat(xs, axis=axis)


def append(x1, x2, axis=None):
    """Appends `x2` to `x1` along `axis` (both flattened when None)."""
    return concatenate([x1, x2], axis=axis)


def stack(x, axis=0):
    """Stacks a sequence of tensors along a new axis."""
    return tf.stack(_join_inputs(x), axis=axis)


def hstack(xs):
    """Stacks tensors horizontally (along axis 1, or 0 for 1-D)."""
    xs = _join_inputs(xs)
    return tf.concat(xs, axis=0 if xs[0].shape.rank == 1 else 1)


def vstack(xs):
    """Stacks tensors vertically (1-D inputs become rows)."""
    xs = _join_inputs(xs)
    xs = [tf.reshape(x, [1, -1]) if x.shape.rank < 2 else x for x in xs]
    return tf.concat(xs, axis=0)


def split(x, indices_or_sections, axis=0):
    """Splits `x` into equal sections, or at the given indices, along `axis`."""
    x = tensor(x)
    if isinstance(indices_or_sections, (int, np.integer)):
        return tf.split(x, int(indices_or_sections), axis=axis)
    indices = [int(i) for i in indices_or_sections]
    length = dims(x)[axis]
    bounds = [0] + indices
    sizes = [b - a for a, b in zip(bounds[:-1], bounds[1:])]
    if is_static(length):
        sizes.append(length - bounds[-1])
        return tf.split(x, sizes, axis=axis)
    return tf.split(x, sizes + [-1], axis=axis)


def meshgrid(*x, indexing="xy"):
    """Coordinate matrices from coordinate vectors ("xy" or "ij" indexing)."""
    if indexing not in ("xy", "ij"):
        raise ValueError(f"meshgrid: `indexing` must be 'xy' or 'ij', received {indexing!r}")
    vectors = [tf.reshape(tensor(v), [-1]) for v in x]
    lengths = [dims(v)[0] for v in vectors]
    positions = list(range(len(vectors)))
    if indexing == "xy" and len(vectors) > 1:
        positions[0], positions[1] = 1, 0
    out_shape = [None] * len(vectors)
    for length, position in zip(lengths, positions):
        out_shape[position] = length
    grids = []
    for vector, position in zip(vectors, positions):
        shape = [1] * len(vectors)
        shape[position] = -1
        grids.append(tf.broadcast_to(tf.reshape(vector, shape), shape_arg(out_shape)))
    return grids


def pad(x, pad_width, mode="constant", constant_values=None):
    """Pads `x`; `pad_width` is an int, a (before, after) pair, or one pair per axis.

    Modes: "constant", "reflect", "symmetric", "edge", "wrap".
    """
    x = tensor(x)
    rank = x.shape.rank
    if isinstance(pad_width, Tensor):
        pairs = tf.broadcast_to(tf.cast(pad_width, "int32"), [rank, 2])
    else:
        # NumPy's forms: p, (p,), (before, after), or one pair per axis.
        pairs = np.broadcast_to(np.asarray(pad_width, dtype=object), (rank, 2)).tolist()
        pairs = padding_arg(pairs)
    mode = mode.lower()
    if constant_values is not None and mode != "constant":
        raise ValueError(f"pad: `constant_values` is only valid with mode='constant', received mode={mode!r}")
    if mode in ("constant", "reflect", "symmetric"):
        value = 0 if constant_values is None else constant_values
        if mode == "constant":
            return tf.pad(x, pairs, mode="CONSTANT", constant_values=tf.cast(value, x.dtype))
        return tf.pad(x, pairs, mode=mode.upper())
    if mode not in ("edge", "wrap"):
        raise ValueError(f"pad: unsupported mode {mode!r}")
    if isinstance(pairs, Tensor):
        raise ValueError("pad: modes 'edge' and 'wrap' need static pad widths")
    for axis, (before, after) in enumerate(pairs):
        if before == 0 and after == 0:
            continue
        length = dims(x)[axis]
        index = tf.range(-before, length + after)
        index = tf.clip_by_value(index, 0, length - 1) if mode == "edge" else tf.math.floormod(index, length)
        x = tf.gather(x, index, axis=axis)
    return x


# -- indexing ---------------------------------------------------------------------------------


def _wrap_negative(indices, length):
    length = tf.cast(length, indices.dtype)
    return tf.where(indices < 0, indices + length, indices)


def _index_tensor(indices):
    indices = tensor(indices)
    if indices.dtype.name not in ("int32", "int64"):
        indices = tf.cast(indices, "int32")
    return indices


def take(x, indices, axis=None):
    """Takes elements of `x` at `indices` along `axis` (flattened when None); negative indices wrap."""
    x = tensor(x)
    indices = _index_tensor(indices)
    if axis is None:
        x = tf.reshape(x, [-1])
        axis = 0
    axis = canonical_axis(axis, x.shape.rank, "take")
    return tf.gather(x, _wrap_negative(indices, tf.shape(x)[axis]), axis=axis)


def take_along_axis(x, indices, axis=None):
    """Takes values at `indices` along `axis`, broadcasting the other axes (NumPy semantics)."""
    x = tensor(x)
    indices = _index_tensor(indices)
    if axis is None:
        x = tf.reshape(x, [-1])
        indices = tf.reshape(indices, [-1])
        axis = 0
    rank = x.shape.rank
    if indices.shape.rank != rank:
        raise ValueError(
            f"take_along_axis: `indices` must have the rank of `x` ({rank}), received shape {indices.shape}"
        )
    axis = canonical_axis(axis, rank, "take_along_axis")
    x = moveaxis(x, axis, -1)
    indices = moveaxis(indices, axis, -1)
    x_shape, i_shape = dims(x), dims(indices)
    batch = tf.broadcast_dynamic_shape(tf.shape(x)[:-1], tf.shape(indices)[:-1])
    if all(is_static(d) for d in x_shape[:-1] + i_shape[:-1]):
        batch = list(np.broadcast_shapes(tuple(x_shape[:-1]), tuple(i_shape[:-1])))
        x = tf.broadcast_to(x, batch + [x_shape[-1]])
        indices = tf.broadcast_to(indices, batch + [i_shape[-1]])
    else:
        x = tf.broadcast_to(x, tf.concat([batch, tf.shape(x)[-1:]], 0))
        indices = tf.broadcast_to(indices, tf.concat([batch, tf.shape(indices)[-1:]], 0))
    indices = _wrap_negative(indices, tf.shape(x)[-1])
    out = tf.gather(x, indices, axis=rank - 1, batch_dims=rank - 1)
    return moveaxis(out, -1, axis)


def nonzero(x):
    """Indices of non-zero elements, one int32 tensor per axis (eager or dynamic-size output)."""
    x = tensor(x)
    found = tf.where(tf.cast(x, "bool") if x.dtype != tf.bool else x)
    return tuple(tf.unstack(tf.cast(found, "int32"), num=x.shape.rank, axis=1))
