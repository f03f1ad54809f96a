"""`Merge`: base of the layers that combine a list of tensors element-wise."""

from kbridge import ops
from kbridge.layers._base import layer_config
from kbridge.layers.layer import Layer


def broadcast_shapes(shape1, shape2):
    """The shape of an element-wise op on `shape1` and `shape2` (None: unknown), or ValueError."""
    if shape1 is None or shape2 is None:
        return None
    if len(shape1) < len(shape2):
        shape1, shape2 = shape2, shape1
    if not shape2:
        return tuple(shape1)
    out = list(shape1[: len(shape1) - len(shape2)])
    for a, b in zip(shape1[len(shape1) - len(shape2) :], shape2):
        if a is None or b is None:
            out.append(None)
        elif a == 1 or b == 1:
            out.append(b if a == 1 else a)
        elif a != b:
            raise ValueError(f"Inputs have incompatible shapes. Received shapes {tuple(shape1)} and {tuple(shape2)}")
        else:
            out.append(a)
    return tuple(out)


class Merge(Layer):
    """Base class: subclasses implement `_merge_function(inputs)` on a list of tensors.

    Inputs of lower rank get size-1 axes inserted after the batch axis.

    Args:
        **kwargs: base `Layer` arguments.
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True
        self._reshape_required = False

    def _merge_function(self, inputs):
        raise NotImplementedError

    def build(self, input_shape):
        if not isinstance(input_shape, (list, tuple)) or not input_shape or not isinstance(input_shape[0], (tuple, list)):
            raise ValueError(
                "A merge layer should be called on a list of inputs. "
                f"Received: input_shape={input_shape} (not a list of shapes)"
            )
        batch_sizes = {s[0] for s in input_shape if s} - {None}
        if len(batch_sizes) > 1:
            raise ValueError(f"Cannot merge tensors with different batch sizes. Received tensors with shapes {input_shape}")
        self._output_feature_shape(input_shape)
        self._reshape_required = len({len(s) for s in input_shape}) != 1

    def _output_feature_shape(self, input_shape):
        shape = tuple(input_shape[0][1:])
        for other in input_shape[1:]:
            shape = broadcast_shapes(shape, tuple(other[1:]))
        return shape

    def call(self, inputs):
        if not isinstance(inputs, (list, tuple)):
            raise ValueError(f"A merge layer should be called on a list of inputs. Received: inputs={inputs} (not a list of tensors)")
        if self._reshape_required:
            max_rank = max(len(ops.shape(x)) for x in inputs)
            expanded = []
            for x in inputs:
                for _ in range(max_rank - len(ops.shape(x))):
                    x = ops.expand_dims(x, 1)
                expanded.append(x)
            inputs = expanded
        return self._merge_function(list(inputs))

    def compute_output_shape(self, input_shape):
        shape = self._output_feature_shape(input_shape)
        batch_sizes = {s[0] for s in input_shape if s is not None} - {None}
        batch = batch_sizes.pop() if len(batch_sizes) == 1 else None
        return (batch,) + tuple(shape)

    def compute_mask(self, inputs, mask=None):
        """The element-wise OR of the input masks (None if any is None)."""
        if mask is None:
            return None
        if not isinstance(mask, (tuple, list)):
            raise ValueError(f"`mask` should be a list. Received: mask={mask}")
        if not isinstance(inputs, (tuple, list)):
            raise ValueError(f"`inputs` should be a list. Received: inputs={inputs}")
        if len(mask) != len(inputs):
            raise ValueError(
                "The lists `inputs` and `mask` should have the same length. "
                f"Received: inputs={inputs} of length {len(inputs)}, and mask={mask} of length {len(mask)}"
            )
        if any(m is None for m in mask):
            return None
        output_mask = mask[0]
        for m in mask[1:]:
            output_mask = ops.logical_or(output_mask, m)
        return output_mask

    def get_config(self):
        return layer_config(self)
