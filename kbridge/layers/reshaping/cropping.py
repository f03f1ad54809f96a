"""`Cropping1D`, `Cropping2D`, `Cropping3D`: remove entries at the start and end of each spatial axis."""

from kbridge import ops
from kbridge.layers import _spatial
from kbridge.layers._base import check_build_shape, standardize_data_format
from kbridge.layers.input_spec import InputSpec
from kbridge.layers.layer import Layer


class _Cropping(Layer):
    """Crops spatial axis `i` by `cropping[i] = (before, after)`."""

    rank = 1

    def __init__(self, cropping, data_format=None, **kwargs):
        super().__init__(**kwargs)
        pairs = _spatial.normalize_pairs(cropping, self.rank, "cropping", type(self).__name__)
        self.cropping = pairs[0] if self.rank == 1 else pairs
        self._pairs = pairs
        self.data_format = standardize_data_format(data_format)
        self.input_spec = InputSpec(ndim=self.rank + 2)

    def build(self, input_shape):
        check_build_shape(self, input_shape)
        self.compute_output_shape(input_shape)

    def call(self, inputs):
        key = [slice(None)] * (self.rank + 2)
        for axis, (before, after) in zip(_spatial.spatial_axes(self.rank, self.data_format), self._pairs):
            key[axis] = slice(before, -after if after else None)
        return ops.getitem(inputs, tuple(key))

    def compute_output_shape(self, input_shape):
        name = type(self).__name__
        if len(input_shape) != self.rank + 2:
            raise ValueError(
                f'Layer "{self.name}" ({name}) expects inputs of rank {self.rank + 2}. '
                f"Received input shape {tuple(input_shape)}."
            )
        batch, spatial, channels = _spatial.split_shape(input_shape, self.data_format)
        lengths = []
        for n, (before, after) in zip(spatial, self._pairs):
            if n is not None and before + after >= n:
                raise ValueError(
                    f'Layer "{self.name}" ({name}): `cropping` must be smaller than the input length on every '
                    f"spatial axis. Received: input_shape={tuple(input_shape)}, cropping={self.cropping}"
                )
            lengths.append(None if n is None else n - before - after)
        return _spatial.join_shape(batch, lengths, channels, self.data_format)


class Cropping1D(_Cropping):
    """Crops the steps axis of `(batch, steps, features)` inputs.

    Args:
        cropping: int (both ends) or `(start, end)`.
        **kwargs: base `Layer` arguments.
    """

    rank = 1

    def __init__(self, cropping=(1, 1), **kwargs):
        super().__init__(cropping, data_format="channels_last", **kwargs)

    def get_config(self):
        config = Layer.get_config(self)
        config.update(cropping=self.cropping)
        return config


class Cropping2D(_Cropping):
    """Crops rows and columns.

    Args:
        cropping: int, `(rows, cols)` (symmetric) or `((top, bottom), (left, right))`.
        data_format: "channels_last" or "channels_first" (None: `image_data_format()`).
        **kwargs: base `Layer` arguments.
    """

    rank = 2

    def __init__(self, cropping=((0, 0), (0, 0)), data_format=None, **kwargs):
        super().__init__(cropping, data_format=data_format, **kwargs)

    def get_config(self):
        config = Layer.get_config(self)
        config.update(cropping=self.cropping, data_format=self.data_format)
        return config


class Cropping3D(_Cropping):
    """Crops three spatial axes.

    Args:
        cropping: int, 3 ints (symmetric) or 3 `(start, end)` pairs.
        data_format: "channels_last" or "channels_first" (None: `image_data_format()`).
        **kwargs: base `Layer` arguments.
    """

    rank = 3

    def __init__(self, cropping=((1, 1), (1, 1), (1, 1)), data_format=None, **kwargs):
        super().__init__(cropping, data_format=data_format, **kwargs)

    def get_config(self):
        config = Layer.get_config(self)
        config.update(cropping=self.cropping, data_format=self.data_format)
        return config
