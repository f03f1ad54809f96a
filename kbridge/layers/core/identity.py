"""`Identity`: returns its inputs unchanged."""

from kbridge.layers._base import layer_config
from kbridge.layers.layer import Layer
from kbridge.symbolic.keras_tensor import KerasTensor
from kbridge.utils import tree


class Identity(Layer):
    """Returns the inputs (any structure) unchanged; a placeholder layer.

    Args:
        **kwargs: base `Layer` arguments.
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def call(self, inputs):
        return inputs

    def compute_output_shape(self, input_shape):
        return input_shape

    def compute_output_spec(self, inputs, **kwargs):
        return tree.map_structure(lambda x: KerasTensor(x.shape, dtype=x.dtype, sparse=x.sparse), inputs)

    def get_config(self):
        return layer_config(self)
