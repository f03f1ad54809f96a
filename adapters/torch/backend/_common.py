"""Shared helpers of the torch backend: dtype maps, input conversion and Keras 3 promotion.

The hot path of every op is a single `isinstance(x, Tensor)`; everything else
(Variables, NumPy arrays, Python scalars and lists) goes through `convert`.
"""

import threading

import numpy as np
import torch

from kbridge import config
from kbridge.backend.dtypes import result_type, standardize_dtype
from kbridge.variables import Variable

Tensor = torch.Tensor


class _DeviceState(threading.local):
    """The device of the module being run (per thread, like `kbridge.backend._state`).

    Tensors made from nothing (constants, `zeros`, `arange`, the random ops' counters) go
    here, so they meet the module's parameters on its device (XLA, CUDA). None: torch's
    default device. A thread-local because torch.compile traces its reads (DESIGN.md invariant 3).
    """

    def __init__(self):
        # Set per thread, with no class attribute: see kbridge/backend/_state.py.
        self.device = None


device_state = _DeviceState()


def default_device():
    """Where tensors without a tensor input are created: the running module's device, or None."""
    return device_state.device


_NAME_TO_TORCH = {
    "bool": torch.bool,
    "uint8": torch.uint8,
    "uint16": torch.uint16,
    "uint32": torch.uint32,
    "uint64": torch.uint64,
    "int8": torch.int8,
    "int16": torch.int16,
    "int32": torch.int32,
    "int64": torch.int64,
    "float16": torch.float16,
    "bfloat16": torch.bfloat16,
    "float32": torch.float32,
    "float64": torch.float64,
    "complex64": torch.complex64,
    "complex128": torch.complex128,
}
DTYPE_NAMES = {value: key for key, value in _NAME_TO_TORCH.items()}
# Keyed by names and by torch dtypes, so the common calls are one dict look-up.
_TO_TORCH = dict(_NAME_TO_TORCH)
_TO_TORCH.update({value: value for value in _NAME_TO_TORCH.values()})

INTLIKE = frozenset({torch.bool, torch.uint8, torch.uint16, torch.uint32, torch.uint64,
                     torch.int8, torch.int16, torch.int32, torch.int64})  # fmt: skip
FLOATS = frozenset({torch.float16, torch.bfloat16, torch.float32, torch.float64})

# Tensor-tensor promotion, precomputed so that compiled code reads a constant table.
_PROMOTE = {
    (a, b): _NAME_TO_TORCH[result_type(DTYPE_NAMES[a], DTYPE_NAMES[b])] for a in DTYPE_NAMES for b in DTYPE_NAMES
}


def to_torch_dtype(dtype):
    """Returns the torch dtype for a dtype name, torch dtype, NumPy dtype or Python type (None: floatx)."""
    found = _TO_TORCH.get(dtype) if dtype is not None else None
    if found is None:
        name = standardize_dtype(dtype)
        found = _NAME_TO_TORCH.get(name)
        if found is None:
            raise TypeError(f"The torch backend does not support dtype {dtype!r}.")
    return found


def floatx():
    """The torch dtype of `kbridge.config.floatx()`."""
    return _NAME_TO_TORCH[config.floatx()]


def promote(d1, d2):
    """Keras 3 result dtype of two torch dtypes."""
    return _PROMOTE[(d1, d2)]


def _leaves(value, out):
    if isinstance(value, (list, tuple)):
        for item in value:
            _leaves(item, out)
    else:
        out.append(value)
    return out


def _python_list_dtype(leaves):
    if not leaves:
        return floatx()
    kinds = {type(leaf) for leaf in leaves}
    if float in kinds:
        return floatx()
    if int in kinds:
        if all(-(2**31) <= leaf < 2**31 for leaf in leaves):
            return torch.int32
        return torch.int64
    return torch.bool


def _contains_tensor(value):
    if isinstance(value, (list, tuple)):
        return any(_contains_tensor(item) for item in value)
    return isinstance(value, (Tensor, Variable))


def _from_numpy(array, device=None):
    kind = array.dtype.kind  # not `.name`: a Python-level property of NumPy dtypes, slower
    if kind == "O":
        raise TypeError(f"Cannot convert an object array to a torch tensor: {array!r}")
    if kind == "V" and array.dtype.name == "bfloat16":
        return torch.from_numpy(array.astype(np.float32)).to(device=device, dtype=torch.bfloat16)
    if kind in "US":
        raise TypeError("The torch backend does not support string tensors.")
    if not array.flags.writeable or not array.flags.c_contiguous:
        array = np.array(array, order="C")
    tensor = torch.from_numpy(array)
    return tensor if device is None else tensor.to(device)


def _python_scalar(x, dtype, device):
    if dtype is None:
        if isinstance(x, bool):
            dtype = torch.bool
        elif isinstance(x, int):
            dtype = torch.int32 if -(2**31) <= x < 2**31 else torch.int64
        elif isinstance(x, float):
            dtype = floatx()
        else:
            dtype = torch.complex64
    return torch.tensor(x, dtype=dtype, device=device)


