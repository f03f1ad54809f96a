"""`Dot`: batched dot product of two inputs along given axes."""

from kbridge import ops
from kbridge.layers._base import layer_config
from kbridge.layers.merging.base_merge import Merge

_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def batch_dot(x, y, axes):
    """Per-sample dot product of `x` and `y` contracting `x`'s axis `axes[0]` with `y`'s `axes[1]`.

    The output has the remaining axes of `x`, then those of `y` (batch dropped); a
    rank-1 result becomes `(batch, 1)`.
    """
    x_rank, y_rank = len(ops.shape(x)), len(ops.shape(y))
    a0, a1 = axes[0] % x_rank, axes[1] % y_rank
    if a0 == 0 or a1 == 0:
        raise ValueError(
            "Cannot perform batch_dot over axis 0. If your inputs are not batched, add a dummy batch "
            "dimension to your inputs using kbridge.ops.expand_dims(x, 0)"
        )
    x_sub = list(_LETTERS[:x_rank])
    y_sub = [x_sub[0]] + list(_LETTERS[x_rank : x_rank + y_rank - 1])
    y_sub[a1] = x_sub[a0]
    out = [x_sub[0]] + [c for i, c in enumerate(x_sub) if i not in (0, a0)]
    out += [c for i, c in enumerate(y_sub) if i not in (0, a1)]
    result = ops.einsum(f"{''.join(x_sub)},{''.join(y_sub)}->{''.join(out)}", x, y)
    if len(out) == 1:
        result = ops.expand_dims(result, -1)
    return result


class Dot(Merge):
    """Dot product of two inputs along `axes`, per sample.

    Args:
        axes: int (same axis for both) or a pair `(axis_of_x1, axis_of_x2)`; never 0 (the batch).
        normalize: whether to L2-normalize both inputs along the axes first
            (the output is then the cosine similarity).
        **kwargs: base `Layer` arguments.
    """

    def __init__(self, axes, normalize=False, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(axes, int):
            if not isinstance(axes, (list, tuple)):
                raise TypeError(f"Invalid type for argument `axes`: it should be a list or an int. Received: axes={axes}")
            if len(axes) != 2:
                raise ValueError(f"Invalid format for argument `axes`: it should contain two elements. Received: axes={axes}")
            if not isinstance(axes[0], int) or not isinstance(axes[1], int):
                raise ValueError(
                    f"Invalid format for argument `axes`: list elements should be integers. Received: axes={axes}"
                )
        self.axes = axes
        self.normalize = normalize
        self.supports_masking = True

    def _resolve_axes(self, rank1, rank2):
        if isinstance(self.axes, int):
            return [self.axes % rank1, self.axes % rank2] if self.axes < 0 else [self.axes, self.axes]
        return [self.axes[0] % rank1, self.axes[1] % rank2]

    def build(self, input_shape):
        if not isinstance(input_shape, (list, tuple)) or len(input_shape) != 2 or not isinstance(input_shape[0], (tuple, list)):
            raise ValueError(f"A `Dot` layer should be called on a list of 2 inputs. Received: input_shape={input_shape}")
        shape1, shape2 = input_shape
        axes = self._resolve_axes(len(shape1), len(shape2))
        if shape1[axes[0]] != shape2[axes[1]]:
            raise ValueError(
                f"Incompatible input shapes: axis values {shape1[axes[0]]} (at axis {axes[0]}) != "
                f"{shape2[axes[1]]} (at axis {axes[1]}). Full input shapes: {shape1}, {shape2}"
            )

    def _merge_function(self, inputs):
        if len(inputs) != 2:
            raise ValueError(f"A `Dot` layer should be called on exactly 2 inputs. Received: inputs={inputs}")
        x1, x2 = inputs
        axes = self._resolve_axes(len(ops.shape(x1)), len(ops.shape(x2)))
        if self.normalize:
            x1 = ops.normalize(x1, axis=axes[0])
            x2 = ops.normalize(x2, axis=axes[1])
        return batch_dot(x1, x2, axes)

    def compute_output_shape(self, input_shape):
        if not isinstance(input_shape, (tuple, list)) or len(input_shape) != 2:
            raise ValueError(f"A `Dot` layer should be called on a list of 2 inputs. Received: input_shape={input_shape}")
        shape1, shape2 = list(input_shape[0]), list(input_shape[1])
        axes = self._resolve_axes(len(shape1), len(shape2))
        shape1.pop(axes[0])
        shape2.pop(axes[1])
        shape2.pop(0)
        output = shape1 + shape2
        if len(output) == 1:
            output.append(1)
        return tuple(output)

    def compute_mask(self, inputs, mask=None):
        """Always None: the contraction has no per-step mask."""
        return None

    def get_config(self):
        return layer_config(self, axes=self.axes, normalize=self.normalize)


def dot(inputs, axes=-1, **kwargs):
    """Functional form of `Dot`: `dot([x1, x2], axes=-1)`."""
    return Dot(axes=axes, **kwargs)(inputs)
