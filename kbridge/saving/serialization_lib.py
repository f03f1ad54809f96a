"""Object configs in Keras 3's format, and the registry of custom objects.

A serialized object is `{"module", "class_name", "config", "registered_name"}`
(plus `build_config`). kbridge's own classes are written with Keras 3's module names
(`keras.layers`, `keras.initializers`, ...) so configs move between kbridge and Keras.

Loading never imports a module named in a config (DESIGN.md invariant 8): classes
and functions are found only in kbridge's own packages, the registry
(`register_keras_serializable`), `CustomObjectScope`s and the caller's `custom_objects`.
"""

import base64
import importlib
import inspect
import marshal
import threading
import types
import warnings

import numpy as np

from kbridge.saving import safe_mode as _safe_mode

_GLOBAL_CUSTOM_OBJECTS = {}
_GLOBAL_CUSTOM_NAMES = {}
_scopes = threading.local()

# kbridge packages searched for built-in classes and functions, in this order.
_PACKAGES = ("layers", "models", "initializers", "regularizers", "constraints", "activations", "losses", "metrics",
             "optimizers")  # fmt: skip
# Packages whose public functions may be named in a config.
_FUNCTION_PACKAGES = ("activations", "losses", "metrics")
_NOT_MODELING = frozenset({"get", "serialize", "deserialize"})
_builtin_tables = {}


# -- registry ------------------------------------------------------------------------------


def register_keras_serializable(package="Custom", name=None):
    """Decorator registering a class or function under `"package>name"` for deserialization.

    Args:
        package: a namespace for the name.
        name: the name (default: the object's `__name__`).

    Example:
        >>> @register_keras_serializable(package="my_pkg")
        ... class MyLayer(kbridge.layers.Layer): ...
    """

    def decorator(obj):
        registered = f"{package}>{name if name is not None else obj.__name__}"
        if inspect.isclass(obj) and not hasattr(obj, "get_config"):
            raise ValueError(f"Cannot register {obj.__name__}: a registered class must implement get_config().")
        if registered in _GLOBAL_CUSTOM_OBJECTS:
            raise ValueError(f"{registered} has already been registered to {_GLOBAL_CUSTOM_OBJECTS[registered]}")
        if obj in _GLOBAL_CUSTOM_NAMES:
            raise ValueError(f"{obj} has already been registered to {_GLOBAL_CUSTOM_NAMES[obj]}")
        _GLOBAL_CUSTOM_OBJECTS[registered] = obj
        _GLOBAL_CUSTOM_NAMES[obj] = registered
        return obj

    return decorator


def get_registered_name(obj):
    """The name `obj` is registered under, else its `__name__`."""
    if obj in _GLOBAL_CUSTOM_NAMES:
        return _GLOBAL_CUSTOM_NAMES[obj]
    return getattr(obj, "__name__", type(obj).__name__)


def get_registered_object(name, custom_objects=None, module_objects=None):
    """Returns the object registered or scoped as `name`, else None.

    Looks in active `CustomObjectScope`s, the global registry, then
    `custom_objects` and `module_objects`.
    """
    for scope in reversed(_scope_stack()):
        if name in scope:
            return scope[name]
    if name in _GLOBAL_CUSTOM_OBJECTS:
        return _GLOBAL_CUSTOM_OBJECTS[name]
    if custom_objects and name in custom_objects:
        return custom_objects[name]
    if module_objects and name in module_objects:
        return module_objects[name]
    return None


def get_custom_objects():
    """The global registry dict (name -> object); may be edited directly."""
    return _GLOBAL_CUSTOM_OBJECTS


def _scope_stack():
    stack = getattr(_scopes, "stack", None)
    if stack is None:
        stack = _scopes.stack = []
    return stack


class CustomObjectScope:
    """`with CustomObjectScope({"MyLayer": MyLayer}):` makes names resolvable inside the block.

    Args:
        *objects: dicts mapping names to classes or functions.
    """

    def __init__(self, *objects):
        self.custom_objects = {}
        for mapping in objects:
            if mapping:
                if not isinstance(mapping, dict):
                    raise TypeError(f"CustomObjectScope expects dicts, received {type(mapping).__name__}: {mapping!r}")
                self.custom_objects.update(mapping)

    def __enter__(self):
        _scope_stack().append(self.custom_objects)
        return self

    def __exit__(self, *exc):
        _scope_stack().pop()


custom_object_scope = CustomObjectScope


def _all_custom_objects(custom_objects):
    merged = dict(custom_objects or {})
    for scope in _scope_stack():
        merged.update(scope)
    merged.update(_GLOBAL_CUSTOM_OBJECTS)
    return merged


