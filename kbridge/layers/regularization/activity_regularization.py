"""`ActivityRegularization`: adds an L1/L2 penalty on its inputs to the losses."""

from kbridge import regularizers
from kbridge.layers.layer import Layer


class ActivityRegularization(Layer):
    """Returns its inputs unchanged and adds `l1 * sum(|x|) + l2 * sum(x**2)` as a loss.

    Args:
        l1: L1 factor (>= 0).
        l2: L2 factor (>= 0).
        **kwargs: base `Layer` arguments.
    """

    def __init__(self, l1=0.0, l2=0.0, **kwargs):
        try:
            regularizer = regularizers.L1L2(l1=l1, l2=l2)
        except ValueError as error:
            raise ValueError(f"ActivityRegularization: {error}") from None
        super().__init__(activity_regularizer=regularizer, **kwargs)
        self.supports_masking = True
        self.l1 = l1
        self.l2 = l2
        self.built = True

    def call(self, inputs):
        return inputs

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = Layer.get_config(self)
        config.pop("activity_regularizer", None)
        config.update(l1=self.l1, l2=self.l2)
        return config
