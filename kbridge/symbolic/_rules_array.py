"""Symbolic backend: shape manipulation, indexing, sorting and products (`kbridge.ops.numpy`, part 2)."""

# ruff: noqa: A001, A002
import numpy as np

from kbridge.symbolic._infer import (
    add_dims,
    broadcast_shapes,
    canonical_axes,
    canonical_axis,
    has_symbolic,
    merge_dim,
    merge_shapes,
    multiply_dims,
    out,
    probe,
    promoted,
    shape_tuple,
    spec,
)
from kbridge.symbolic.keras_tensor import KerasTensor


def _sequence(xs, name):
    if isinstance(xs, KerasTensor) or not isinstance(xs, (list, tuple)):
        whole = spec(xs)
        if whole.ndim == 0 or whole.shape[0] is None:
            raise ValueError(f"{name}: expected a list of tensors, received {whole}")
        return [out(whole.shape[1:], whole.dtype)] * whole.shape[0]
    if not xs:
        raise ValueError(f"{name}: expected a non-empty list of tensors.")
    return list(xs)


# -- joining and splitting -------------------------------------------------------------------------


def _concatenated(xs, axis, name):
    specs = [spec(x) for x in xs]
    rank = specs[0].ndim
    if any(s.ndim != rank for s in specs) or rank == 0:
        raise ValueError(f"{name}: all inputs must have the same rank >= 1, received {specs}")
    axis = canonical_axis(axis, rank, name)
    shape = list(specs[0].shape)
    for s in specs[1:]:
        for i, d in enumerate(s.shape):
            if i != axis:
                shape[i] = merge_dim(shape[i], d, name, f"non-concatenated dimension {i}")
    shape[axis] = add_dims(*[s.shape[axis] for s in specs])
    return out(shape, promoted(*xs))


def concatenate(xs, axis=0):
    """Sizes along `axis` add up; the other sizes must agree."""
    return _concatenated(_sequence(xs, "concatenate"), axis, "concatenate")


def stack(x, axis=0):
    """A new axis of size len(x); the shapes must agree."""
    xs = _sequence(x, "stack")
    specs = [spec(v) for v in xs]
    shape = specs[0].shape
    for s in specs[1:]:
        shape = merge_shapes(shape, s.shape, "stack")
    axis = canonical_axis(axis, len(shape) + 1, "stack")
    return out(shape[:axis] + (len(xs),) + shape[axis:], promoted(*xs))


def hstack(xs):
    """Concatenation along axis 1 (axis 0 for 1-D inputs)."""
    xs = _sequence(xs, "hstack")
    return _concatenated(xs, 0 if spec(xs[0]).ndim == 1 else 1, "hstack")


def vstack(xs):
    """Concatenation along axis 0 (1-D inputs become rows)."""
    xs = _sequence(xs, "vstack")
    rows = [out((1,) + spec(x).shape, spec(x).dtype) if spec(x).ndim == 1 else spec(x) for x in xs]
    result = _concatenated(rows, 0, "vstack")
    return out(result.shape, promoted(*xs))


def append(x1, x2, axis=None):
    """Flattened concatenation, or concatenation along `axis`."""
    if axis is None:
        a, b = spec(x1), spec(x2)
        return out((add_dims(multiply_dims(*a.shape), multiply_dims(*b.shape)),), promoted(x1, x2))
    return _concatenated([x1, x2], axis, "append")