# -- built-ins -----------------------------------------------------------------------------


def _builtin_table(package):
    table = _builtin_tables.get(package)
    if table is not None:
        return table
    try:
        module = importlib.import_module(f"kbridge.{package}")
    except ImportError:
        return {}  # Not written yet (packages are developed in parallel): do not cache.
    table = {}
    for name, obj in list(getattr(module, "ALL_OBJECTS_DICT", {}).items()) + list(vars(module).items()):
        if name.startswith("_") or name in table or name in _NOT_MODELING:
            continue
        if inspect.isclass(obj) and hasattr(obj, "from_config") or isinstance(obj, types.FunctionType) and package in _FUNCTION_PACKAGES:
            table[name] = obj
    if package == "layers":
        from kbridge.layers.input_layer import InputLayer
        from kbridge.symbolic.op_layer import OpLayer

        table.update(InputLayer=InputLayer, OpLayer=OpLayer)
    elif package == "models":
        from kbridge.dtype_policies import DTypePolicy

        table.update(DTypePolicy=DTypePolicy)
    _builtin_tables[package] = table
    return table


def _package_hint(module):
    """kbridge package suggested by a config's `module` ("keras.layers" -> "layers"), "" for
    generic, or None for modules outside Keras/kbridge (never searched)."""
    if not module or module == "builtins":
        return ""
    parts = module.split(".")
    if parts[0] not in ("keras", "kbridge", "tf_keras"):
        return None
    rest = parts[1:]
    if rest and rest[0] == "src":
        rest = rest[1:]
    if not rest:
        return "models"
    if rest[0] in ("ops", "symbolic"):
        return "ops"
    return rest[0] if rest[0] in _PACKAGES else ""


def _find_builtin(name, module, functions=False):
    hint = _package_hint(module)
    if hint is None:
        return None
    order = ([hint] if hint in _PACKAGES else []) + [p for p in _PACKAGES if p != hint]
    for package in order:
        if functions and package not in _FUNCTION_PACKAGES:
            continue
        obj = _builtin_table(package).get(name)
        if obj is not None and (inspect.isclass(obj) != functions):
            return obj
    return None


_KERAS_MODULES = {
    "layers": "keras.layers",
    "initializers": "keras.initializers",
    "regularizers": "keras.regularizers",
    "constraints": "keras.constraints",
    "losses": "keras.losses",
    "metrics": "keras.metrics",
    "optimizers": "keras.optimizers",
    "activations": "keras.activations",
}


def _public_module(cls):
    """Keras 3's module name for a kbridge class, and its `registered_name`."""
    module = cls.__module__
    parts = module.split(".")
    if parts[0] != "kbridge":
        return module, get_registered_name(cls)
    if cls.__name__ == "Functional" and module.startswith("kbridge.models"):
        return "keras.src.models.functional", "Functional"
    if cls.__name__ == "OpLayer":
        return "kbridge.ops", "OpLayer"
    if parts[1:3] == ["optimizers", "schedules"]:
        return "keras.optimizers.schedules", None
    if len(parts) > 1 and parts[1] in _KERAS_MODULES:
        return _KERAS_MODULES[parts[1]], None
    if len(parts) > 1 and parts[1] in ("models", "dtype_policies"):
        return "keras", None
    return module, cls.__name__


# -- serialize -----------------------------------------------------------------------------


