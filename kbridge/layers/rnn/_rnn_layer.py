"""`CellLayer`: the shared base of `SimpleRNN`, `LSTM` and `GRU` (an `RNN` owning its cell)."""

from kbridge import activations, constraints, initializers, regularizers
from kbridge.layers.input_spec import InputSpec
from kbridge.layers.rnn.rnn import RNN

_SERIALIZERS = {"activation": activations.serialize, "recurrent_activation": activations.serialize}


def _serializer(key):
    if key in _SERIALIZERS:
        return _SERIALIZERS[key]
    suffixes = (("_initializer", initializers), ("_regularizer", regularizers), ("_constraint", constraints))
    for suffix, module in suffixes:
        if key.endswith(suffix):
            return module.serialize
    return None


class CellLayer(RNN):
    """An `RNN` whose cell arguments are its own: exposes them as attributes and in its config.

    Subclasses list their config keys after the `RNN` keys in `_CELL_KEYS` (Keras's order).
    """

    _CELL_KEYS = ()

    def __init__(self, cell, **kwargs):
        super().__init__(cell, **kwargs)
        self.input_spec = InputSpec(ndim=3)

    @classmethod
    def _make_cell(cls, cell_class, arguments, name, layer_kwargs, *positional, **extra):
        """Builds the cell from the layer's own constructor `arguments` (its `locals()`): the cell
        arguments are `_CELL_KEYS`; dtype and trainable follow the layer's."""
        cell_arguments = {key: arguments[key] for key in cls._CELL_KEYS if key != "activity_regularizer"}
        return cell_class(
            *positional, **cell_arguments, dtype=layer_kwargs.get("dtype"),
            trainable=layer_kwargs.get("trainable", True), name=name, **extra,
        )  # fmt: skip

    def __getattr__(self, name):
        # Only reached when normal lookup fails: the cell's arguments read through the layer.
        if name in type(self)._CELL_KEYS and name != "activity_regularizer" and "cell" in self.__dict__:
            return getattr(self.__dict__["cell"], name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def get_config(self):
        config = self._rnn_config()
        for key in self._CELL_KEYS:
            value = self.activity_regularizer if key == "activity_regularizer" else getattr(self.cell, key)
            serializer = _serializer(key)
            config[key] = serializer(value) if serializer is not None else value
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**config)
