"""`Concatenate`: joins a list of inputs along an axis."""

from kbridge import ops
from kbridge.layers._base import layer_config
from kbridge.layers.merging.base_merge import Merge


class Concatenate(Merge):
    """Concatenates a list of inputs, equal in shape except along `axis`.

    Args:
        axis: the concatenation axis.
        **kwargs: base `Layer` arguments.
    """

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = axis
        self.supports_masking = True

    def build(self, input_shape):
        if not isinstance(input_shape, (list, tuple)) or not input_shape or not isinstance(input_shape[0], (tuple, list)):
            raise ValueError(
                f"A `Concatenate` layer should be called on a list of at least 1 input. Received: input_shape={input_shape}"
            )
        message = (
            "A `Concatenate` layer requires inputs with matching shapes except for the concatenation axis. "
            f"Received: input_shape={input_shape}"
        )
        ranks = {len(s) for s in input_shape}
        if len(ranks) != 1:
            raise ValueError(message)
        rank = ranks.pop()
        concat_axis = self.axis % rank
        for axis in range(rank):
            if axis == concat_axis:
                continue
            sizes = {s[axis] for s in input_shape} - {None}
            if len(sizes) > 1:
                raise ValueError(message)

    def _merge_function(self, inputs):
        return ops.concatenate(inputs, axis=self.axis)

    def compute_output_shape(self, input_shape):
        if not isinstance(input_shape, (tuple, list)) or not isinstance(input_shape[0], (tuple, list)):
            raise ValueError(f"A `Concatenate` layer should be called on a list of inputs. Received: input_shape={input_shape}")
        output = list(input_shape[0])
        for shape in input_shape[1:]:
            if output[self.axis] is None or shape[self.axis] is None:
                output[self.axis] = None
                break
            output[self.axis] += shape[self.axis]
        return tuple(output)

    def compute_mask(self, inputs, mask=None):
        """Concatenated masks (all-true for inputs without one), reduced over the last axis."""
        if mask is None:
            return None
        if not isinstance(mask, (tuple, list)) or not isinstance(inputs, (tuple, list)) or len(mask) != len(inputs):
            raise ValueError(
                f"`inputs` and `mask` should be lists of the same length. Received: inputs={inputs}, mask={mask}"
            )
        if all(m is None for m in mask):
            return None
        masks = []
        for x, m in zip(inputs, mask):
            if m is None:
                masks.append(ops.ones_like(x, dtype="bool"))
            elif len(ops.shape(m)) < len(ops.shape(x)):
                masks.append(ops.logical_or(ops.expand_dims(m, -1), ops.zeros_like(x, dtype="bool")))
            else:
                masks.append(m)
        return ops.any(ops.concatenate(masks, axis=self.axis), axis=-1, keepdims=False)

    def get_config(self):
        return layer_config(self, axis=self.axis)


def concatenate(inputs, axis=-1, **kwargs):
    """Functional form of `Concatenate`: `concatenate([x1, x2], axis=-1)`."""
    return Concatenate(axis=axis, **kwargs)(inputs)
