"""`kbridge.activations`: Keras 3's activation functions, `get`, `serialize` and `deserialize`."""

import types

from kbridge.activations.activations import (
    celu,
    elu,
    exponential,
    gelu,
    glu,
    hard_shrink,
    hard_sigmoid,
    hard_silu,
    hard_swish,
    hard_tanh,
    leaky_relu,
    linear,
    log_sigmoid,
    log_softmax,
    mish,
    relu,
    relu6,
    selu,
    sigmoid,
    silu,
    soft_shrink,
    softmax,
    softplus,
    softsign,
    sparse_plus,
    sparse_sigmoid,
    sparsemax,
    squareplus,
    swish,
    tanh,
    tanh_shrink,
    threshold,
)
from kbridge.initializers._objects import deserialize_object, is_builtin, registered_name, unknown

ALL_OBJECTS = (
    relu, leaky_relu, relu6, softmax, celu, elu, selu, softplus, softsign, squareplus, soft_shrink,
    sparse_plus, silu, gelu, glu, tanh, tanh_shrink, threshold, sigmoid, sparse_sigmoid, exponential,
    hard_sigmoid, hard_silu, hard_tanh, hard_shrink, linear, mish, log_softmax, log_sigmoid, sparsemax,
)  # fmt: skip
ALL_OBJECTS_DICT = {fn.__name__: fn for fn in ALL_OBJECTS}
ALL_OBJECTS_DICT["swish"] = silu
ALL_OBJECTS_DICT["hard_swish"] = hard_silu
_BUILTIN_IDS = {id(fn) for fn in ALL_OBJECTS}


def serialize(activation):
    """Returns the Keras 3 serialized form: the name for built-ins, else a config dict.

    Raises:
        ValueError: for a function that cannot be named (a lambda).
    """
    if activation is None:
        return None
    if id(activation) in _BUILTIN_IDS:
        return activation.__name__
    if isinstance(activation, types.FunctionType):
        if activation.__name__ == "<lambda>":
            raise ValueError(
                f"Unknown activation function '{activation}' cannot be serialized: give it a name with `def` "
                "and register it with `register_keras_serializable()`."
            )
        name = registered_name(activation)
        return {"module": activation.__module__, "class_name": "function", "config": name, "registered_name": name}
    if hasattr(activation, "get_config"):
        cls = type(activation)
        return {
            "module": cls.__module__,
            "class_name": cls.__name__,
            "config": activation.get_config(),
            "registered_name": None if is_builtin(cls) else registered_name(cls),
        }
    raise ValueError(f"Unknown activation function '{activation}' cannot be serialized.")


def deserialize(config, custom_objects=None):
    """Returns the activation for a name or a serialized dict (see `serialize`)."""
    if isinstance(config, dict) and config.get("class_name") == "function":
        name = config.get("registered_name") or config.get("config")
        if config.get("module") == "builtins":
            name = config.get("config")
        config = name
    if isinstance(config, str):
        # Functions are returned as they are (no instantiation).
        from kbridge.initializers._objects import registry_lookup

        found = registry_lookup(config, custom_objects) or ALL_OBJECTS_DICT.get(config)
        if found is None:
            raise unknown("activation", config, ALL_OBJECTS_DICT)
        return found
    return deserialize_object(config, ALL_OBJECTS_DICT, "activation", custom_objects)


def get(identifier):
    """Returns an activation function from None (linear), a name, a config dict or a callable.

    Raises:
        ValueError: unknown name (the message lists the valid ones) or a non-callable.
    """
    if identifier is None:
        return linear
    if isinstance(identifier, (str, dict)):
        obj = deserialize(identifier)
    else:
        obj = identifier
    if callable(obj):
        return obj
    raise ValueError(f"Could not interpret activation function identifier: {identifier!r}")


__all__ = sorted(ALL_OBJECTS_DICT) + ["deserialize", "get", "serialize"]