def split(x, indices_or_sections, axis=0):
    """Equal sections (an int), or pieces between the given indices."""
    x = spec(x)
    axis = canonical_axis(axis, x.ndim, "split")
    dim = x.shape[axis]
    if isinstance(indices_or_sections, (int, np.integer)):
        sections = int(indices_or_sections)
        if dim is not None and dim % sections:
            raise ValueError(f"split: axis {axis} of size {dim} cannot be split into {sections} equal sections.")
        sizes = [None if dim is None else dim // sections] * sections
    else:
        cuts = [int(i) for i in indices_or_sections]
        if dim is not None:
            sizes = [len(piece) for piece in np.split(np.empty(dim), cuts)]
        else:
            # Unknown size: pieces between two non-negative cuts are known; the last one is not.
            bounds = [0, *cuts]
            sizes = [
                max(stop - start, 0) if start >= 0 and stop >= 0 else None for start, stop in zip(bounds, bounds[1:])
            ]
            sizes.append(None)
    return [out(x.shape[:axis] + (size,) + x.shape[axis + 1 :], x.dtype) for size in sizes]


def meshgrid(*x, indexing="xy"):
    """One grid per input, of shape (len(x1), len(x2), ...) (the first two swapped for "xy")."""
    if indexing not in ("xy", "ij"):
        raise ValueError(f"meshgrid: indexing must be 'xy' or 'ij', received {indexing!r}")
    specs = [spec(v) for v in x]
    sizes = [multiply_dims(*s.shape) for s in specs]
    if indexing == "xy" and len(sizes) > 1:
        sizes[0], sizes[1] = sizes[1], sizes[0]
    return [out(sizes, s.dtype) for s in specs]


# -- shape -----------------------------------------------------------------------------------------


def reshape(x, newshape):
    """The new shape; -1 is inferred when the sizes are known, None entries stay unknown."""
    x = spec(x)
    target = list(shape_tuple(newshape, "reshape"))
    total = multiply_dims(*x.shape)
    if target.count(-1) > 1:
        raise ValueError(f"reshape: only one dimension can be -1, received {tuple(target)}")
    known = [d for d in target if d != -1]
    if -1 in target:
        rest = multiply_dims(*known)
        if total is not None and rest is not None:
            if rest == 0 or total % rest:
                raise ValueError(f"reshape: cannot reshape {x} into {tuple(target)}.")
            target[target.index(-1)] = total // rest
        else:
            target[target.index(-1)] = None
    elif total is not None and None not in target and multiply_dims(*target) != total:
        raise ValueError(f"reshape: cannot reshape {x} ({total} elements) into {tuple(target)}.")
    return out(target, x.dtype)


def ravel(x):
    """1-D with all the elements."""
    x = spec(x)
    return out((multiply_dims(*x.shape),), x.dtype)


def expand_dims(x, axis):
    """Size-1 axes inserted at `axis` (positions in the result)."""
    x = spec(x)
    axes = canonical_axes(axis, x.ndim + (len(axis) if isinstance(axis, (list, tuple)) else 1), "expand_dims")
    shape = list(x.shape)
    for a in axes:
        shape.insert(a, 1)
    return out(shape, x.dtype)


def squeeze(x, axis=None):
    """Size-1 axes removed (with `axis` None, unknown sizes are kept)."""
    x = spec(x)
    if axis is None:
        return out([d for d in x.shape if d != 1], x.dtype)
    axes = canonical_axes(axis, x.ndim, "squeeze")
    for a in axes:
        if x.shape[a] not in (1, None):
            raise ValueError(f"squeeze: axis {a} of {x} has size {x.shape[a]}, not 1.")
    return out([d for i, d in enumerate(x.shape) if i not in axes], x.dtype)


def transpose(x, axes=None):
    """Axes permuted (reversed by default)."""
    x = spec(x)
    if axes is None:
        return out(x.shape[::-1], x.dtype)
    order = [canonical_axis(a, x.ndim, "transpose") for a in axes]
    if sorted(order) != list(range(x.ndim)):
        raise ValueError(f"transpose: axes {tuple(axes)} are not a permutation of the {x.ndim} axes of {x}")
    return out([x.shape[a] for a in order], x.dtype)


def moveaxis(x, source, destination):
    """Axes moved to new positions."""
    x = spec(x)
    sources = [canonical_axis(a, x.ndim, "moveaxis") for a in (source if isinstance(source, (list, tuple)) else [source])]
    targets = [
        canonical_axis(a, x.ndim, "moveaxis")
        for a in (destination if isinstance(destination, (list, tuple)) else [destination])
    ]
    if len(sources) != len(targets):
        raise ValueError(f"moveaxis: source {source} and destination {destination} differ in length.")
    order = [a for a in range(x.ndim) if a not in sources]
    for target, source_axis in sorted(zip(targets, sources)):
        order.insert(target, source_axis)
    return out([x.shape[a] for a in order], x.dtype)


def swapaxes(x, axis1, axis2):
    """Two axes interchanged."""
    x = spec(x)
    a, b = canonical_axis(axis1, x.ndim, "swapaxes"), canonical_axis(axis2, x.ndim, "swapaxes")
    shape = list(x.shape)
    shape[a], shape[b] = shape[b], shape[a]
    return out(shape, x.dtype)


def broadcast_to(x, shape):
    """`shape` (checked against the broadcasting rules)."""
    x = spec(x)
    target = shape_tuple(shape, "broadcast_to")
    if len(target) < x.ndim:
        raise ValueError(f"broadcast_to: cannot broadcast {x} to the lower-rank shape {target}")
    result = broadcast_shapes(x.shape, target, name="broadcast_to")
    for wanted, d in zip(target[len(target) - x.ndim :], x.shape):
        if wanted is not None and d is not None and d not in (1, wanted):
            raise ValueError(f"broadcast_to: cannot broadcast {x} to {target}")
    return out(tuple(t if t is not None else r for t, r in zip(target, result)), x.dtype)


def tile(x, repeats):
    """Each size multiplied by its repeat count (ranks aligned on the right)."""
    x = spec(x)
    counts = shape_tuple(repeats, "tile")
    rank = max(x.ndim, len(counts))
    shape = (1,) * (rank - x.ndim) + x.shape
    counts = (1,) * (rank - len(counts)) + counts
    return out([multiply_dims(d, c) for d, c in zip(shape, counts)], x.dtype)


def repeat(x, repeats, axis=None):
    """The repeated axis (the flattened tensor when `axis` is None) grows by `repeats`."""
    x = spec(x)
    if axis is None:
        length, shape, at = multiply_dims(*x.shape), [None], 0
    else:
        at = canonical_axis(axis, x.ndim, "repeat")
        length, shape = x.shape[at], list(x.shape)
    if has_symbolic(repeats):
        grown = None
    elif np.ndim(repeats) == 0 or np.size(repeats) == 1:
        grown = multiply_dims(length, int(np.reshape(np.asarray(repeats), ())))
    else:
        grown = int(np.sum(repeats))
    shape[at] = grown
    return out(shape, x.dtype)


def flip(x, axis=None):
    """Same shape and dtype."""
    x = spec(x)
    canonical_axes(axis, x.ndim, "flip")
    return out(x.shape, x.dtype)


def roll(x, shift, axis=None):
    """Same shape and dtype."""
    x = spec(x)
    return out(x.shape, x.dtype)


def pad(x, pad_width, mode="constant", constant_values=None):
    """Each size grows by its (before, after) padding."""
    x = spec(x)
    if has_symbolic(pad_width):
        return out((None,) * x.ndim, x.dtype)
    # NumPy's rules: an int, one (before, after) pair, or one pair per axis.
    widths = np.broadcast_to(np.asarray(pad_width, dtype=np.int64), (x.ndim, 2))
    return out([add_dims(d, int(b), int(a)) for d, (b, a) in zip(x.shape, widths)], x.dtype)


def diag(x, k=0):
    """Probed (the diagonal of a matrix, or a matrix from a vector)."""
    return probe("diag", x, k=k)


def diagonal(x, offset=0, axis1=0, axis2=1):
    """Probed."""
    return probe("diagonal", x, offset=offset, axis1=axis1, axis2=axis2)


def trace(x, offset=0, axis1=0, axis2=1):
    """Probed."""
    return probe("trace", x, offset=offset, axis1=axis1, axis2=axis2)


def diff(a, n=1, axis=-1):
    """Probed (the axis shrinks by `n`)."""
    return probe("diff", a, n=n, axis=axis)


def tril(x, k=0):
    """Same shape and dtype."""
    x = spec(x)
    return out(x.shape, x.dtype)


def triu(x, k=0):
    """Same shape and dtype."""
    x = spec(x)
    return out(x.shape, x.dtype)


# -- indexing --------------------------------------------------------------------------------------


def take(x, indices, axis=None):
    """The indexed axis replaced by the shape of `indices` (flattened `x` when `axis` is None)."""
    x, indices = spec(x), spec(indices)
    if axis is None:
        return out(indices.shape, x.dtype)
    axis = canonical_axis(axis, x.ndim, "take")
    return out(x.shape[:axis] + indices.shape + x.shape[axis + 1 :], x.dtype)


def take_along_axis(x, indices, axis=None):
    """The indices' size along `axis`, the others broadcast."""
    x, indices = spec(x), spec(indices)
    if axis is None:
        return out((multiply_dims(*indices.shape),), x.dtype)
    if x.ndim != indices.ndim:
        raise ValueError(f"take_along_axis: x {x} and indices {indices} must have the same rank.")
    axis = canonical_axis(axis, x.ndim, "take_along_axis")
    rest_x = x.shape[:axis] + (1,) + x.shape[axis + 1 :]
    rest_i = indices.shape[:axis] + (1,) + indices.shape[axis + 1 :]
    shape = list(broadcast_shapes(rest_x, rest_i, name="take_along_axis"))
    shape[axis] = indices.shape[axis]
    return out(shape, x.dtype)


def where(condition, x1=None, x2=None):
    """Broadcast shape of the three, promoted dtype; the indices of True entries without x1 and x2."""
    if x1 is None and x2 is None:
        return nonzero(condition)
    if x1 is None or x2 is None:
        raise ValueError("where: pass both x1 and x2, or neither.")
    shape = broadcast_shapes(spec(condition).shape, spec(x1).shape, spec(x2).shape, name="where")
    return out(shape, promoted(x1, x2))


def nonzero(x):
    """One int32 vector of unknown length per axis."""
    return tuple(out((None,), "int32") for _ in range(spec(x).ndim))


def sort(x, axis=-1):
    """Same shape and dtype."""
    x = spec(x)
    return out(x.shape, x.dtype)


def argsort(x, axis=-1):
    """Same shape, int32."""
    return out(spec(x).shape, "int32")


# -- products --------------------------------------------------------------------------------------


def _product_dtype(*xs):
    dtype = promoted(*xs)
    return "int32" if dtype == "int8" else dtype


def matmul(x1, x2):
    """Batch dims broadcast; (..., n, k) @ (..., k, m) -> (..., n, m); 1-D operands as NumPy."""
    a, b = spec(x1), spec(x2)
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"matmul: operands must be at least 1-D, received {a} and {b}")
    left = (1,) + a.shape if a.ndim == 1 else a.shape
    right = b.shape + (1,) if b.ndim == 1 else b.shape
    merge_dim(left[-1], right[-2], "matmul", f"contracted dimension of {a} and {b}")
    batch = broadcast_shapes(left[:-2], right[:-2], name="matmul")
    shape = batch + (left[-2], right[-1])
    if a.ndim == 1:
        shape = shape[:-2] + shape[-1:]
    if b.ndim == 1:
        shape = shape[:-1]
    return out(shape, _product_dtype(x1, x2))


