"""`OpLayer`: a `kbridge.ops` call on KerasTensors recorded as a layer of a Functional graph."""

from kbridge.layers.layer import Layer
from kbridge.utils import naming


def _op(op_name):
    from kbridge import ops

    if op_name not in ops.OP_NAMES:
        raise ValueError(f"OpLayer: unknown op {op_name!r}; expected one of kbridge.ops.OP_NAMES.")
    return getattr(ops, op_name)


def _camel(op_name):
    return "".join(part.capitalize() for part in op_name.split("_"))  # "log1p" -> "Log1p"


# Ops whose Keras 3 operation class takes no constructor arguments (tensors and constants are
# call arguments): an OpLayer of one of these is written as Keras writes it, so a Functional
# model that uses `x * 0.5`, `x[:, :2]` or `ops.tanh(x)` at top level loads in Keras 3 too.
_NUMPY_OPS = (
    "add", "subtract", "multiply", "divide", "true_divide", "floor_divide", "mod", "power", "negative", "matmul",
    "absolute", "exp", "log", "sqrt", "square", "tanh", "sin", "cos", "maximum", "minimum", "sign", "floor",
    "ceil", "log1p", "expm1", "reciprocal", "equal", "not_equal", "greater", "greater_equal", "less", "less_equal",
    "logical_and", "logical_or", "logical_not",
)  # fmt: skip
_KERAS_OP_CLASSES = {
    **{name: ("keras.src.ops.numpy", _camel(name)) for name in _NUMPY_OPS},
    "abs": ("keras.src.ops.numpy", "Absolute"),
    "getitem": ("keras.src.ops.numpy", "GetItem"),
    **{name: ("keras.src.ops.nn", _camel(name)) for name in ("relu", "sigmoid", "softplus", "silu")},
}


class OpLayer(Layer):
    """Applies `kbridge.ops.<op_name>(*args, **op_kwargs, **kwargs)`.

    Created when an op is called on KerasTensors at top level (`x + 1`,
    `ops.concatenate([a, b], axis=1)`). Arguments that are not tensors are kept
    in the graph node as constants. Serializes by op name.

    Args:
        op_name: a name in `kbridge.ops.OP_NAMES`, e.g. "add".
        op_kwargs: fixed keyword arguments of the op (from Keras op configs
            such as `Concatenate(axis=1)`).
        name: the layer name (default: the op name, made unique).
    """

    def __init__(self, op_name, op_kwargs=None, name=None, **kwargs):
        kwargs.pop("trainable", None)
        kwargs.pop("dtype", None)
        self._fn = _op(op_name)
        super().__init__(name=name or naming.uniquify(op_name), **kwargs)
        self.op_name = op_name
        self.op_kwargs = dict(op_kwargs or {})

    def call(self, *args, **kwargs):
        if self.op_kwargs:
            kwargs = {**self.op_kwargs, **kwargs}
        if self.op_name == "getitem" and len(args) == 2 and _is_index_tuple_list(args[1]):
            # JSON turns an index tuple such as `[:, :2]` into a list: restore it.
            args = (args[0], tuple(args[1]))
        return self._fn(*args, **kwargs)

    def get_config(self):
        """Returns `{"name", "op_name"}` (plus `op_kwargs` when set)."""
        config = {"name": self.name, "op_name": self.op_name}
        if self.op_kwargs:
            config["op_kwargs"] = dict(self.op_kwargs)
        return config

    @classmethod
    def from_config(cls, config):
        """Creates the layer from `get_config()` output."""
        return cls(**config)

    def keras_op_class(self):
        """`(module, class name)` of the Keras 3 operation this layer is saved as, or None
        (then it is saved as `kbridge.ops.OpLayer`, which only kbridge reads)."""
        return None if self.op_kwargs else _KERAS_OP_CLASSES.get(self.op_name)

    def __repr__(self):
        return f"<OpLayer op={self.op_name} name={self.name}>"


def _is_index_tuple_list(key):
    return isinstance(key, list) and any(k is None or k is Ellipsis or isinstance(k, slice) for k in key)


def op_name_for_keras_class(class_name):
    """Maps a Keras 3 op class name ("Add", "Concatenate") to a kbridge op name, or None."""
    from kbridge import ops

    wanted = class_name.replace("_", "").lower()
    for op_name in ops.OP_NAMES:
        if op_name.replace("_", "").lower() == wanted:
            return op_name
    return None
