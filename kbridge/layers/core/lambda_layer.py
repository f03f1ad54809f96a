"""`Lambda`: wraps a function of tensors as a layer.

Its config stores the function as Keras 3 does: a named function by name (module and
registered name), a Python lambda as marshalled bytecode. Loading bytecode executes
code from the file, so `from_config` refuses it in safe mode (the default); named
functions must be registered or passed in `custom_objects`.
"""

import builtins
import codecs
import inspect
import marshal
import types

from kbridge import activations
from kbridge.backend import dispatch
from kbridge.initializers._objects import registered_name, registry_lookup
from kbridge.layers._base import layer_config
from kbridge.layers.layer import Layer
from kbridge.saving.safe_mode import in_safe_mode
from kbridge.symbolic import tracing
from kbridge.symbolic.keras_tensor import KerasTensor
from kbridge.utils import tree

_LAMBDA_SAFE_MODE_ERROR = (
    "Requested the deserialization of a `Lambda` layer whose `function` is a Python lambda. This carries a "
    "potential risk of arbitrary code execution and thus it is disallowed by default. If you trust the source "
    "of the artifact, you can override this error by passing `safe_mode=False` to the loading function, or "
    "calling `kbridge.config.enable_unsafe_deserialization()`."
)


class Lambda(Layer):
    """Calls `function(inputs, **arguments)` (plus `mask`/`training` if it takes them).

    Args:
        function: the function to wrap.
        output_shape: output shape without the batch axis, or a function of the
            input shape; None infers it by tracing `function` symbolically.
        mask: a mask to return from `compute_mask`, or a function `(inputs, mask) -> mask`.
        arguments: extra keyword arguments for `function`.
        **kwargs: base `Layer` arguments.
    """

    def __init__(self, function, output_shape=None, mask=None, arguments=None, **kwargs):
        super().__init__(**kwargs)
        if not callable(function):
            raise ValueError(f"Lambda: `function` must be callable, received {function!r}")
        self.arguments = arguments or {}
        self.function = function
        self.supports_masking = mask is not None
        self.mask = mask
        self._output_shape = output_shape
        params = _parameter_names(function)
        self._fn_expects_training_arg = "training" in params
        self._fn_expects_mask_arg = "mask" in params

    def build(self, input_shape):
        # Nothing to create; the step records the input shape (Keras's `build_config`).
        pass

    def call(self, inputs, mask=None, training=None):
        kwargs = dict(self.arguments)
        if self._fn_expects_mask_arg:
            kwargs["mask"] = mask
        if self._fn_expects_training_arg:
            kwargs["training"] = training
        return self.function(inputs, **kwargs)

    def compute_output_shape(self, input_shape):
        if self._output_shape is None:
            inputs = _map_shapes(lambda s: KerasTensor(s, dtype=self.compute_dtype), input_shape)
            outputs = tracing.compute_output_spec(self.call, self._backend or dispatch.current_backend(), inputs)
            return tree.map_structure(lambda x: x.shape, outputs)
        if callable(self._output_shape):
            return self._output_shape(input_shape)
        batch_size = tree.flatten(input_shape)[0] if not _is_shape(input_shape) else input_shape[0]
        return _map_shapes(lambda s: (batch_size,) + tuple(s), self._output_shape)

    def compute_output_spec(self, inputs, mask=None, training=None):
        if self._output_shape is None:
            return self.call(inputs, mask=mask, training=training)
        shapes = self.compute_output_shape(tree.map_structure(lambda x: x.shape, inputs))
        return _map_shapes(lambda s: KerasTensor(s, dtype=self.compute_dtype), shapes)

    def compute_mask(self, inputs, mask=None):
        """The `mask` argument: called with `(inputs, mask)` if callable, else returned."""
        if callable(self.mask):
            return self.mask(inputs, mask)
        return self.mask

    def get_config(self):
        config = {"function": _serialize_function(self.function)}
        if self._output_shape is not None:
            shape = self._output_shape
            config["output_shape"] = _serialize_function(shape) if callable(shape) else shape
        if self.mask is not None:
            config["mask"] = _serialize_function(self.mask) if callable(self.mask) else self.mask
        config["arguments"] = dict(self.arguments)
        return layer_config(self, **config)

    @classmethod
    def from_config(cls, config, custom_objects=None, safe_mode=None):
        """Recreates the layer; refuses Python-lambda bytecode in safe mode.

        Raises:
            ValueError: a lambda in safe mode, or a named function that is neither
                registered, in `custom_objects`, nor a built-in activation.
        """
        safe = in_safe_mode() if safe_mode is None else bool(safe_mode)
        config = dict(config)
        config["function"] = _deserialize_function(config["function"], custom_objects, safe)
        shape = config.get("output_shape")
        if isinstance(shape, dict):
            config["output_shape"] = _deserialize_function(shape, custom_objects, safe)
        elif isinstance(shape, list) and _is_shape(shape):
            config["output_shape"] = tuple(shape)
        mask = config.get("mask")
        if isinstance(mask, dict) and mask.get("class_name") in ("__lambda__", "function"):
            config["mask"] = _deserialize_function(mask, custom_objects, safe)
        return super().from_config(config)


