"""`kbridge.saving`: `.keras` model files, Keras 3 object configs, the custom-object registry and safe mode."""

from kbridge.saving import keras_file, safe_mode, serialization_lib
from kbridge.saving.keras_file import load_model, save_model
from kbridge.saving.safe_mode import (
    SafeModeScope,
    enable_unsafe_deserialization,
    in_safe_mode,
)
from kbridge.saving.safetensors_file import load_safetensors, save_safetensors
from kbridge.saving.serialization_lib import (
    CustomObjectScope,
    custom_object_scope,
    deserialize_keras_object,
    get_custom_objects,
    get_registered_name,
    get_registered_object,
    register_keras_serializable,
    serialize_keras_object,
)

# Keras keeps the registry in `saving.object_registration`; kbridge keeps it in
# serialization_lib and exposes it under that name too.
object_registration = serialization_lib

__all__ = [
    "CustomObjectScope",
    "SafeModeScope",
    "custom_object_scope",
    "deserialize_keras_object",
    "enable_unsafe_deserialization",
    "get_custom_objects",
    "get_registered_name",
    "get_registered_object",
    "in_safe_mode",
    "keras_file",
    "load_model",
    "load_safetensors",
    "register_keras_serializable",
    "safe_mode",
    "save_model",
    "save_safetensors",
    "serialization_lib",
    "serialize_keras_object",
]
