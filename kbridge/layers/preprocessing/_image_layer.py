"""Shared pieces of the image preprocessing layers: argument checks, image axes, affine warps."""

from kbridge import ops
from kbridge.layers._base import standardize_data_format
from kbridge.layers.regularization._random_layer import RandomLayer

FILL_MODES = ("reflect", "wrap", "constant", "nearest")
INTERPOLATIONS = ("nearest", "bilinear")


def describe(layer):
    """`Layer "name" (ClassName)`, the prefix of every error message."""
    return f'Layer "{layer.name}" ({type(layer).__name__})'


def image_axes(layer, shape):
    """(height axis, width axis) of an image (rank 3) or image batch (rank 4); errors name the layer."""
    rank = len(shape)
    if rank not in (3, 4):
        raise ValueError(
            f"{describe(layer)} expects an image of rank 3 or a batch of images of rank 4. "
            f"Received input shape {tuple(shape)}."
        )
    height_axis = rank - 3 if layer.data_format == "channels_last" else rank - 2
    return height_axis, height_axis + 1


def check_choice(layer, value, choices, name):
    """Raises ValueError naming the layer unless `value` is one of `choices`."""
    if value not in choices:
        raise ValueError(f"{describe(layer)}: `{name}` must be one of {choices}. Received: {name}={value!r}")
    return value


def factor_range(layer, factor, name, low, high, open_low=False, symmetric=True):
    """A factor (number or pair) as a sorted `(lower, upper)` pair within `[low, high]`.

    A number `f` gives `(-|f|, |f|)` (`symmetric`) or `(max(-|f|, low), |f|)`, as in Keras.
    `open_low` excludes `low` itself (RandomZoom's range is (-1, 1]).
    """
    interval = f"{'(' if open_low else '['}{low}, {high}]"

    def bad():
        return ValueError(
            f"{describe(layer)}: the `{name}` argument should be a number (or a list of two numbers) in the range "
            f"{interval}. Received: {name}={factor}"
        )

    def in_range(v):
        if not isinstance(v, (int, float)) or isinstance(v, bool):
            return False
        return (low < v if open_low else low <= v) and v <= high

    if isinstance(factor, (tuple, list)):
        if len(factor) != 2 or not all(in_range(v) for v in factor):
            raise bad()
        return tuple(sorted(factor))
    if not in_range(factor):
        raise bad()
    factor = abs(factor)
    return (-factor, factor) if symmetric else (max(-factor, low), factor)


class RandomImageLayer(RandomLayer):
    """A random image layer: identity unless called with `training=True`.

    Subclasses implement `_augment(images, height_axis, width_axis, batch)` on a batch
    (rank 4) already cast to the compute dtype.
    """

    def __init__(self, seed=None, data_format=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.data_format = standardize_data_format(data_format)

    def call(self, inputs, training=False):
        shape = ops.shape(inputs)
        image_axes(self, shape)
        images = ops.cast(inputs, self.compute_dtype)
        if not training:
            return images
        unbatched = len(shape) == 3
        if unbatched:
            images = ops.expand_dims(images, 0)
        height_axis, width_axis = image_axes(self, ops.shape(images))
        out = self._augment(images, height_axis, width_axis, ops.shape(images)[0])
        return ops.squeeze(out, 0) if unbatched else out

    def compute_output_shape(self, input_shape):
        image_axes(self, input_shape)
        return tuple(input_shape)


def warp(layer, images, transform):
    """`ops.image.affine_transform` with the layer's interpolation, fill mode and value."""
    return ops.image.affine_transform(
        images,
        transform,
        interpolation=layer.interpolation,
        fill_mode=layer.fill_mode,
        fill_value=layer.fill_value,
        data_format=layer.data_format,
    )


def affine_rows(columns):
    """Stacks per-image coefficient columns `[a0, a1, a2, b0, b1, b2]` (each `(batch,)`) into `(batch, 8)`."""
    zeros = ops.zeros_like(columns[0])
    return ops.stack(list(columns) + [zeros, zeros], axis=1)
