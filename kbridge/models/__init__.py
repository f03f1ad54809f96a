"""`kbridge.models`: the three ways to define a model (Functional, Sequential, subclassing)."""

from kbridge.models.cloning import clone_model
from kbridge.models.functional import Functional
from kbridge.models.model import Model
from kbridge.models.sequential import Sequential
from kbridge.saving.keras_file import load_model, save_model


def model_from_json(json_string, custom_objects=None):
    """Creates a model (new weights) from `model.to_json()` output.

    Args:
        json_string: the JSON text.
        custom_objects: dict of name -> class/function for objects outside kbridge.
    """
    import json

    from kbridge.saving.serialization_lib import deserialize_keras_object

    return deserialize_keras_object(json.loads(json_string), custom_objects=custom_objects)


__all__ = ["Functional", "Model", "Sequential", "clone_model", "load_model", "model_from_json", "save_model"]