def _parameter_names(function):
    try:
        return set(inspect.signature(function).parameters)
    except (TypeError, ValueError):
        return set()


def _is_shape(value):
    return isinstance(value, (tuple, list)) and all(d is None or isinstance(d, int) for d in value)


def _map_shapes(fn, shapes):
    if _is_shape(shapes):
        return fn(tuple(shapes))
    if isinstance(shapes, dict):
        return {k: _map_shapes(fn, v) for k, v in shapes.items()}
    return type(shapes)(_map_shapes(fn, s) for s in shapes)


_BUILTIN_ACTIVATIONS = {id(fn): name for name, fn in activations.ALL_OBJECTS_DICT.items()}


def _serialize_function(fn):
    if isinstance(fn, types.LambdaType) and fn.__name__ == "<lambda>":
        code = codecs.encode(marshal.dumps(fn.__code__), "base64").decode("ascii")
        closure = tuple(cell.cell_contents for cell in fn.__closure__) if fn.__closure__ else None
        return {"class_name": "__lambda__", "config": {"code": code, "defaults": fn.__defaults__, "closure": closure}}
    if id(fn) in _BUILTIN_ACTIVATIONS:
        name = _BUILTIN_ACTIVATIONS[id(fn)]
        return {"module": "keras.activations", "class_name": "function", "config": name, "registered_name": name}
    if isinstance(fn, types.FunctionType):
        name = registered_name(fn)
        return {"module": fn.__module__, "class_name": "function", "config": name, "registered_name": name}
    if hasattr(fn, "get_config"):
        cls = type(fn)
        return {"module": cls.__module__, "class_name": cls.__name__, "config": fn.get_config(),
                "registered_name": registered_name(cls)}  # fmt: skip
    raise ValueError(f"Invalid input type for serialization. Received: {fn} of type {type(fn)}.")


def _deserialize_function(config, custom_objects, safe):
    if callable(config):
        return config
    if isinstance(config, dict) and config.get("class_name") == "__lambda__":
        if safe:
            raise ValueError(_LAMBDA_SAFE_MODE_ERROR)
        return _load_lambda(config["config"])
    if isinstance(config, str):
        names, module = [config], None
    elif isinstance(config, dict) and config.get("class_name") == "function":
        names, module = [config.get("registered_name"), config.get("config")], config.get("module") or ""
    elif isinstance(config, dict) and "class_name" in config:
        cls = registry_lookup(config.get("registered_name"), custom_objects) or registry_lookup(
            config["class_name"], custom_objects
        )
        if cls is None:
            raise ValueError(_not_found(config["class_name"], config))
        return cls.from_config(config.get("config") or {})
    else:
        raise ValueError(f"Lambda: cannot deserialize function from {config!r}")
    for name in names:
        found = registry_lookup(name, custom_objects)
        if found is not None:
            return found
    if module is None or module == "builtins" or module.startswith(("keras.activations", "kbridge.activations")):
        for name in names:
            if name in activations.ALL_OBJECTS_DICT:
                return activations.ALL_OBJECTS_DICT[name]
    raise ValueError(_not_found(names[-1], config))


def _not_found(name, config):
    return (
        f"Lambda: could not locate function '{name}'. Loading never imports or runs code from a file: pass the "
        "function in `custom_objects` or decorate it with `@register_keras_serializable()` and import it "
        f"before loading. Full config: {config}"
    )


def _load_lambda(inner):
    # Only reached with safe mode off: the caller has chosen to trust this file.
    raw = codecs.decode(inner["code"].encode("ascii"), "base64")
    code = marshal.loads(raw)  # noqa: S302
    defaults = tuple(inner["defaults"]) if inner.get("defaults") else None
    closure = tuple(types.CellType(v) for v in inner["closure"]) if inner.get("closure") else None
    import kbridge

    scope = {"__builtins__": builtins, "kbridge": kbridge, "keras": kbridge, "ops": kbridge.ops}
    return types.FunctionType(code, scope, code.co_name, defaults, closure)
