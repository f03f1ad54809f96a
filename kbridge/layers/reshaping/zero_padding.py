"""`ZeroPadding1D`, `ZeroPadding2D`, `ZeroPadding3D`: zeros added before and after each spatial axis."""

from kbridge import ops
from kbridge.layers import _spatial
from kbridge.layers._base import check_build_shape, standardize_data_format
from kbridge.layers.input_spec import InputSpec
from kbridge.layers.layer import Layer


class _ZeroPadding(Layer):
    """Pads spatial axis `i` with `padding[i] = (before, after)` zeros."""

    rank = 1

    def __init__(self, padding, data_format=None, **kwargs):
        super().__init__(**kwargs)
        pairs = _spatial.normalize_pairs(padding, self.rank, "padding", type(self).__name__)
        self.padding = pairs[0] if self.rank == 1 else pairs
        self._pairs = pairs
        self.data_format = standardize_data_format(data_format)
        self.input_spec = InputSpec(ndim=self.rank + 2)

    def build(self, input_shape):
        check_build_shape(self, input_shape)

    def call(self, inputs):
        widths = [[0, 0]] * (self.rank + 2)
        for axis, pair in zip(_spatial.spatial_axes(self.rank, self.data_format), self._pairs):
            widths[axis] = list(pair)
        return ops.pad(inputs, widths)

    def compute_output_shape(self, input_shape):
        if len(input_shape) != self.rank + 2:
            raise ValueError(
                f'Layer "{self.name}" ({type(self).__name__}) expects inputs of rank {self.rank + 2}. '
                f"Received input shape {tuple(input_shape)}."
            )
        batch, spatial, channels = _spatial.split_shape(input_shape, self.data_format)
        lengths = [None if n is None else n + a + b for n, (a, b) in zip(spatial, self._pairs)]
        return _spatial.join_shape(batch, lengths, channels, self.data_format)

    def get_config(self):
        config = Layer.get_config(self)
        config.update(padding=self.padding, data_format=self.data_format)
        return config


class ZeroPadding1D(_ZeroPadding):
    """Pads the steps axis with zeros.

    Args:
        padding: int (both sides) or `(before, after)`.
        data_format: "channels_last" or "channels_first" (None: `image_data_format()`).
        **kwargs: base `Layer` arguments.
    """

    rank = 1

    def __init__(self, padding=1, data_format=None, **kwargs):
        super().__init__(padding, data_format=data_format, **kwargs)


class ZeroPadding2D(_ZeroPadding):
    """Pads rows and columns with zeros.

    Args:
        padding: int, `(rows, cols)` (symmetric) or `((top, bottom), (left, right))`.
        data_format: "channels_last" or "channels_first" (None: `image_data_format()`).
        **kwargs: base `Layer` arguments.
    """

    rank = 2

    def __init__(self, padding=(1, 1), data_format=None, **kwargs):
        super().__init__(padding, data_format=data_format, **kwargs)


class ZeroPadding3D(_ZeroPadding):
    """Pads three spatial axes with zeros.

    Args:
        padding: int, 3 ints (symmetric) or 3 `(before, after)` pairs.
        data_format: "channels_last" or "channels_first" (None: `image_data_format()`).
        **kwargs: base `Layer` arguments.
    """

    rank = 3

    def __init__(self, padding=((1, 1), (1, 1), (1, 1)), data_format=None, **kwargs):
        super().__init__(padding, data_format=data_format, **kwargs)