def serialize_keras_object(obj):
    """Returns the Keras 3 config of `obj` (a layer, model, initializer, function, array, ...).

    Plain values (None, str, int, float, bool) come back unchanged; lists, tuples and
    dicts are serialized item by item.
    """
    if obj is None or isinstance(obj, (str, int, float, bool)):
        return obj
    if isinstance(obj, (list, tuple)):
        items = [serialize_keras_object(x) for x in obj]
        return tuple(items) if isinstance(obj, tuple) else items
    if isinstance(obj, dict):
        return {key: serialize_keras_object(value) for key, value in obj.items()}
    if isinstance(obj, bytes):
        return {"class_name": "__bytes__", "config": {"value": obj.decode("utf-8")}}
    if isinstance(obj, slice):
        config = {"start": obj.start, "stop": obj.stop, "step": obj.step}
        return {"class_name": "__slice__", "config": serialize_keras_object(config)}
    if obj is Ellipsis:
        return {"class_name": "__ellipsis__", "config": {}}
    from kbridge.symbolic.keras_tensor import KerasTensor

    if isinstance(obj, KerasTensor):
        history = obj._keras_history
        if history is not None:
            history = [history[0].name, history[1], history[2]]
        return {"class_name": "__keras_tensor__", "config": {"shape": obj.shape, "dtype": obj.dtype, "keras_history": history}}
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        if obj.ndim == 0:
            return obj.item()
        return {"class_name": "__numpy__", "config": {"value": obj.tolist(), "dtype": str(obj.dtype)}}
    array = _as_numpy(obj)
    if array is not None:
        return {"class_name": "__tensor__", "config": {"value": array.tolist(), "dtype": str(array.dtype)}}
    if isinstance(obj, types.FunctionType):
        return _serialize_function(obj)
    if not hasattr(obj, "get_config"):
        raise TypeError(f"Cannot serialize {obj!r} of type {type(obj).__name__}: it has no get_config() method.")
    inner = obj.get_config()
    if not isinstance(inner, dict):
        raise TypeError(f"{type(obj).__name__}.get_config() must return a dict, it returned {inner!r}")
    keras_op = obj.keras_op_class() if hasattr(obj, "keras_op_class") else None
    if keras_op is not None:  # an op on KerasTensors, written as Keras 3 writes its operations
        return {"module": keras_op[0], "class_name": keras_op[1], "config": {"name": obj.name},
                "registered_name": keras_op[1]}  # fmt: skip
    module, registered_name = _public_module(type(obj))
    config = {
        "module": module,
        # A class Keras exports under another name than its own (GroupQueryAttention) says so itself.
        "class_name": vars(type(obj)).get("_KERAS_CLASS_NAME", type(obj).__name__),
        "config": serialize_keras_object(inner),
        "registered_name": registered_name,
    }
    build_config = obj.get_build_config() if hasattr(obj, "get_build_config") else None
    if build_config is not None:
        config["build_config"] = serialize_keras_object(build_config)
    compile_config = obj.get_compile_config() if hasattr(obj, "get_compile_config") else None
    if compile_config is not None:  # a model: `to_json` and `.keras` files carry how it was compiled ({} if not)
        config["compile_config"] = serialize_keras_object(compile_config)
    return config


def _as_numpy(obj):
    from kbridge.backend import registry
    from kbridge.variables import Variable

    if isinstance(obj, Variable):
        return obj.numpy()
    module = registry.backend_of_type(type(obj)) if hasattr(obj, "shape") else None
    return None if module is None else np.asarray(module.convert_to_numpy(obj))


def _serialize_function(fn):
    if fn.__name__ == "<lambda>":
        warnings.warn(
            "Serializing a Python lambda: reloading it requires `safe_mode=False`. Use a named, registered "
            "function instead.",
            stacklevel=3,
        )
        code = base64.b64encode(marshal.dumps(fn.__code__)).decode("ascii")
        closure = tuple(c.cell_contents for c in fn.__closure__) if fn.__closure__ else None
        return {"class_name": "__lambda__", "config": {"value": (code, fn.__defaults__, closure)}}
    if fn.__module__.startswith("kbridge."):
        return {"module": "builtins", "class_name": "function", "config": fn.__name__, "registered_name": "function"}
    name = get_registered_name(fn)
    return {"module": fn.__module__, "class_name": "function", "config": name, "registered_name": name}


# -- deserialize ---------------------------------------------------------------------------


def _effective_safe_mode(safe_mode):
    scoped = getattr(_safe_mode._local, "safe_mode", None)
    if scoped is not None:
        return scoped
    return bool(safe_mode) and _safe_mode.in_safe_mode()


def deserialize_keras_object(config, custom_objects=None, safe_mode=True, **kwargs):
    """Returns the object described by a Keras 3 config (inverse of `serialize_keras_object`).

    Args:
        config: a config dict, a plain value, or a list of them.
        custom_objects: dict of name -> class/function for objects outside kbridge.
        safe_mode: refuse Python lambdas (bytecode) in the config; an active
            `SafeModeScope` takes precedence.

    Raises:
        TypeError: a class or function is neither built into kbridge nor registered.
        ValueError: the config holds code while safe mode is on.
    """
    module_objects = kwargs.pop("module_objects", None)
    if kwargs:
        raise TypeError(f"deserialize_keras_object: unexpected arguments {sorted(kwargs)}")
    safe = _effective_safe_mode(safe_mode)
    customs = _all_custom_objects(custom_objects)
    if module_objects:
        customs = {**module_objects, **customs}
    if isinstance(config, str) and config in customs:
        # A plain function stored by name (older formats).
        return customs[config]
    return _deserialize(config, customs, safe)


