"""Name look-ups shared by `initializers`, `regularizers`, `constraints` and `activations`.

Each of those packages maps Keras names (class names, snake_case names, aliases) to its
built-in objects and reads/writes Keras 3's serialized form
`{"module", "class_name", "config", "registered_name"}`. Custom objects are found in the
caller's `custom_objects`, `CustomObjectScope`s and the registry of
`kbridge.saving.serialization_lib`.
"""

import inspect
import types


def registry_lookup(name, custom_objects=None):
    """Returns the custom object known as `name` (scopes, registry, `custom_objects`), or None."""
    if not name:
        return None
    from kbridge.saving import serialization_lib

    return serialization_lib.get_registered_object(name, custom_objects)


def registered_name(obj):
    """The name `obj` (a class or function) is registered under, else its `__name__`."""
    from kbridge.saving import serialization_lib

    return serialization_lib.get_registered_name(obj)


def is_builtin(obj):
    """Whether `obj` (class or function) is defined inside kbridge."""
    return getattr(obj, "__module__", "").startswith("kbridge.")


def serialize_object(obj, module):
    """Keras 3's serialized form of an object with `get_config()`.

    Args:
        obj: the object (None passes through).
        module: the Keras module name for built-ins, e.g. "keras.initializers".
    """
    if obj is None:
        return None
    if isinstance(obj, types.FunctionType):
        name = registered_name(obj)
        return {"module": obj.__module__, "class_name": "function", "config": name, "registered_name": name}
    cls = type(obj)
    if not hasattr(obj, "get_config"):
        raise TypeError(f"Cannot serialize {obj!r}: it has no get_config() method.")
    builtin = is_builtin(cls)
    return {
        "module": module if builtin else cls.__module__,
        "class_name": cls.__name__,
        "config": obj.get_config(),
        "registered_name": None if builtin else registered_name(cls),
    }


def deserialize_object(identifier, objects, kind, custom_objects=None):
    """Returns the object a name or serialized dict stands for.

    Args:
        identifier: a name (str) or a `{"class_name", "config", ...}` dict.
        objects: the package's built-ins by name.
        kind: what is looked up ("initializer"), for error messages.
        custom_objects: optional extra name -> class/function mapping.

    Raises:
        ValueError: unknown name, listing the valid ones.
    """
    if isinstance(identifier, str):
        found = registry_lookup(identifier, custom_objects) or objects.get(identifier)
        if found is None:
            raise unknown(kind, identifier, objects)
        return found() if inspect.isclass(found) else found
    if not isinstance(identifier, dict) or "class_name" not in identifier:
        raise ValueError(f"Could not interpret {kind} identifier: {identifier!r}")
    class_name = identifier["class_name"]
    config = identifier.get("config") or {}
    if class_name == "function":
        name = identifier.get("registered_name") or config
        found = registry_lookup(name, custom_objects) or registry_lookup(config, custom_objects)
        if found is None:
            raise unknown(kind, name, objects)
        return found
    cls = (
        registry_lookup(identifier.get("registered_name"), custom_objects)
        or registry_lookup(class_name, custom_objects)
        or objects.get(class_name)
    )
    if cls is None:
        raise unknown(kind, class_name, objects)
    if hasattr(cls, "from_config"):
        return cls.from_config(config)
    return cls(**config)


def unknown(kind, name, objects):
    """The ValueError for an unknown `kind` name, listing the valid names."""
    return ValueError(
        f"Could not interpret {kind} identifier: {name!r}. "
        f"Valid {kind} names are: {sorted(objects)}. Custom {kind}s must be passed "
        "as objects, through `custom_objects`, or registered with `register_keras_serializable`."
    )


def get_object(identifier, deserialize, kind):
    """The shared `get`: None passes, names/dicts deserialize, classes instantiate, callables pass.

    Raises:
        ValueError: anything else, naming `kind`.
    """
    if identifier is None:
        return None
    if isinstance(identifier, (str, dict)):
        return deserialize(identifier)
    if inspect.isclass(identifier):
        return identifier()
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret {kind} identifier: {identifier!r}")
