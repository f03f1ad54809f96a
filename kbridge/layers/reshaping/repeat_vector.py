"""`RepeatVector`: repeats a vector `n` times along a new axis."""

from kbridge import ops
from kbridge.layers._base import check_build_shape, layer_config, spec_like_input
from kbridge.layers.input_spec import InputSpec
from kbridge.layers.layer import Layer


class RepeatVector(Layer):
    """Turns `(batch, features)` into `(batch, n, features)`.

    Args:
        n: positive int, the number of repetitions.
        **kwargs: base `Layer` arguments.
    """

    def __init__(self, n, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(n, int) or isinstance(n, bool):
            raise TypeError(f"Expected an integer value for `n`, got {type(n)}.")
        if n <= 0:
            raise ValueError(f"Argument `n` should be a positive integer. Received: n={n}")
        self.n = n
        self.input_spec = InputSpec(ndim=2)

    def build(self, input_shape):
        # A build step (even an empty one) gives Keras's `build_config` in saved models.
        check_build_shape(self, input_shape)

    def call(self, inputs):
        return ops.repeat(ops.expand_dims(inputs, 1), self.n, axis=1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.n, input_shape[1])

    def compute_output_spec(self, inputs, **kwargs):
        return spec_like_input(self, inputs)

    def get_config(self):
        return layer_config(self, n=self.n)