def _deserialize(config, customs, safe):
    if config is None or isinstance(config, (str, int, float, bool)):
        return config
    if isinstance(config, (list, tuple)):
        return [_deserialize(x, customs, safe) for x in config]
    if not isinstance(config, dict):
        raise TypeError(f"Could not parse config: {config!r}")
    if "class_name" not in config or "config" not in config:
        return {key: _deserialize(value, customs, safe) for key, value in config.items()}
    class_name = config["class_name"]
    inner = config["config"] if config["config"] is not None else {}
    special = _SPECIAL.get(class_name)
    if special is not None:
        return special(inner, customs, safe)
    module = config.get("module")
    registered_name = config.get("registered_name")
    if class_name == "function":
        return _retrieve(inner, registered_name, module, customs, config, functions=True)
    if not isinstance(inner, dict):
        raise TypeError(f"Expected the 'config' of {class_name} to be a dict, received {inner!r}. Full config: {config}")
    if _package_hint(module) == "ops" and class_name != "OpLayer":
        return _keras_op(class_name, inner, config)
    cls = _retrieve(class_name, registered_name, module, customs, config, functions=False)
    if isinstance(cls, types.FunctionType):
        return cls
    if not hasattr(cls, "from_config"):
        raise TypeError(f"Cannot recreate {class_name}: {cls} has no from_config() method. Full config: {config}")
    with CustomObjectScope(customs), _safe_mode.SafeModeScope(safe):
        try:
            instance = cls.from_config(inner)
        except TypeError as error:
            raise TypeError(
                f"{class_name} could not be deserialized from its config: {error}. Objects inside a config "
                f"(layers, models) must be deserialized in from_config(). Full config: {config}"
            ) from error
        build_config = config.get("build_config")
        if build_config and not getattr(instance, "built", True):
            instance.build_from_config(build_config)
            instance.built = True
        compile_config = config.get("compile_config")
        if compile_config and hasattr(instance, "compile_from_config"):
            instance.compile_from_config(compile_config)
    return instance


def _retrieve(name, registered_name, module, customs, full_config, functions):
    if not isinstance(name, str):
        raise TypeError(f"Expected a name (str) in config, received {name!r}. Full config: {full_config}")
    for key in (registered_name, name):
        if key and key in customs:
            return customs[key]
    if functions and ">" not in name:
        # Configs written by Keras <= 3.6 stored registered functions by bare name.
        for key, obj in customs.items():
            if key.endswith(f">{name}"):
                return obj
    found = _find_builtin(name, module, functions=functions)
    if found is not None:
        return found
    kind = "function" if functions else "class"
    raise TypeError(
        f"Could not locate {kind} '{name}'. Make sure custom classes and functions are decorated with "
        "`@kbridge.saving.register_keras_serializable()` or passed in `custom_objects`; kbridge never imports "
        f"the module named in a config (module={module!r}). Full object config: {full_config}"
    )


def _keras_op(class_name, inner, full_config):
    from kbridge.symbolic.op_layer import OpLayer, op_name_for_keras_class

    op_name = op_name_for_keras_class(class_name)
    if op_name is None:
        raise TypeError(f"Could not locate op '{class_name}': kbridge.ops has no such op. Full config: {full_config}")
    op_kwargs = {k: v for k, v in inner.items() if k not in ("name", "dtype")}
    return OpLayer(op_name, op_kwargs=op_kwargs, name=inner.get("name"))


def _keras_tensor(inner, customs, safe):
    from kbridge.symbolic.keras_tensor import KerasTensor

    tensor = KerasTensor(inner["shape"], dtype=inner.get("dtype") or "float32")
    tensor._pre_serialization_keras_history = inner.get("keras_history")
    return tensor


def _slice(inner, customs, safe):
    return slice(*(_deserialize(inner.get(k), customs, safe) for k in ("start", "stop", "step")))


def _lambda(inner, customs, safe):
    if safe:
        raise ValueError(
            "Requested the deserialization of a Python lambda. This carries a potential risk of arbitrary code "
            "execution and thus it is disallowed by default. If you trust the source of the artifact, pass "
            "`safe_mode=False` to the loading function or call `kbridge.config.enable_unsafe_deserialization()`."
        )
    code, defaults, closure = inner["value"]
    code = marshal.loads(base64.b64decode(code.encode("ascii")))
    cells = tuple(types.CellType(v) for v in closure) if closure else None
    return types.FunctionType(code, globals(), code.co_name, tuple(defaults) if defaults else None, cells)


_SPECIAL = {
    "__keras_tensor__": _keras_tensor,
    "__numpy__": lambda inner, customs, safe: np.array(inner["value"], dtype=inner["dtype"]),
    "__tensor__": lambda inner, customs, safe: np.array(inner["value"], dtype=inner["dtype"]),
    "__bytes__": lambda inner, customs, safe: inner["value"].encode("utf-8"),
    "__ellipsis__": lambda inner, customs, safe: Ellipsis,
    "__slice__": _slice,
    "__lambda__": _lambda,
}
