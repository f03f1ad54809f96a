"""Helpers of the symbolic backend: argument specs, broadcasting, axes, and the NumPy probe fallback.

Shapes are tuples whose entries are ints or None (unknown size). Dtypes follow
`kbridge.backend.dtypes.result_type`, with Python scalars weak.
"""

import warnings

import numpy as np

from kbridge import config
from kbridge.backend import registry
from kbridge.backend.dtypes import result_type, standardize_dtype
from kbridge.symbolic.keras_tensor import KerasTensor
from kbridge.utils import tree
from kbridge.variables import Variable

WEAK_TYPES = (bool, int, float, complex)
PROBE_SIZES = (7, 11)
_PYTHON_DEFAULTS = {bool: "bool", int: "int32", complex: "complex64"}


def numpy_backend():
    """The NumPy backend module (used to evaluate concrete arguments and probes)."""
    return registry.get("numpy")


def is_symbolic(x):
    """Whether `x` is a KerasTensor (or a Variable, which reads as one while tracing)."""
    return isinstance(x, (KerasTensor, Variable))


def has_symbolic(values):
    """Whether a (nested) structure holds a KerasTensor or a Variable."""
    return any(is_symbolic(leaf) for leaf in tree.flatten(values))


def spec(x):
    """Returns `x` as a KerasTensor: KerasTensors as they are, anything else by shape and dtype.

    Python scalars become int32 / `floatx()` / bool scalars; lists of KerasTensors stack.
    """
    if isinstance(x, KerasTensor):
        return x
    if isinstance(x, Variable):
        return KerasTensor(x.shape, x.dtype)
    kind = type(x)
    if kind in WEAK_TYPES:
        return KerasTensor((), _PYTHON_DEFAULTS.get(kind) or config.floatx())
    if isinstance(x, (list, tuple)) and has_symbolic(x):
        items = [spec(item) for item in x]
        inner = broadcast_shapes(*[item.shape for item in items], name="convert_to_tensor")
        return KerasTensor((len(items),) + inner, result_type(*[key(item) for item in x]))
    if hasattr(x, "shape") and hasattr(x, "dtype"):
        return KerasTensor(tuple(x.shape), standardize_dtype(x.dtype))
    value = numpy_backend().convert_to_tensor(x)
    return KerasTensor(value.shape, standardize_dtype(value.dtype))


def key(x):
    """The promotion key of an argument: its dtype name, or its Python type when it is a weak scalar."""
    kind = type(x)
    if kind in WEAK_TYPES:
        return kind
    if isinstance(x, (KerasTensor, Variable)):
        return x.dtype
    return spec(x).dtype


def promoted(*values, extra=()):
    """Keras 3 result dtype of `values` (and of the dtypes / Python types in `extra`)."""
    return result_type(*[key(v) for v in values], *extra)


def floating(dtype):
    """The dtype float ops give for `dtype`: ints and bools become `floatx()`."""
    return result_type(dtype, float)


def out(shape, dtype):
    """A new KerasTensor."""
    return KerasTensor(tuple(shape), dtype)


def as_int(value):
    """A concrete int from a Python / NumPy scalar, or None for a symbolic or unknown value."""
    if value is None or is_symbolic(value):
        return None
    return int(value)


def shape_tuple(shape, name):
    """A shape argument (int, sequence, possibly with None) as a tuple of ints and None."""
    if isinstance(shape, KerasTensor):
        if shape.ndim != 1 or shape.shape[0] is None:
            raise ValueError(f"{name}: a symbolic shape must be a 1-D tensor of known length, received {shape}")
        return (None,) * shape.shape[0]
    if isinstance(shape, (int, np.integer)):
        return (int(shape),)
    return tuple(as_int(d) for d in shape)


# -- shapes ----------------------------------------------------------------------------------------


def broadcast_shapes(*shapes, name="broadcast"):
    """NumPy broadcasting where None (unknown) matches anything: None with 1 stays None, None with n is n."""
    rank = max((len(s) for s in shapes), default=0)
    result = []
    for dims in zip(*[(1,) * (rank - len(s)) + tuple(s) for s in shapes]):
        known = {d for d in dims if d is not None and d != 1}
        if len(known) > 1:
            raise ValueError(f"{name}: shapes {' and '.join(str(tuple(s)) for s in shapes)} cannot be broadcast together.")
        if known:
            result.append(known.pop())
        elif any(d is None for d in dims):
            result.append(None)
        else:
            result.append(1)
    return tuple(result)


def merge_dim(a, b, name, what="dimension"):
    """Two sizes that must agree: the known one wins; two different known sizes raise."""
    if a is None:
        return b
    if b is None or a == b:
        return a
    raise ValueError(f"{name}: incompatible {what}: {a} and {b}.")


def merge_shapes(a, b, name):
    """Two shapes that must agree (same rank, compatible sizes)."""
    if len(a) != len(b):
        raise ValueError(f"{name}: shapes {tuple(a)} and {tuple(b)} have different ranks.")
    return tuple(merge_dim(x, y, name, f"shapes {tuple(a)} and {tuple(b)}") for x, y in zip(a, b))


