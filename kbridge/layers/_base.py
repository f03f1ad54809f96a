"""Helpers shared by the built-in layers (config and argument checks)."""

from kbridge import config as kb_config
from kbridge import regularizers
from kbridge.layers.layer import Layer


def layer_config(layer, **config):
    """Returns `Layer.get_config(layer)` plus `activity_regularizer` when set, then `config`.

    Keras 3's base config adds `activity_regularizer` only when the layer has one.
    """
    base = Layer.get_config(layer)
    if layer.activity_regularizer is not None:
        base["activity_regularizer"] = regularizers.serialize(layer.activity_regularizer)
    base.update(config)
    return base


def standardize_data_format(data_format):
    """None -> `kbridge.config.image_data_format()`; otherwise validates the name."""
    if data_format is None:
        return kb_config.image_data_format()
    data_format = str(data_format).lower()
    if data_format not in ("channels_first", "channels_last"):
        raise ValueError(
            "The `data_format` argument must be one of {'channels_first', 'channels_last'}. "
            f"Received: data_format={data_format}"
        )
    return data_format


def check_positive_int(value, name):
    """Raises ValueError unless `value` is an int > 0 (bools rejected)."""
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise ValueError(
            f"`{name}` must be a positive integer. Received: {name}={value} (of type {type(value).__name__})."
        )
    return value


def spec_like_input(layer, inputs):
    """A KerasTensor of `layer.compute_output_shape(inputs.shape)` keeping the input's dtype."""
    from kbridge.symbolic.keras_tensor import KerasTensor

    return KerasTensor(layer.compute_output_shape(inputs.shape), dtype=inputs.dtype, sparse=inputs.sparse)


def check_build_shape(layer, input_shape):
    """Checks `input_shape` against `layer.input_spec` at build time.

    The core checks `input_spec` only on calls of built layers, so a layer whose spec
    is known before `build` checks its first input here.
    """
    from kbridge.layers.input_spec import check_input_spec

    if layer.input_spec is not None and input_shape is not None:
        check_input_spec(layer.name, layer.input_spec, [tuple(input_shape)])
