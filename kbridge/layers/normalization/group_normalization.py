"""`GroupNormalization`: normalizes groups of channels of each sample."""

from kbridge import constraints, initializers, ops, regularizers
from kbridge.backend.dtypes import result_type
from kbridge.layers._base import layer_config
from kbridge.layers.input_spec import InputSpec
from kbridge.layers.layer import Layer


class GroupNormalization(Layer):
    """Splits the channels on `axis` into `groups` and normalizes each group per sample.

    `groups=1` is close to LayerNormalization; `groups=-1` (one group per channel)
    is instance normalization. Statistics are computed in at least float32.

    Args:
        groups: number of groups (must divide the channels), or -1.
        axis: the channel axis.
        epsilon: added to the variance before the square root.
        center: whether to add the learned offset `beta`.
        scale: whether to multiply by the learned `gamma`.
        beta_initializer, gamma_initializer: initializers.
        beta_regularizer, gamma_regularizer: regularizers.
        beta_constraint, gamma_constraint: constraints.
        **kwargs: base `Layer` arguments.
    """

    def __init__(
        self,
        groups=32,
        axis=-1,
        epsilon=1e-3,
        center=True,
        scale=True,
        beta_initializer="zeros",
        gamma_initializer="ones",
        beta_regularizer=None,
        gamma_regularizer=None,
        beta_constraint=None,
        gamma_constraint=None,
        **kwargs,
    ):
        if not isinstance(groups, int) or isinstance(groups, bool) or (groups <= 0 and groups != -1):
            raise ValueError(
                "GroupNormalization: received an invalid value for argument `groups`, expected a positive "
                f"integer (or `-1` for instance normalization). Received: groups={groups}"
            )
        if not isinstance(axis, int) or isinstance(axis, bool):
            raise ValueError(f"GroupNormalization: `axis` must be an int. Received: axis={axis!r}")
        super().__init__(**kwargs)
        self.supports_masking = True
        self.autocast = False
        self.groups = groups
        self.axis = axis
        self.epsilon = epsilon
        self.center = center
        self.scale = scale
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.beta_constraint = constraints.get(beta_constraint)
        self.gamma_constraint = constraints.get(gamma_constraint)
        self.gamma = None
        self.beta = None

    def build(self, input_shape):
        rank = len(input_shape)
        if not -rank <= self.axis < rank:
            raise ValueError(
                f'Layer "{self.name}": axis {self.axis} is out of bounds for input shape {tuple(input_shape)}.'
            )
        dim = input_shape[self.axis]
        if dim is None:
            raise ValueError(
                f'Layer "{self.name}": axis {self.axis} of the input should have a defined dimension. '
                f"Received input shape {tuple(input_shape)}."
            )
        if self.groups == -1:
            self.groups = dim
        if dim < self.groups:
            raise ValueError(
                f'Layer "{self.name}": number of groups ({self.groups}) cannot be more than the number of '
                f"channels ({dim})."
            )
        if dim % self.groups != 0:
            raise ValueError(
                f'Layer "{self.name}": number of groups ({self.groups}) must divide the number of channels ({dim}).'
            )
        self.input_spec = InputSpec(ndim=rank, axes={self.axis: dim})
        if self.scale:
            self.gamma = self.add_weight(
                shape=(dim,), name="gamma", initializer=self.gamma_initializer, regularizer=self.gamma_regularizer,
                constraint=self.gamma_constraint, autocast=False,
            )  # fmt: skip
        if self.center:
            self.beta = self.add_weight(
                shape=(dim,), name="beta", initializer=self.beta_initializer, regularizer=self.beta_regularizer,
                constraint=self.beta_constraint, autocast=False,
            )  # fmt: skip

    def call(self, inputs):
        input_dtype = ops.dtype(inputs)
        dtype = input_dtype if input_dtype in ("float32", "float64") else result_type(input_dtype, "float32")
        x = inputs if input_dtype == dtype else ops.cast(inputs, dtype)
        shape = ops.shape(inputs)
        rank = len(shape)
        axis = self.axis % rank
        channels = shape[axis]
        grouped_shape = [-1] + list(shape[1:axis]) + [self.groups, channels // self.groups] + list(shape[axis + 1 :])
        grouped = ops.reshape(x, grouped_shape)
        reduce_axes = [a for a in range(1, rank + 1) if a != axis]
        mean, variance = ops.moments(grouped, axes=reduce_axes, keepdims=True)
        inv = ops.rsqrt(ops.add(variance, self.epsilon))
        broadcast = [1] * (rank + 1)
        broadcast[axis], broadcast[axis + 1] = self.groups, channels // self.groups
        if self.gamma is not None:
            inv = ops.multiply(inv, ops.reshape(ops.cast(self.gamma, dtype), broadcast))
        shift = ops.negative(ops.multiply(mean, inv))
        if self.beta is not None:
            shift = ops.add(shift, ops.reshape(ops.cast(self.beta, dtype), broadcast))
        outputs = ops.reshape(ops.add(ops.multiply(grouped, inv), shift), shape)
        return outputs if self.compute_dtype == dtype else ops.cast(outputs, self.compute_dtype)

    def compute_output_shape(self, input_shape):
        if not -len(input_shape) <= self.axis < len(input_shape):
            raise ValueError(
                f"Axis {self.axis} is out of bounds for input shape {tuple(input_shape)}. Received: axis={self.axis}"
            )
        return tuple(input_shape)

    def get_config(self):
        return layer_config(
            self,
            groups=self.groups,
            axis=self.axis,
            epsilon=self.epsilon,
            center=self.center,
            scale=self.scale,
            beta_initializer=initializers.serialize(self.beta_initializer),
            gamma_initializer=initializers.serialize(self.gamma_initializer),
            beta_regularizer=regularizers.serialize(self.beta_regularizer),
            gamma_regularizer=regularizers.serialize(self.gamma_regularizer),
            beta_constraint=constraints.serialize(self.beta_constraint),
            gamma_constraint=constraints.serialize(self.gamma_constraint),
        )
