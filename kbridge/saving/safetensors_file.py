"""Model weights as `.safetensors` files keyed by the structural variable paths.

The keys are `model.named_variables()` paths, so they equal the torch adapter's
`state_dict()` keys (buffers such as BatchNormalization statistics and seed state
included) and the JAX pytree keys: a file written here loads with
`safetensors.torch.load_file` into the module `to_module(model)` builds, and back.

The format: an 8-byte little-endian header length N, N bytes of JSON
`{name: {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {str: str}}`,
then the tensors' little-endian bytes, offsets relative to the end of the header.
Read and written here with NumPy and the standard library only; bfloat16 travels as
its uint16 bit pattern, so reading needs no `ml_dtypes`.
"""

import collections
import json
import os
import struct

import numpy as np

from kbridge.backend import dtypes
from kbridge.saving._atomic import atomic_write

__all__ = ["LoadResult", "load_safetensors", "read_safetensors", "save_safetensors"]

# safetensors dtype tag -> kbridge dtype name.
_FROM_TAG = {
    "F64": "float64", "F32": "float32", "F16": "float16", "BF16": "bfloat16",
    "I64": "int64", "I32": "int32", "I16": "int16", "I8": "int8",
    "U64": "uint64", "U32": "uint32", "U16": "uint16", "U8": "uint8", "BOOL": "bool", "C64": "complex64",
}  # fmt: skip
_TO_TAG = {name: tag for tag, name in _FROM_TAG.items()}
# How each dtype's bytes are laid out in the file (bfloat16 as raw uint16 bits).
_STORED = {name: np.dtype("<u2" if name == "bfloat16" else name).newbyteorder("<") for name in _TO_TAG}
# Real files have headers of kilobytes; this bounds what a corrupt length can make us allocate.
_MAX_HEADER = 100 * 1024 * 1024

LoadResult = collections.namedtuple("LoadResult", ["missing_keys", "unexpected_keys"])
LoadResult.__doc__ = """Keys the file lacked and keys the model lacked, like torch's `load_state_dict` result."""


