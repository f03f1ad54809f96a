"""Shared helpers of the feature preprocessing layers: output encodings and argument checks."""

import numpy as np

from kbridge import ops
from kbridge.backend import registry
from kbridge.variables import Variable

OUTPUT_MODES = ("int", "one_hot", "multi_hot", "count")


def layer_error(layer, message, cls=ValueError):
    """An error naming the layer as `Layer "name" (ClassName) ...`."""
    return cls(f'Layer "{layer.name}" ({type(layer).__name__}) {message}')


def check_output_mode(layer, output_mode, allowed):
    """`"binary"` -> `"multi_hot"` and `"tf-idf"` -> `"tf_idf"` (Keras's aliases); validates the rest."""
    output_mode = {"binary": "multi_hot", "tf-idf": "tf_idf"}.get(output_mode, output_mode)
    if output_mode not in allowed:
        raise layer_error(layer, f"expects `output_mode` in {allowed}. Received: output_mode={output_mode!r}")
    return output_mode


def check_not_sparse(layer, sparse):
    """kbridge has no sparse tensors: `sparse=True` is refused (Keras refuses it on most backends too)."""
    if sparse:
        raise layer_error(layer, "cannot produce sparse outputs: kbridge has no sparse tensors. Received: sparse=True")


def encode(indices, output_mode, depth, dtype, count_weights=None):
    """Encodes integer `indices` as Keras 3's categorical outputs, with `kbridge.ops`.

    "int" casts. "one_hot" adds a `depth` axis (a trailing axis of size 1 is replaced). "multi_hot"
    and "count" reduce axis 1 of inputs of rank >= 2 (a rank-1 input is one sample), as Keras 3 does.
    Indices outside `[0, depth)` (masked or out-of-vocabulary sentinels) encode to zeros on every
    backend, where native one-hot ops disagree.
    """
    if output_mode == "int":
        return ops.cast(indices, dtype)
    shape = ops.shape(indices)
    if len(shape) == 0:
        indices = ops.expand_dims(indices, -1)
        shape = (1,)
    if output_mode == "one_hot" and len(shape) > 1 and shape[-1] == 1:
        indices = ops.squeeze(indices, -1)
    valid = ops.logical_and(ops.greater_equal(indices, 0), ops.less(indices, depth))
    safe = ops.where(valid, indices, ops.zeros_like(indices))
    weights_dtype = dtype if count_weights is None else ops.dtype(count_weights)
    encoded = ops.multiply(
        ops.one_hot(safe, depth, dtype=weights_dtype), ops.expand_dims(ops.cast(valid, weights_dtype), -1)
    )
    if output_mode == "one_hot":
        return encoded
    if count_weights is not None:
        encoded = ops.multiply(encoded, ops.expand_dims(ops.cast(count_weights, weights_dtype), -1))
    axis = 1 if len(shape) > 1 else 0
    if output_mode == "multi_hot":
        return ops.max(encoded, axis=axis)
    return ops.sum(encoded, axis=axis)


def encoded_shape(input_shape, output_mode, depth):
    """The shape `encode` returns for inputs of `input_shape`."""
    input_shape = tuple(input_shape)
    if output_mode == "int":
        return input_shape
    if not input_shape:
        return (depth,)
    if output_mode == "one_hot":
        if len(input_shape) > 1 and input_shape[-1] == 1:
            return input_shape[:-1] + (depth,)
        return input_shape + (depth,)
    if len(input_shape) == 1:
        return (depth,)
    return (input_shape[0],) + input_shape[2:] + (depth,)


def plain(value):
    """NumPy arrays/scalars -> lists/Python scalars, for configs."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value


def host_array(inputs):
    """Any input (NumPy array, list, scalar, tensor of any backend) -> NumPy array, on the host."""
    if isinstance(inputs, (np.ndarray, list, tuple, str, bytes, int, float, np.generic)):
        return np.asarray(inputs)
    if isinstance(inputs, Variable):
        inputs = inputs.value
    owner = registry.backend_of_type(type(inputs))
    if owner is None:
        return np.asarray(inputs)
    return np.asarray(owner.convert_to_numpy(inputs))


def host_strings(layer, inputs, encoding="utf-8"):
    """Inputs of strings (str/bytes/object arrays, lists) -> a NumPy `str` array; bytes are decoded."""
    array = host_array(inputs)
    if array.dtype.kind == "S":
        return np.char.decode(array, encoding)
    if array.dtype.kind == "O":
        flat = [x.decode(encoding) if isinstance(x, bytes) else x for x in array.ravel().tolist()]
        if not all(isinstance(x, str) for x in flat):
            other = next(type(x).__name__ for x in flat if not isinstance(x, str))
            raise layer_error(layer, f"expects string inputs. Received an object array holding {other}", TypeError)
        return np.array(flat, dtype=str).reshape(array.shape) if flat else array.astype(str)
    if array.dtype.kind != "U":
        raise layer_error(layer, f"expects string inputs. Received inputs of dtype {array.dtype}", TypeError)
    return array