def add_dims(*dims):
    """Sum of sizes (None if any is unknown)."""
    return None if any(d is None for d in dims) else sum(dims)


def multiply_dims(*dims):
    """Product of sizes (None if any is unknown; 0 if any is 0)."""
    if any(d == 0 for d in dims):
        return 0
    if any(d is None for d in dims):
        return None
    total = 1
    for d in dims:
        total *= d
    return total


def canonical_axis(axis, ndim, name):
    """A single axis in [0, ndim)."""
    axis = int(axis)
    if not -ndim <= axis < ndim:
        raise ValueError(f"{name}: axis {axis} is out of bounds for a tensor of rank {ndim}.")
    return axis % ndim


def canonical_axes(axis, ndim, name):
    """`axis` (None, int, or sequence) as a sorted tuple of axes in [0, ndim); None stays None."""
    if axis is None:
        return None
    if isinstance(axis, (list, tuple)):
        axes = tuple(canonical_axis(a, ndim, name) for a in axis)
    else:
        axes = (canonical_axis(axis, ndim, name),)
    if len(set(axes)) != len(axes):
        raise ValueError(f"{name}: repeated axis in {axis}.")
    return tuple(sorted(axes))


def reduced_shape(shape, axis, keepdims, name):
    """The shape left by a reduction over `axis` (all axes when None)."""
    axes = canonical_axes(axis, len(shape), name)
    if axes is None:
        axes = tuple(range(len(shape)))
    if keepdims:
        return tuple(1 if i in axes else d for i, d in enumerate(shape))
    return tuple(d for i, d in enumerate(shape) if i not in axes)


def window_output(size, window, stride, dilation, padding):
    """Output length of a strided window op ("valid" or "same") over `size` (None stays None)."""
    if size is None:
        return None
    if padding == "same":
        return -(-size // stride)
    span = (window - 1) * dilation + 1
    if size < span:
        return 0
    return (size - span) // stride + 1


# -- the probe fallback ----------------------------------------------------------------------------


def _concrete(value, size):
    if isinstance(value, Variable):
        value = spec(value)
    if isinstance(value, KerasTensor):
        shape = tuple(size if d is None else d for d in value.shape)
        return numpy_backend().zeros(shape, dtype=value.dtype)
    return value


def _describe(args, kwargs):
    parts = [repr(a) if isinstance(a, KerasTensor) else type(a).__name__ for a in args]
    parts += [f"{k}={v!r}" if isinstance(v, KerasTensor) else f"{k}={type(v).__name__}" for k, v in kwargs.items()]
    return ", ".join(parts)


def _run_probe(name, args, kwargs, size):
    concrete_args, concrete_kwargs = tree.map_structure(lambda v: _concrete(v, size), (list(args), dict(kwargs)))
    function = getattr(numpy_backend(), name)
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            return function(*concrete_args, **concrete_kwargs)
    except Exception as error:
        raise ValueError(
            f"Could not infer the output shape of ops.{name} on symbolic inputs ({_describe(args, kwargs)}): "
            f"running it on zero-filled probe arrays (unknown sizes set to {size}) failed with "
            f"{type(error).__name__}: {error}"
        ) from error


def _merge_probe_leaf(first, second, name):
    if isinstance(first, (np.ndarray, np.generic)):
        if np.ndim(first) != np.ndim(second):
            raise ValueError(f"ops.{name}: the output rank depends on the unknown input sizes; it cannot be traced.")
        shape = tuple(a if a == b else None for a, b in zip(np.shape(first), np.shape(second)))
        return KerasTensor(shape, standardize_dtype(first.dtype))
    if first == second:
        return first
    return KerasTensor((), standardize_dtype(np.asarray(first).dtype))


def probe(name, *args, **kwargs):
    """Output spec of `ops.<name>` found by running the NumPy backend on zero-filled probes.

    Unknown (None) sizes are set to 7, then to 11; output sizes that differ between the
    two runs are unknown (None). Raises a `ValueError` naming the op if NumPy fails.
    """
    first = _run_probe(name, args, kwargs, PROBE_SIZES[0])
    if not has_symbolic_none(args, kwargs):
        return tree.map_structure(lambda leaf: _merge_probe_leaf(leaf, leaf, name), first)
    second = _run_probe(name, args, kwargs, PROBE_SIZES[1])
    flat_first, flat_second = tree.flatten(first), tree.flatten(second)
    if len(flat_first) != len(flat_second):
        raise ValueError(f"ops.{name}: the number of outputs depends on the unknown input sizes; it cannot be traced.")
    merged = [_merge_probe_leaf(a, b, name) for a, b in zip(flat_first, flat_second)]
    return tree.pack_sequence_as(first, merged)


def has_symbolic_none(args, kwargs):
    """Whether any KerasTensor among the arguments has an unknown size."""
    for leaf in tree.flatten((list(args), dict(kwargs))):
        if isinstance(leaf, KerasTensor) and None in leaf.shape:
            return True
    return False
