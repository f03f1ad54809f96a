"""`InputSpec`: what a layer accepts, checked on the outermost call."""


class InputSpec:
    """Specifies the rank, dtype and static dimensions a layer expects.

    Args:
        dtype: expected dtype name, or None.
        shape: expected full shape (None entries match anything), or None.
        ndim: exact rank, or None.
        max_ndim: maximum rank, or None.
        min_ndim: minimum rank, or None.
        axes: dict mapping an axis (may be negative) to its required size.
        allow_last_axis_squeeze: accepted for Keras compatibility.
        name: the input's name, for messages.
        optional: whether the input may be None.
    """

    def __init__(
        self,
        dtype=None,
        shape=None,
        ndim=None,
        max_ndim=None,
        min_ndim=None,
        axes=None,
        allow_last_axis_squeeze=False,
        name=None,
        optional=False,
    ):
        self.dtype = dtype
        self.shape = None if shape is None else tuple(shape)
        self.ndim = len(self.shape) if shape is not None else ndim
        self.max_ndim = max_ndim
        self.min_ndim = min_ndim
        self.axes = {int(k): v for k, v in (axes or {}).items()}
        self.allow_last_axis_squeeze = allow_last_axis_squeeze
        self.name = name
        self.optional = optional

    def get_config(self):
        """Returns the spec's constructor arguments."""
        return {
            "dtype": self.dtype,
            "shape": self.shape,
            "ndim": self.ndim,
            "max_ndim": self.max_ndim,
            "min_ndim": self.min_ndim,
            "axes": self.axes,
        }

    @classmethod
    def from_config(cls, config):
        """Creates a spec from `get_config()` output."""
        return cls(**config)

    def __repr__(self):
        parts = [f"{k}={v}" for k, v in self.get_config().items() if v not in (None, {})]
        return f"InputSpec({', '.join(parts)})"


def check_input_spec(layer_name, specs, shapes):
    """Raises ValueError naming the layer if any input shape breaks its spec.

    Args:
        layer_name: name used in the message.
        specs: an InputSpec or a list of them (one per input).
        shapes: the inputs' shapes (tuples), one per spec.
    """
    if not isinstance(specs, (list, tuple)):
        specs, shapes = [specs], [shapes[0]] if shapes else []
    if len(shapes) != len(specs):
        raise ValueError(f'Layer "{layer_name}" expects {len(specs)} input(s), but it received {len(shapes)} input tensors.')
    for index, (spec, shape) in enumerate(zip(specs, shapes)):
        if spec is None:
            continue
        if shape is None:
            if spec.optional:
                continue
            raise ValueError(f'Input {index} of layer "{layer_name}" is required, received None.')
        rank = len(shape)
        where = f'Input {index} of layer "{layer_name}" is incompatible with the layer:'
        if spec.ndim is not None and rank != spec.ndim:
            raise ValueError(f"{where} expected ndim={spec.ndim}, found ndim={rank}. Full shape received: {shape}")
        if spec.max_ndim is not None and rank > spec.max_ndim:
            raise ValueError(f"{where} expected max_ndim={spec.max_ndim}, found ndim={rank}. Full shape received: {shape}")
        if spec.min_ndim is not None and rank < spec.min_ndim:
            raise ValueError(f"{where} expected min_ndim={spec.min_ndim}, found ndim={rank}. Full shape received: {shape}")
        for axis, size in spec.axes.items():
            if size is None:
                continue
            if -rank <= axis < rank:
                got = shape[axis]
                if got is not None and got != size:
                    raise ValueError(
                        f"{where} expected axis {axis} of input shape to have value {size}, "
                        f"but received input with shape {shape}"
                    )
        if spec.shape is not None:
            for expected, got in zip(spec.shape, shape):
                if expected is not None and got is not None and expected != got:
                    raise ValueError(f"{where} expected shape={spec.shape}, found shape={shape}")