def save_safetensors(model, filepath, metadata=None):
    """Saves every variable of `model` to a `.safetensors` file keyed by its structural path.

    Args:
        model: a built kbridge Layer or Model.
        filepath: where to write; the write is atomic (an existing file is replaced
            only once the new one is complete on disk).
        metadata: optional dict of str -> str stored as the header's `__metadata__`.

    Raises:
        ValueError: the model is unbuilt, or a variable has a dtype safetensors cannot store.
        TypeError: `metadata` is not a dict of strings.
    """
    filepath = os.fspath(filepath)
    _check_built(model, "saving")
    if metadata is not None and (
        not isinstance(metadata, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items())
    ):
        raise TypeError(f"save_safetensors: `metadata` must be a dict of str to str. Received: {metadata!r}")
    header = {} if metadata is None else {"__metadata__": dict(metadata)}
    chunks = []
    offset = 0
    # Read every value before touching the disk: a failing read leaves the old file alone.
    for path, variable in _named_variables(model):
        name = dtypes.standardize_dtype(variable.dtype)
        if name not in _TO_TAG:
            raise ValueError(
                f"save_safetensors: variable {path} has dtype {name}, which safetensors cannot store. "
                f"Supported: {sorted(_TO_TAG)}."
            )
        array = np.ascontiguousarray(variable.numpy())
        if name == "bfloat16":
            array = _bfloat16_bits(array)
        data = array.astype(_STORED[name], copy=False).tobytes()
        header[path] = {"dtype": _TO_TAG[name], "shape": list(array.shape), "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)  # the tensor data starts 8-byte aligned, as safetensors writes it

    def write(file):
        file.write(struct.pack("<Q", len(text)))
        file.write(text)
        for data in chunks:
            file.write(data)

    atomic_write(filepath, write)


def load_safetensors(model, filepath, strict=True):
    """Loads a `.safetensors` file (kbridge's, or a torch `state_dict` saved by `safetensors`) into `model`.

    Every tensor is checked before any variable changes: a failed load leaves the model as it was.
    A floating tensor is cast to its variable's floating dtype; any other dtype must match exactly.
    Shape and dtype mismatches raise in both modes (as torch's `load_state_dict` does).

    Args:
        model: a built kbridge Layer or Model of the architecture the file was saved from.
        filepath: the `.safetensors` file.
        strict: if True, the file's keys must equal the model's variable paths.

    Returns:
        `LoadResult(missing_keys, unexpected_keys)`: model paths absent from the file and
        file keys the model does not have (both empty under `strict=True`).

    Raises:
        ValueError: a malformed file (naming the file and the tensor), missing or unexpected
            keys under `strict`, or a shape/dtype mismatch (naming the path, expected and received).
        FileNotFoundError: the file does not exist.
    """
    filepath = os.fspath(filepath)
    _check_built(model, "loading weights into")
    tensors = read_safetensors(filepath)[0]
    variables = dict(_named_variables(model))
    missing = [path for path in variables if path not in tensors]
    unexpected = [key for key in tensors if key not in variables]
    problems = []
    if strict and missing:
        problems.append(f"missing keys (in the model, not in the file): {missing}")
    if strict and unexpected:
        problems.append(f"unexpected keys (in the file, not in the model): {unexpected}")
    assignments = []
    for path, variable in variables.items():
        if path not in tensors:
            continue
        stored, array = tensors[path]
        expected = dtypes.standardize_dtype(variable.dtype)
        if tuple(array.shape) != tuple(variable.shape):
            problems.append(
                f"{path}: shape mismatch, expected {tuple(variable.shape)} (model), received {tuple(array.shape)} (file)"
            )
        elif stored != expected and not (stored in dtypes.FLOAT_TYPES and expected in dtypes.FLOAT_TYPES):
            problems.append(
                f"{path}: dtype mismatch, expected {expected} (model), received {stored} (file); "
                "only floating dtypes are cast"
            )
        else:
            assignments.append((variable, _converted(stored, array, expected)))
    if problems:
        raise ValueError(
            f'Could not load {filepath} into model "{model.name}"; nothing was changed:\n  ' + "\n  ".join(problems)
        )
    _assign_all(assignments)
    return LoadResult(missing, unexpected)


def read_safetensors(filepath):
    """Reads and validates a `.safetensors` file.

    Args:
        filepath: the file.

    Returns:
        `(tensors, metadata)`: `tensors` maps each key to `(dtype name, NumPy array)` in file
        order (a bfloat16 array holds the uint16 bit patterns); `metadata` is the
        `__metadata__` dict (empty when absent).

    Raises:
        ValueError: the file is truncated, its header is not valid JSON of the expected form,
            a dtype is unknown, or the offsets are out of range, overlap, leave gaps or
            disagree with dtype x shape.
        FileNotFoundError: the file does not exist.
    """
    filepath = os.fspath(filepath)
    if not os.path.isfile(filepath):
        raise FileNotFoundError(f"No safetensors file found at {filepath!r}.")
    with open(filepath, "rb") as file:
        buffer = bytearray(os.fstat(file.fileno()).st_size)
        size = file.readinto(buffer)
    del buffer[size:]
    if size < 8:
        raise ValueError(f"{filepath}: not a safetensors file; {size} bytes is shorter than the 8-byte header length.")
    (length,) = struct.unpack("<Q", bytes(buffer[:8]))
    if length > size - 8:
        raise ValueError(
            f"{filepath}: truncated or corrupt; the header length {length} runs past the end of the file "
            f"({size} bytes)."
        )
    if length > _MAX_HEADER:
        raise ValueError(f"{filepath}: corrupt; a header length of {length} bytes exceeds the {_MAX_HEADER} allowed.")
    try:
        header = json.loads(bytes(buffer[8 : 8 + length]).decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        raise ValueError(f"{filepath}: the header is not valid JSON ({error}).") from None
    if not isinstance(header, dict):
        raise ValueError(f"{filepath}: the header must be a JSON object, received {type(header).__name__}.")
    metadata = header.pop("__metadata__", {})
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise ValueError(f"{filepath}: `__metadata__` must be an object of strings, received {metadata!r}.")
    data_start = 8 + length
    data_size = size - data_start
    entries = [(key, *_parse_entry(filepath, key, info)) for key, info in header.items()]
    _check_layout(filepath, entries, data_size)
    tensors = {}
    for key, name, shape, (begin, end) in entries:
        count = (end - begin) // _STORED[name].itemsize
        array = np.frombuffer(buffer, dtype=_STORED[name], count=count, offset=data_start + begin)
        if name == "bool" and count and array.view(np.uint8).max() > 1:
            raise ValueError(f"{filepath}: tensor {key!r}: a BOOL tensor holds bytes other than 0 and 1.")
        tensors[key] = (name, array.reshape(shape).astype(_STORED[name].newbyteorder("="), copy=False))
    return tensors, metadata


# -- reading checks ----------------------------------------------------------------------------


def _parse_entry(filepath, key, info):
    where = f"{filepath}: tensor {key!r}"
    if not isinstance(info, dict) or set(info) != {"dtype", "shape", "data_offsets"}:
        raise ValueError(f"{where}: expected an object with keys dtype, shape, data_offsets; received {info!r}.")
    tag, shape, offsets = info["dtype"], info["shape"], info["data_offsets"]
    if tag not in _FROM_TAG:
        raise ValueError(f"{where}: unsupported dtype {tag!r}; expected one of {sorted(_FROM_TAG)}.")
    if not isinstance(shape, list) or not all(type(d) is int and d >= 0 for d in shape):
        raise ValueError(f"{where}: shape must be a list of non-negative ints, received {shape!r}.")
    if (
        not isinstance(offsets, list)
        or len(offsets) != 2
        or not all(type(o) is int for o in offsets)
        or not 0 <= offsets[0] <= offsets[1]
    ):
        raise ValueError(f"{where}: data_offsets must be [begin, end] with 0 <= begin <= end, received {offsets!r}.")
    name = _FROM_TAG[tag]
    expected = int(np.prod(shape, dtype=object)) * _STORED[name].itemsize
    if offsets[1] - offsets[0] != expected:
        raise ValueError(
            f"{where}: data_offsets {offsets} span {offsets[1] - offsets[0]} bytes, but dtype {tag} x shape "
            f"{shape} needs {expected}."
        )
    return name, tuple(shape), tuple(offsets)


def _check_layout(filepath, entries, data_size):
    """The buffers must tile the data section exactly: in range, no overlap, no gap."""
    for key, _, _, (begin, end) in entries:
        if end > data_size:
            raise ValueError(
                f"{filepath}: tensor {key!r}: data_offsets [{begin}, {end}] are out of range; the data section "
                f"has {data_size} bytes (truncated file?)."
            )
    position, previous = 0, None
    for key, _, _, (begin, end) in sorted(entries, key=lambda e: (e[3], e[0])):
        if begin < position:
            raise ValueError(
                f"{filepath}: tensor {key!r}: data_offsets [{begin}, {end}] overlap tensor {previous!r} "
                f"(which ends at {position})."
            )
        if begin > position:
            raise ValueError(f"{filepath}: tensor {key!r}: a gap of {begin - position} bytes precedes its data.")
        position, previous = end, key
    if position != data_size:
        raise ValueError(
            f"{filepath}: the data section has {data_size} bytes but the tensors cover {position}; "
            "trailing bytes belong to no tensor."
        )


# -- loading helpers ---------------------------------------------------------------------------


def _converted(stored, array, expected):
    """The file's array as something `Variable.assign` stores exactly in dtype `expected`."""
    if stored == "bfloat16":
        # bfloat16 is the top half of a float32: widening is exact.
        array = (array.astype(np.uint32) << 16).view(np.float32)
        stored = "float32"
    if stored == expected or expected == "bfloat16":
        return array  # the backend rounds to bfloat16 itself
    return array.astype(expected)


def _bfloat16_bits(array):
    if array.dtype.name == "bfloat16":
        return array.view(np.uint16)
    # Some backends (torch) hand bfloat16 out as float32; its low 16 bits are zero, so this is exact.
    return (array.astype(np.float32).view(np.uint32) >> 16).astype(np.uint16)


def _assign_all(assignments):
    # Checks passed, so assign cannot fail on shape or dtype; a backend failure
    # (out of device memory) still must not leave a half-loaded model.
    previous = [(variable, variable.numpy()) for variable, _ in assignments]
    try:
        for variable, array in assignments:
            variable.assign(array)
    except BaseException:
        for variable, value in previous:
            variable.assign(value)
        raise


def _named_variables(model):
    pairs = model.named_variables()
    paths = [path for path, _ in pairs]
    if len(set(paths)) != len(paths):
        duplicates = sorted({p for p in paths if paths.count(p) > 1})
        raise ValueError(f'Model "{model.name}": several variables share the paths {duplicates}.')
    return pairs


def _check_built(model, action):
    if not getattr(model, "built", False):
        raise ValueError(
            f"You are {action} a model that has not yet been built ({getattr(model, 'name', model)!r}). "
            "Build it first by calling it on some data or with `build()`."
        )