def dot(x1, x2):
    """NumPy `dot` shapes: scalars multiply; else the last axis of x1 meets the second-to-last of x2."""
    a, b = spec(x1), spec(x2)
    if a.ndim == 0 or b.ndim == 0:
        return out(broadcast_shapes(a.shape, b.shape, name="dot"), _product_dtype(x1, x2))
    contracted = b.shape[0] if b.ndim == 1 else b.shape[-2]
    merge_dim(a.shape[-1], contracted, "dot", f"contracted dimension of {a} and {b}")
    rest_b = () if b.ndim == 1 else b.shape[:-2] + b.shape[-1:]
    return out(a.shape[:-1] + rest_b, _product_dtype(x1, x2))


def vdot(x1, x2):
    """A scalar."""
    return out((), _product_dtype(x1, x2))


def outer(x1, x2):
    """(size(x1), size(x2))."""
    return out((multiply_dims(*spec(x1).shape), multiply_dims(*spec(x2).shape)), _product_dtype(x1, x2))


def tensordot(x1, x2, axes=2):
    """The free axes of x1 then those of x2."""
    a, b = spec(x1), spec(x2)
    if isinstance(axes, (int, np.integer)):
        count = int(axes)
        axes_a, axes_b = list(range(a.ndim - count, a.ndim)), list(range(count))
    else:
        axes_a, axes_b = axes
        axes_a = [axes_a] if isinstance(axes_a, (int, np.integer)) else list(axes_a)
        axes_b = [axes_b] if isinstance(axes_b, (int, np.integer)) else list(axes_b)
    axes_a = [canonical_axis(i, a.ndim, "tensordot") for i in axes_a]
    axes_b = [canonical_axis(i, b.ndim, "tensordot") for i in axes_b]
    if len(axes_a) != len(axes_b):
        raise ValueError(f"tensordot: axes {axes} must name as many axes of each operand.")
    for i, j in zip(axes_a, axes_b):
        merge_dim(a.shape[i], b.shape[j], "tensordot", f"contracted dimension of {a} and {b}")
    free_a = [d for i, d in enumerate(a.shape) if i not in axes_a]
    free_b = [d for i, d in enumerate(b.shape) if i not in axes_b]
    return out(free_a + free_b, _product_dtype(x1, x2))


