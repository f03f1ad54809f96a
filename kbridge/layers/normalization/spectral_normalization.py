"""`SpectralNormalization`: divides a wrapped layer's kernel by its largest singular value."""

from kbridge import initializers, ops
from kbridge.layers.core.wrapper import Wrapper
from kbridge.layers.input_spec import InputSpec


class SpectralNormalization(Wrapper):
    """Constrains the spectral norm of the wrapped layer's `kernel` (or `embeddings`).

    As in Keras 3: with `training=True` it runs `power_iterations` steps of the power
    method from the non-trainable `vector_u`, then *assigns* `kernel / sigma` to the
    wrapped layer's kernel and the new estimate to `vector_u` before calling the layer
    (an all-zero kernel is left alone). In inference mode the layer runs with its
    kernel as it is. The kernel is also tracked by the wrapper (Keras's weight order:
    kernel, vector_u, then the wrapped layer's other weights).

    Args:
        layer: a layer with a `kernel` or `embeddings` weight.
        power_iterations: number of power-method steps per training call (> 0).
        **kwargs: base `Layer` arguments.
    """

    def __init__(self, layer, power_iterations=1, **kwargs):
        super().__init__(layer, **kwargs)
        if isinstance(power_iterations, bool) or not isinstance(power_iterations, int) or power_iterations <= 0:
            raise ValueError(
                "SpectralNormalization: `power_iterations` should be an integer greater than zero. "
                f"Received: `power_iterations={power_iterations}`"
            )
        self.power_iterations = power_iterations
        self.vector_u = None
        self._kernel_name = None

    @property
    def kernel(self):
        """The wrapped layer's kernel variable."""
        return getattr(self.layer, self._kernel_name) if self._kernel_name else None

    def build(self, input_shape):
        super().build(input_shape)
        self.input_spec = InputSpec(min_ndim=1, axes={-1: input_shape[-1]})
        for name in ("kernel", "embeddings"):
            if getattr(self.layer, name, None) is not None:
                self._kernel_name = name
                break
        else:
            raise ValueError(
                f'Layer "{self.name}": {type(self.layer).__name__} object has no attribute '
                "'kernel' nor 'embeddings'"
            )
        kernel = self.kernel
        if kernel.trainable:
            self._trainable_variables.append(kernel)  # Keras tracks it here too: kernel first in `weights`
        self.vector_u = self.add_weight(
            shape=(1, kernel.shape[-1]), initializer=initializers.TruncatedNormal(stddev=0.02), trainable=False,
            name="vector_u", dtype=kernel.dtype,
        )  # fmt: skip

    def call(self, inputs, training=False):
        if training:
            kernel = self.kernel.value
            new_u, new_kernel = ops.cond(
                ops.all(ops.equal(kernel, 0)), lambda: (self.vector_u.value, kernel), self.normalized_weights
            )
            self.vector_u.assign(new_u)
            self.kernel.assign(new_kernel)
        output = self.layer(inputs)
        return ops.cast(output, ops.dtype(inputs))

    def normalized_weights(self):
        """Returns `(new vector_u, kernel / sigma)` after the power iterations."""
        shape = tuple(self.kernel.shape)
        weights = ops.reshape(self.kernel.value, (-1, shape[-1]))
        vector_u = self.vector_u.value
        for _ in range(self.power_iterations):
            vector_v = ops.normalize(ops.matmul(vector_u, ops.transpose(weights)), axis=None)
            vector_u = ops.normalize(ops.matmul(vector_v, weights), axis=None)
        vector_u = ops.stop_gradient(vector_u)
        vector_v = ops.stop_gradient(vector_v)
        sigma = ops.matmul(ops.matmul(vector_v, weights), ops.transpose(vector_u))
        kernel = ops.reshape(ops.divide(weights, sigma), shape)
        return ops.cast(vector_u, self.vector_u.dtype), ops.cast(kernel, self.kernel.dtype)

    def compute_output_shape(self, input_shape):
        return self.layer.compute_output_shape(input_shape)

    def get_config(self):
        config = super().get_config()
        config["power_iterations"] = self.power_iterations
        return config
