"""`BatchNormalization`: normalizes with batch statistics (training) or moving ones (inference)."""

from kbridge import constraints, initializers, ops, regularizers
from kbridge import config as kb_config
from kbridge.backend.dtypes import result_type
from kbridge.layers._base import layer_config
from kbridge.layers.input_spec import InputSpec
from kbridge.layers.layer import Layer


class BatchNormalization(Layer):
    """Normalizes over every axis but `axis`, then scales by `gamma` and shifts by `beta`.

    With `training=True` (and a trainable layer) it uses the batch's mean and
    variance and updates `moving_mean`/`moving_variance` by assignment:
    `moving = moving * momentum + batch * (1 - momentum)`. Inside `stateless_call`
    those updates come back as the new non-trainable values. Otherwise it uses the
    moving statistics.

    Args:
        axis: the feature axis (usually -1; 1 for channels_first images).
        momentum: momentum of the moving statistics.
        epsilon: added to the variance before the square root.
        center: whether to add the learned offset `beta`.
        scale: whether to multiply by the learned `gamma`.
        beta_initializer, gamma_initializer, moving_mean_initializer,
            moving_variance_initializer: initializers.
        beta_regularizer, gamma_regularizer: regularizers.
        beta_constraint, gamma_constraint: constraints.
        renorm, renorm_clipping, renorm_momentum: accepted for Keras compatibility
            (batch renormalization is not supported: `renorm` must be False).
        synchronized: whether batch statistics are averaged across replicas
            under a distribution strategy.
        **kwargs: base `Layer` arguments.
    """

    def __init__(
        self,
        axis=-1,
        momentum=0.99,
        epsilon=1e-3,
        center=True,
        scale=True,
        beta_initializer="zeros",
        gamma_initializer="ones",
        moving_mean_initializer="zeros",
        moving_variance_initializer="ones",
        beta_regularizer=None,
        gamma_regularizer=None,
        beta_constraint=None,
        gamma_constraint=None,
        renorm=False,
        renorm_clipping=None,
        renorm_momentum=0.99,
        synchronized=False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if renorm:
            raise NotImplementedError("BatchNormalization: `renorm=True` is not supported by kbridge yet.")
        self.axis = int(axis)
        self.synchronized = synchronized
        self.momentum = float(momentum)
        self.epsilon = float(epsilon)
        self.center = center
        self.scale = scale
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.moving_mean_initializer = initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers.get(moving_variance_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.beta_constraint = constraints.get(beta_constraint)
        self.gamma_constraint = constraints.get(gamma_constraint)
        self.renorm = renorm
        self.renorm_clipping = renorm_clipping
        self.renorm_momentum = renorm_momentum
        self.supports_masking = True
        self.gamma = None
        self.beta = None
        self.moving_mean = None
        self.moving_variance = None
        self._reduction_axes = None

    def build(self, input_shape):
        rank = len(input_shape)
        if not -rank <= self.axis < rank:
            raise ValueError(f"Axis {self.axis} is out of bounds for input shape {tuple(input_shape)}. Received: axis={self.axis}")
        size = input_shape[self.axis]
        if size is None:
            raise ValueError(
                f'Layer "{self.name}": the feature axis {self.axis} of the input must be known. '
                f"Received input shape {tuple(input_shape)}."
            )
        shape = (size,)
        if self.scale:
            self.gamma = self.add_weight(
                shape=shape, name="gamma", initializer=self.gamma_initializer, regularizer=self.gamma_regularizer,
                constraint=self.gamma_constraint, trainable=True, autocast=False,
            )  # fmt: skip
        if self.center:
            self.beta = self.add_weight(
                shape=shape, name="beta", initializer=self.beta_initializer, regularizer=self.beta_regularizer,
                constraint=self.beta_constraint, trainable=True, autocast=False,
            )  # fmt: skip
        self.moving_mean = self.add_weight(
            shape=shape, name="moving_mean", initializer=self.moving_mean_initializer, trainable=False, autocast=False
        )
        self.moving_variance = self.add_weight(
            shape=shape, name="moving_variance", initializer=self.moving_variance_initializer, trainable=False,
            autocast=False,
        )  # fmt: skip
        self.input_spec = InputSpec(ndim=rank, axes={self.axis: size})
        self._reduction_axes = [a for a in range(rank) if a != self.axis % rank]

    def call(self, inputs, training=None, mask=None):
        if mask is not None and len(ops.shape(mask)) != len(ops.shape(inputs)) - 1:
            raise ValueError(
                "The mask provided should be one dimension less than the inputs. Received: "
                f"mask.shape={tuple(ops.shape(mask))}, inputs.shape={tuple(ops.shape(inputs))}"
            )
        input_dtype = ops.dtype(inputs)
        # Statistics in at least float32, whatever the compute dtype.
        dtype = input_dtype if input_dtype in ("float32", "float64") else result_type(input_dtype, "float32")
        variable_dtype = self.variable_dtype
        inputs = _cast(inputs, dtype, input_dtype)
        moving_mean = _cast(self.moving_mean, dtype, variable_dtype)
        moving_variance = _cast(self.moving_variance, dtype, variable_dtype)
        gamma = _cast(self.gamma, dtype, variable_dtype) if self.scale else None
        beta = _cast(self.beta, dtype, variable_dtype) if self.center else None
        if training and self.trainable:
            mean, variance = self._moments(inputs, mask)
            new_mean = ops.add(ops.multiply(moving_mean, self.momentum), ops.multiply(mean, 1.0 - self.momentum))
            new_variance = ops.add(
                ops.multiply(moving_variance, self.momentum), ops.multiply(variance, 1.0 - self.momentum)
            )
            self.moving_mean.assign(_cast(new_mean, variable_dtype, dtype))
            self.moving_variance.assign(_cast(new_variance, variable_dtype, dtype))
        else:
            mean, variance = moving_mean, moving_variance
        outputs = ops.batch_normalization(
            inputs, mean, variance, axis=self.axis, offset=beta, scale=gamma, epsilon=self.epsilon
        )
        return _cast(outputs, self.compute_dtype, dtype)

    def _moments(self, inputs, mask):
        axes = self._reduction_axes
        if mask is None:
            return ops.moments(inputs, axes=axes, synchronized=self.synchronized)
        weights = ops.cast(ops.broadcast_to(ops.expand_dims(mask, -1), ops.shape(inputs)), ops.dtype(inputs))
        total = ops.add(ops.sum(weights, axis=axes, keepdims=True), kb_config.epsilon())
        mean = ops.divide(ops.sum(ops.multiply(inputs, weights), axis=axes, keepdims=True), total)
        squared = ops.multiply(ops.square(ops.subtract(inputs, mean)), weights)
        variance = ops.divide(ops.sum(squared, axis=axes, keepdims=True), total)
        return ops.reshape(mean, (-1,)), ops.reshape(variance, (-1,))

    def compute_output_shape(self, input_shape):
        if not -len(input_shape) <= self.axis < len(input_shape):
            raise ValueError(
                f"Axis {self.axis} is out of bounds for input shape {tuple(input_shape)}. Received: axis={self.axis}"
            )
        return tuple(input_shape)

    def get_config(self):
        return layer_config(
            self,
            axis=self.axis,
            momentum=self.momentum,
            epsilon=self.epsilon,
            center=self.center,
            scale=self.scale,
            beta_initializer=initializers.serialize(self.beta_initializer),
            gamma_initializer=initializers.serialize(self.gamma_initializer),
            moving_mean_initializer=initializers.serialize(self.moving_mean_initializer),
            moving_variance_initializer=initializers.serialize(self.moving_variance_initializer),
            beta_regularizer=regularizers.serialize(self.beta_regularizer),
            gamma_regularizer=regularizers.serialize(self.gamma_regularizer),
            beta_constraint=constraints.serialize(self.beta_constraint),
            gamma_constraint=constraints.serialize(self.gamma_constraint),
            synchronized=self.synchronized,
            renorm=self.renorm,
            renorm_clipping=self.renorm_clipping,
            renorm_momentum=self.renorm_momentum,
        )


def _cast(value, dtype, current):
    # Skips the op (and its dispatch cost in eager torch) when nothing changes.
    return value if current == dtype else ops.cast(value, dtype)