def einsum(subscripts, *operands):
    """Sizes by label (None when unknown everywhere); implicit output = labels used once, sorted."""
    specs = [spec(x) for x in operands]
    text = subscripts.replace(" ", "")
    inputs_text, arrow, output_text = text.partition("->")
    terms = inputs_text.split(",")
    if len(terms) != len(specs):
        raise ValueError(f"einsum: {subscripts!r} names {len(terms)} operands, received {len(specs)}.")
    sizes = {}
    ellipsis_shapes = []
    counts = {}
    for term, operand in zip(terms, specs):
        if "..." in term:
            head, tail = term.split("...")
            middle = operand.ndim - len(head) - len(tail)
            if middle < 0:
                raise ValueError(f"einsum: {term!r} has more labels than {operand} has axes.")
            ellipsis_shapes.append(operand.shape[len(head) : len(head) + middle])
            labels = list(head) + [None] * middle + list(tail)
        else:
            if len(term) != operand.ndim:
                raise ValueError(f"einsum: {term!r} has {len(term)} labels for {operand} of rank {operand.ndim}.")
            labels = list(term)
        for label, dim in zip(labels, operand.shape):
            if label is None:
                continue
            counts[label] = counts.get(label, 0) + 1
            previous = sizes.get(label, 1)
            sizes[label] = broadcast_shapes((previous,), (dim,), name=f"einsum label {label!r}")[0]
    batch = broadcast_shapes(*ellipsis_shapes, name="einsum (...)") if ellipsis_shapes else ()
    if not arrow:
        output_text = ("..." if ellipsis_shapes else "") + "".join(sorted(c for c, n in counts.items() if n == 1))
    unknown = set(output_text.replace("...", "")) - set(sizes)
    if unknown:
        raise ValueError(f"einsum: output labels {sorted(unknown)} of {subscripts!r} appear in no operand.")
    if "..." in output_text:
        head, tail = output_text.split("...")
        shape = [sizes[c] for c in head] + list(batch) + [sizes[c] for c in tail]
    else:
        shape = [sizes[c] for c in output_text]
    return out(shape, _product_dtype(*operands))


def cross(x1, x2, axisa=-1, axisb=-1, axisc=-1, axis=None):
    """Probed."""
    return probe("cross", x1, x2, axisa=axisa, axisb=axisb, axisc=axisc, axis=axis)
