"""`InputLayer` and `Input`: the entry points of a Functional graph."""

from kbridge.backend.dtypes import standardize_dtype
from kbridge.layers.layer import Layer
from kbridge.symbolic.keras_tensor import KerasTensor
from kbridge.symbolic.node import Node


def _standardize_shape(shape, what):
    if shape is None:
        return None
    if isinstance(shape, int):
        shape = (shape,)
    try:
        shape = tuple(shape)
    except TypeError:
        raise TypeError(f"Input: `{what}` must be a tuple of ints or None, received {shape!r}") from None
    out = []
    for dim in shape:
        if dim is not None and (isinstance(dim, bool) or not isinstance(dim, int) or dim < 0):
            if hasattr(dim, "__index__") and not isinstance(dim, bool) and int(dim) >= 0:
                dim = int(dim)
            else:
                raise ValueError(f"Input: `{what}` must contain non-negative ints or None, received {shape!r}")
        out.append(dim)
    return tuple(out)


class InputLayer(Layer):
    """The layer behind `Input`: holds the graph's entry KerasTensor.

    Args:
        shape: the shape of one sample (no batch dimension).
        batch_size: optional static batch size.
        dtype: the input's dtype (default `kbridge.config.floatx()`).
        sparse: accepted for Keras compatibility.
        batch_shape: the full shape including the batch dimension
            (instead of `shape` and `batch_size`).
        input_tensor: an existing KerasTensor to use as the input.
        optional: whether the model accepts None for this input.
        name: the layer's (and input's) name.
    """

    def __init__(
        self,
        shape=None,
        batch_size=None,
        dtype=None,
        sparse=None,
        batch_shape=None,
        input_tensor=None,
        optional=False,
        name=None,
        **kwargs,
    ):
        kwargs.pop("ragged", None)
        if "input_shape" in kwargs:
            shape = kwargs.pop("input_shape")
        if "batch_input_shape" in kwargs:
            batch_shape = kwargs.pop("batch_input_shape")
        super().__init__(name=name, **kwargs)
        shape = _standardize_shape(shape, "shape")
        batch_shape = _standardize_shape(batch_shape, "batch_shape")
        if input_tensor is not None:
            if not isinstance(input_tensor, KerasTensor):
                raise ValueError(
                    f"InputLayer: `input_tensor` must be a KerasTensor, received {type(input_tensor).__name__}: "
                    f"{input_tensor!r}"
                )
            if shape is not None and shape != input_tensor.shape[1:]:
                raise ValueError(f"InputLayer: `shape`={shape} is incompatible with `input_tensor` {input_tensor.shape}")
            if batch_shape is not None and batch_shape != input_tensor.shape:
                raise ValueError(
                    f"InputLayer: `batch_shape`={batch_shape} is incompatible with `input_tensor` {input_tensor.shape}"
                )
            if dtype is not None and standardize_dtype(dtype) != input_tensor.dtype:
                raise ValueError(f"InputLayer: `dtype`={dtype} is incompatible with `input_tensor` {input_tensor.dtype}")
            batch_shape, dtype, sparse = input_tensor.shape, input_tensor.dtype, input_tensor.sparse
        else:
            if shape is not None and batch_shape is not None:
                raise ValueError("InputLayer: pass either `shape` or `batch_shape`, not both.")
            if batch_size is not None and batch_shape is not None:
                raise ValueError("InputLayer: pass either `batch_size` or `batch_shape`, not both.")
            if shape is None and batch_shape is None:
                raise ValueError("InputLayer: you must pass a `shape` argument.")
            if shape is not None:
                batch_shape = (batch_size,) + shape
        if dtype is None:
            from kbridge import config

            dtype = config.floatx()
        self._batch_shape = batch_shape
        self._dtype = standardize_dtype(dtype)
        self.sparse = bool(sparse)
        self.optional = bool(optional)
        if input_tensor is None:
            input_tensor = KerasTensor(batch_shape, self._dtype, self.sparse, name=self.name)
        elif input_tensor.name is None:
            input_tensor.name = self.name
        self._input_tensor = input_tensor
        Node(self, (), {}, input_tensor)
        self.built = True

    def call(self):
        return None

    @property
    def batch_shape(self):
        """The input's shape, batch dimension included."""
        return self._batch_shape

    @property
    def dtype(self):
        """The input's dtype."""
        return self._dtype

    @property
    def output(self):
        """The KerasTensor this layer feeds into the graph."""
        return self._input_tensor

    def get_config(self):
        """Returns the Keras 3 config (`batch_shape`, `dtype`, `sparse`, `name`, ...)."""
        return {
            "batch_shape": self._batch_shape,
            "dtype": self._dtype,
            "sparse": self.sparse,
            "ragged": False,
            "name": self.name,
            "optional": self.optional,
        }

    @classmethod
    def from_config(cls, config):
        """Creates the layer from `get_config()` output (Keras 3 configs accepted)."""
        config = {k: v for k, v in config.items() if k not in ("trainable",)}
        dtype = config.get("dtype")
        if isinstance(dtype, dict):
            config["dtype"] = dtype.get("config", dtype).get("name")
        return cls(**config)


def Input(
    shape=None,
    batch_size=None,
    dtype=None,
    sparse=None,
    batch_shape=None,
    name=None,
    tensor=None,
    optional=False,
):
    """Creates a symbolic input of a Functional model.

    Args:
        shape: the shape of one sample, e.g. `(32,)`; None entries are unknown sizes.
        batch_size: optional static batch size.
        dtype: the expected dtype (default `kbridge.config.floatx()`).
        sparse: accepted for Keras compatibility.
        batch_shape: the full shape including the batch dimension.
        name: the input's name (also the dict key when a model takes a dict).
        tensor: an existing KerasTensor to wrap.
        optional: whether None is accepted for this input.

    Returns:
        A KerasTensor whose `_keras_history` points at a new `InputLayer`.

    Example:
        >>> x = Input(shape=(4,))
        >>> x.shape
        (None, 4)
    """
    layer = InputLayer(
        shape=shape, batch_size=batch_size, dtype=dtype, sparse=sparse, batch_shape=batch_shape,
        input_tensor=tensor, optional=optional, name=name,
    )  # fmt: skip
    return layer.output
