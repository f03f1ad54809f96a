"""Dtype names: every dtype is spoken of as a standard string ("float32", "int64", "bool")."""

_ALLOWED = (
    "bool", "uint8", "uint16", "uint32", "uint64", "int8", "int16", "int32", "int64",
    "float16", "bfloat16", "float32", "float64", "complex64", "complex128", "string",
)  # fmt: skip
_PYTHON = {bool: "bool", int: "int64", float: "float32", complex: "complex64", str: "string"}
_ALIASES = {"float": "float32", "double": "float64", "half": "float16", "int": "int64", "long": "int64"}

FLOAT_TYPES = frozenset({"float16", "bfloat16", "float32", "float64"})
INT_TYPES = frozenset({"uint8", "uint16", "uint32", "uint64", "int8", "int16", "int32", "int64"})

_cache = {}


def standardize_dtype(dtype):
    """Returns the standard name of `dtype`: a string, a Python type, a NumPy dtype or a framework dtype.

    `None` gives the default float type (`kbridge.config.floatx()`).
    """
    if dtype is None:
        from kbridge import config

        return config.floatx()
    try:
        hit = _cache.get(dtype)
    except TypeError:
        hit = None
    if hit is not None:
        return hit
    if dtype in _PYTHON:
        name = _PYTHON[dtype]
    elif isinstance(dtype, type):
        # NumPy scalar types (np.float32) and ml_dtypes types (bfloat16).
        name = dtype.__name__
        name = {"bool_": "bool", "str_": "string"}.get(name, name)
    else:
        name = getattr(dtype, "name", None)
        if not isinstance(name, str):
            # torch.float32 prints as "torch.float32"; a DTypePolicy has no usable .name here.
            name = str(dtype).rpartition(".")[2]
        name = _ALIASES.get(name, name)
        if name == "str" or name.startswith("<U"):
            name = "string"
    if name not in _ALLOWED:
        raise ValueError(f"Invalid dtype: {dtype!r}. Expected one of {_ALLOWED}.")
    try:
        _cache[dtype] = name
    except TypeError:
        pass
    return name


def is_float_dtype(dtype):
    """Whether `dtype` is a floating-point dtype."""
    return standardize_dtype(dtype) in FLOAT_TYPES


def is_int_dtype(dtype):
    """Whether `dtype` is an (unsigned) integer dtype."""
    return standardize_dtype(dtype) in INT_TYPES


# Promotion follows Keras 3 (a JAX-like lattice): Python scalars are "weak" and
# take the tensor's kind; ints meeting floats become the float; float64 never
# appears unless a float64 tensor is involved.
_ORDER = ["bool", "uint8", "uint16", "uint32", "uint64", "int8", "int16", "int32", "int64",
          "bfloat16", "float16", "float32", "float64", "complex64", "complex128"]  # fmt: skip
_RANK = {name: index for index, name in enumerate(_ORDER)}
_UNSIGNED_TO_SIGNED = {"uint8": "int16", "uint16": "int32", "uint32": "int64", "uint64": "int64"}


def _kind(name):
    if name == "bool":
        return 0
    if name in INT_TYPES:
        return 1
    if name in FLOAT_TYPES:
        return 2
    return 3


def _promote_pair(a, b):
    if a == b:
        return a
    ka, kb = _kind(a), _kind(b)
    if ka != kb:
        return a if ka > kb else b
    if ka == 1:
        ua, ub = a.startswith("u"), b.startswith("u")
        if ua != ub:
            unsigned, signed = (a, b) if ua else (b, a)
            widened = _UNSIGNED_TO_SIGNED[unsigned]
            return widened if _RANK[widened] > _RANK[signed] else signed
        return a if _RANK[a] > _RANK[b] else b
    if {a, b} == {"bfloat16", "float16"}:
        return "float32"
    return a if _RANK[a] > _RANK[b] else b


_WEAK = (int, float, bool, complex)


def result_type(*dtypes):
    """Returns the dtype an op on arguments of `dtypes` produces (Keras 3 rules).

    Each entry is a dtype (name or object) or a Python scalar type / value
    (`int`, `float`, `bool`, `3`, `2.0`), which is weak: `int32` with `float`
    gives `floatx()`, `float16` with `float` stays `float16`.
    """
    from kbridge import config

    strong = []
    weak = []
    for dtype in dtypes:
        # Identity, not ==: NumPy dtypes compare equal to Python types (np.dtype("float64") == float).
        if any(dtype is t for t in _WEAK) or type(dtype) in _WEAK:
            weak.append(dtype if isinstance(dtype, type) else type(dtype))
        else:
            strong.append(standardize_dtype(dtype))
    if not strong:
        if complex in weak:
            return "complex64"
        if float in weak:
            return config.floatx()
        if int in weak:
            return "int32"
        return "bool" if weak else config.floatx()
    result = strong[0]
    for dtype in strong[1:]:
        result = _promote_pair(result, dtype)
    kind = _kind(result)
    if complex in weak and kind < 3:
        result = "complex128" if result == "float64" else "complex64"
    elif float in weak and kind < 2:
        result = config.floatx()
    elif int in weak and kind == 0:
        result = "int32"
    return result
