"""`Wrapper`: base class of layers that wrap another layer."""

from kbridge.layers._base import layer_config
from kbridge.layers.layer import Layer


class Wrapper(Layer):
    """Holds `layer` as a sublayer and builds it with the wrapper.

    Args:
        layer: the wrapped `Layer`.
        **kwargs: base `Layer` arguments.
    """

    def __init__(self, layer, **kwargs):
        if not isinstance(layer, Layer):
            raise ValueError(
                f"Layer {layer} supplied to {type(self).__name__} isn't a supported layer type. "
                "Please ensure wrapped layer is a valid Keras layer."
            )
        super().__init__(**kwargs)
        self.layer = layer

    def build(self, input_shape=None):
        if not self.layer.built:
            self.layer.build(input_shape)
            self.layer.built = True

    def get_config(self):
        from kbridge.saving import serialization_lib

        config = layer_config(self)
        config["layer"] = serialization_lib.serialize_keras_object(self.layer)
        return config

    @classmethod
    def from_config(cls, config):
        from kbridge.saving import serialization_lib

        config = dict(config)
        layer = serialization_lib.deserialize_keras_object(config.pop("layer"))
        return cls(layer, **config)
