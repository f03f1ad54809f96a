"""`Reshape`: reshapes the non-batch axes."""

import math

from kbridge import ops
from kbridge.layers._base import layer_config, spec_like_input
from kbridge.layers.layer import Layer


def _resolve_shape(input_shape, target_shape):
    """Replaces the single -1 in `target_shape` by its size (None when unknowable)."""
    if None in input_shape:
        return tuple(None if d == -1 else d for d in target_shape)
    size = math.prod(input_shape)
    known = math.prod(d for d in target_shape if d != -1)
    if -1 not in target_shape:
        if size != known:
            raise ValueError(
                f"The total size of the tensor must be unchanged. Received: input_shape={tuple(input_shape)}, "
                f"target_shape={target_shape}"
            )
        return tuple(target_shape)
    if known == 0 or size % known:
        raise ValueError(
            "The total size of the tensor must be unchanged, however, the input size cannot by divided by the "
            f"specified dimensions in target_shape. Received: input_shape={tuple(input_shape)}, "
            f"target_shape={target_shape}"
        )
    return tuple(size // known if d == -1 else d for d in target_shape)


class Reshape(Layer):
    """Reshapes inputs to `(batch,) + target_shape`.

    Args:
        target_shape: the new shape without the batch axis; one entry may be -1.
        **kwargs: base `Layer` arguments.
    """

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        target_shape = tuple(target_shape)
        for dim in target_shape:
            if isinstance(dim, bool) or not isinstance(dim, int) or dim < -1:
                raise ValueError(
                    "Each dimension in `target_shape` must be a non-negative integer, or `-1` for a single "
                    f"unknown dimension. Received: target_shape={target_shape}."
                )
        if target_shape.count(-1) > 1:
            raise ValueError(
                f"There must be at most one `-1` dimension in `target_shape`. Received: target_shape={target_shape}."
            )
        self.target_shape = target_shape

    def call(self, inputs):
        shape = ops.shape(inputs)
        static = tuple(d if isinstance(d, int) else None for d in shape[1:])
        resolved = tuple(-1 if d is None else d for d in _resolve_shape(static, self.target_shape))
        return ops.reshape(inputs, (shape[0],) + resolved)

    def compute_output_shape(self, input_shape):
        return (input_shape[0],) + _resolve_shape(tuple(input_shape[1:]), self.target_shape)

    def compute_output_spec(self, inputs, **kwargs):
        return spec_like_input(self, inputs)

    def get_config(self):
        return layer_config(self, target_shape=self.target_shape)
