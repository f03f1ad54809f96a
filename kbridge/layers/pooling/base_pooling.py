"""`BasePooling`: max or average pooling over 1, 2 or 3 spatial dimensions."""

from kbridge import ops
from kbridge.layers import _spatial
from kbridge.layers._base import standardize_data_format
from kbridge.layers.input_spec import InputSpec
from kbridge.layers.layer import Layer


class BasePooling(Layer):
    """Slides a `pool_size` window with `strides` and reduces each window (max or mean).

    Args:
        rank: number of spatial dimensions.
        pool_size: int or `rank` ints.
        strides: int or `rank` ints; None means `pool_size`.
        padding: "valid" or "same" (average pooling leaves padded pixels out of each mean).
        data_format: "channels_last" or "channels_first" (None: `image_data_format()`).
        **kwargs: base `Layer` arguments.
    """

    _mode = "max"

    def __init__(self, rank, pool_size, strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(**kwargs)
        layer = type(self).__name__
        self.rank = rank
        self.pool_size = _spatial.normalize_tuple(pool_size, rank, "pool_size", layer)
        self.strides = self.pool_size if strides is None else _spatial.normalize_tuple(strides, rank, "strides", layer)
        self.padding = _spatial.normalize_padding(padding, layer)
        self.data_format = standardize_data_format(data_format)
        self.input_spec = InputSpec(ndim=rank + 2)

    def call(self, inputs):
        pool = ops.max_pool if self._mode == "max" else ops.average_pool
        return pool(inputs, self.pool_size, strides=self.strides, padding=self.padding, data_format=self.data_format)

    def compute_output_shape(self, input_shape):
        name = type(self).__name__
        if len(input_shape) != self.rank + 2:
            raise ValueError(
                f'Layer "{self.name}" ({name}) expects inputs of rank {self.rank + 2}. '
                f"Received input shape {tuple(input_shape)}."
            )
        batch, spatial, channels = _spatial.split_shape(input_shape, self.data_format)
        lengths = [
            _spatial.window_length(size, p, s, 1, self.padding)
            for size, p, s in zip(spatial, self.pool_size, self.strides)
        ]
        _spatial.check_positive_lengths(
            f'Layer "{self.name}" ({name})', input_shape, lengths,
            f"pool_size={self.pool_size}, strides={self.strides}, padding={self.padding}",
        )  # fmt: skip
        return _spatial.join_shape(batch, lengths, channels, self.data_format)

    def get_config(self):
        config = Layer.get_config(self)
        config.update(
            pool_size=self.pool_size, padding=self.padding, strides=self.strides, data_format=self.data_format
        )
        return config

