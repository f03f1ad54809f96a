"""`Activation`: applies an activation function."""

from kbridge import activations
from kbridge.layers._base import layer_config
from kbridge.layers.layer import Layer


class Activation(Layer):
    """Applies `activation` to the inputs.

    Args:
        activation: activation name (e.g. "relu") or callable.
        **kwargs: base `Layer` arguments.
    """

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True
        self.activation = activations.get(activation)

    def call(self, inputs):
        return self.activation(inputs)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return layer_config(self, activation=activations.serialize(self.activation))
