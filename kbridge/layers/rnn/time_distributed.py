"""`TimeDistributed`: applies a layer to every timestep of a sequence."""

from kbridge import ops
from kbridge.layers.core.wrapper import Wrapper


class TimeDistributed(Wrapper):
    """Applies `layer` to each slice `inputs[:, t]` of inputs of rank >= 3 (Keras 3 `TimeDistributed`).

    The timesteps are folded into the batch (one call of `layer` on `(batch * timesteps, ...)`),
    which equals Keras's per-timestep loop for layers that treat samples independently.
    A mask `(batch, timesteps, ...)` is folded the same way for layers taking `mask`.

    Args:
        layer: the `Layer` to apply.
        **kwargs: base `Layer` arguments.
    """

    def __init__(self, layer, **kwargs):
        super().__init__(layer, **kwargs)
        self.supports_masking = True

    def _child_input_shape(self, input_shape):
        if not isinstance(input_shape, (tuple, list)) or len(input_shape) < 3:
            raise ValueError(
                f'Layer "{self.name}" (TimeDistributed) expects inputs with at least 3 dimensions '
                f"(batch_size, timesteps, ...), received an input of shape {input_shape}"
            )
        return (input_shape[0], *input_shape[2:])

    def build(self, input_shape):
        super().build(self._child_input_shape(tuple(input_shape)))

    def compute_output_shape(self, input_shape):
        child = self.layer.compute_output_shape(self._child_input_shape(tuple(input_shape)))
        return (child[0], input_shape[1], *child[1:])

    def compute_output_spec(self, inputs, training=None, mask=None):
        try:
            shape = self.compute_output_shape(inputs.shape)
        except NotImplementedError:
            # The wrapped layer cannot state its shape: trace the folded call symbolically.
            return self.call(inputs, training=training, mask=mask)
        from kbridge.symbolic.keras_tensor import KerasTensor

        return KerasTensor(shape, dtype=self.compute_dtype)

    def call(self, inputs, training=None, mask=None):
        shape = tuple(ops.shape(inputs))
        self._child_input_shape(shape)
        batch, steps = shape[0], shape[1]
        if mask is not None:
            mask_shape = tuple(ops.shape(mask))
            mismatch = any(isinstance(m, int) and isinstance(s, int) and m != s for m, s in zip(mask_shape, shape[:2]))
            if len(mask_shape) < 2 or mismatch:
                raise ValueError(
                    f'Layer "{self.name}" (TimeDistributed): the mask must have shape (batch_size, timesteps, ...) '
                    f"matching the inputs {shape[:2]}, received a mask of shape {mask_shape}."
                )
        folded = ops.reshape(inputs, (-1, *shape[2:]))
        kwargs = {}
        info = self.layer._call_info
        if info.has_mask and mask is not None:
            kwargs["mask"] = ops.reshape(mask, (-1, *tuple(ops.shape(mask))[2:]))
        if info.has_training and training is not None:
            kwargs["training"] = training
        outputs = self.layer(folded, **kwargs)
        out_shape = tuple(ops.shape(outputs))[1:]
        if isinstance(steps, int):
            return ops.reshape(outputs, (-1, steps, *out_shape))
        return ops.reshape(outputs, (batch, steps, *out_shape))