def convert(x, dtype=None, device=None):
    """Converts anything array-like to a torch tensor (Keras 3 default dtypes); `dtype` is a torch dtype or None.

    New tensors go to `device`, else to `default_device()`; tensors stay where they are.
    """
    if isinstance(x, Tensor):
        return x if dtype is None or x.dtype is dtype else x.to(dtype)
    if device is None:
        device = device_state.device
    if isinstance(x, Variable):
        return convert(x.value, dtype, device)
    if isinstance(x, (bool, int, float, complex)):
        return _python_scalar(x, dtype, device)
    if isinstance(x, (list, tuple)):
        if _contains_tensor(x):
            parts = [convert(item, None, device) for item in x]
            if dtype is None:
                dtype = parts[0].dtype
                for part in parts[1:]:
                    dtype = _PROMOTE[(dtype, part.dtype)]
            return torch.stack([part.to(dtype) for part in parts])
        leaves = _leaves(x, [])
        if all(type(leaf) in _SCALARS for leaf in leaves):
            # Pure Python values: no NumPy on this path, so it traces under torch.compile
            # (seeds and small constants are built this way inside compiled steps).
            if dtype is None:
                dtype = _python_list_dtype(leaves)
            return torch.tensor(x, dtype=dtype, device=device)
        array = np.asarray(x)
        if dtype is None and array.dtype in (np.int64, np.float64, np.complex128):
            # Python scalars in the list are weak (-> int32/floatx); NumPy scalars are not.
            kinds = [leaf.dtype if hasattr(leaf, "dtype") else type(leaf) for leaf in leaves]
            dtype = _NAME_TO_TORCH[result_type(*kinds)]
        elif dtype is None and array.size == 0:
            dtype = floatx()
        tensor = _from_numpy(array, device)
        return tensor if dtype is None else tensor.to(dtype)
    if isinstance(x, (np.ndarray, np.generic)):
        tensor = _from_numpy(np.asarray(x), device)
        return tensor if dtype is None else tensor.to(dtype)
    if hasattr(x, "__array__") or hasattr(x, "__array_interface__"):
        return convert(np.asarray(x), dtype, device)
    raise TypeError(f"Cannot convert {type(x).__name__} to a torch tensor: {x!r}")


def tensor(x):
    """`x` as a tensor with default conversion (cheap for tensors)."""
    return x if isinstance(x, Tensor) else convert(x)


def _scalar_with(tensor_, scalar):
    # A Python scalar next to a tensor is weak (Keras 3); only int/bool tensors need help.
    kind = type(scalar)
    if kind is float and tensor_.dtype in INTLIKE:
        return tensor_.to(floatx())
    if kind is int and tensor_.dtype is torch.bool:
        return tensor_.to(torch.int32)
    return tensor_


def pair(x1, x2):
    """Returns `x1, x2` ready for a torch binary op: both tensors of the Keras 3 result dtype,
    or one tensor of that dtype and a Python scalar."""
    if isinstance(x1, Tensor):
        if isinstance(x2, Tensor):
            d1 = x1.dtype
            d2 = x2.dtype
            if d1 is d2:
                return x1, x2
            dtype = _PROMOTE[(d1, d2)]
            return (x1 if d1 is dtype else x1.to(dtype)), (x2 if d2 is dtype else x2.to(dtype))
        if type(x2) in _SCALARS:
            return _scalar_with(x1, x2), x2
        return pair(x1, convert(x2, device=x1.device))
    if isinstance(x2, Tensor):
        if type(x1) in _SCALARS:
            return x1, _scalar_with(x2, x1)
        return pair(convert(x1, device=x2.device), x2)
    if isinstance(x1, Variable):
        return pair(x1.value, x2)
    if isinstance(x2, Variable):
        return pair(x1, x2.value)
    scalar1 = type(x1) in _SCALARS
    if scalar1 and type(x2) in _SCALARS:
        return torch.tensor(x1, dtype=_NAME_TO_TORCH[result_type(x1, x2)], device=device_state.device), x2
    if scalar1:
        return pair(x1, convert(x2))
    return pair(convert(x1), x2)


_SCALARS = (int, float, bool)


def pair_tensors(x1, x2):
    """Like `pair`, but both results are tensors (for torch ops that need two tensors)."""
    x1, x2 = pair(x1, x2)
    if not isinstance(x1, Tensor):
        x1 = torch.tensor(x1, dtype=x2.dtype, device=x2.device)
    elif not isinstance(x2, Tensor):
        x2 = torch.tensor(x2, dtype=x1.dtype, device=x1.device)
    return x1, x2


def tensors(xs):
    """A list of tensors promoted to one Keras 3 dtype, on the device of the first tensor among them."""
    device = None
    for x in xs:
        if isinstance(x, Tensor):
            device = x.device
            break
    out = [x if isinstance(x, Tensor) else convert(x, device=device) for x in xs]
    if not out:
        return out
    dtype = out[0].dtype
    for item in out[1:]:
        if item.dtype is not dtype:
            dtype = _PROMOTE[(dtype, item.dtype)]
    return [item if item.dtype is dtype else item.to(dtype) for item in out]


def axes_tuple(axis, ndim):
    """`axis` (None, int or sequence) as a tuple of non-negative ints."""
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, int):
        axis = (axis,)
    return tuple(a % ndim if ndim else a for a in axis)


def reduce_dim(axis):
    """`axis` in the form torch reductions take: None, an int or a tuple (never a list)."""
    if axis is None or isinstance(axis, int):
        return axis
    return tuple(axis)


def int_tuple(value, n, name):
    """`value` (int or sequence of n ints) as a tuple of n ints."""
    if isinstance(value, int):
        return (value,) * n
    value = tuple(value)
    if len(value) == 1 and n > 1:
        return value * n
    if len(value) != n:
        raise ValueError(f"`{name}` must be an int or a sequence of {n} ints, received {value!r}")
    return value


def data_format_of(data_format):
    """Resolves `data_format=None` to `kbridge.config.image_data_format()` and validates it."""
    if data_format is None:
        return config.image_data_format()
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(f"`data_format` must be 'channels_last' or 'channels_first', received {data_format!r}")
    return data_format
