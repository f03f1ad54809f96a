"""`StackedRNNCells`: several cells run as one (each cell's output feeds the next)."""

from kbridge import ops
from kbridge.layers._base import layer_config
from kbridge.layers.layer import Layer
from kbridge.utils import tree


class StackedRNNCells(Layer):
    """Wraps a list of RNN cells so an `RNN` runs them as one cell, in order.

    Args:
        cells: list of cells (each with `call` and `state_size`).
        **kwargs: base `Layer` arguments.
    """

    def __init__(self, cells, **kwargs):
        super().__init__(**kwargs)
        for cell in cells:
            if not callable(getattr(cell, "call", None)):
                raise ValueError(f"StackedRNNCells: every cell needs a `call` method; received {cell!r}")
            if getattr(cell, "state_size", None) is None:
                raise ValueError(f"StackedRNNCells: every cell needs a `state_size`; received {cell!r}")
        self.cells = list(cells)

    @property
    def state_size(self):
        """One entry per cell (an int or a list of ints)."""
        return [cell.state_size for cell in self.cells]

    @property
    def output_size(self):
        """The last cell's output size."""
        return _output_size(self.cells[-1])

    def get_initial_state(self, batch_size=None):
        """Each cell's initial states, in a list per cell."""
        states = []
        for cell in self.cells:
            get_initial_state = getattr(cell, "get_initial_state", None)
            if get_initial_state is not None:
                states.append(get_initial_state(batch_size=batch_size))
            elif isinstance(cell.state_size, int):
                states.append(ops.zeros((batch_size, cell.state_size), dtype=self.compute_dtype))
            else:
                states.append([ops.zeros((batch_size, d), dtype=self.compute_dtype) for d in cell.state_size])
        return states

    def build(self, input_shape):
        for cell in self.cells:
            if isinstance(cell, Layer) and not cell.built:
                cell.build(input_shape)
                cell.built = True
            input_shape = (tree.flatten(input_shape)[0], _output_size(cell))

    def call(self, inputs, states, training=False, **kwargs):
        new_states = []
        for cell, cell_states in zip(self.cells, states):
            is_list = tree.is_nested(cell_states)
            cell_states = list(cell_states) if is_list else [cell_states]
            call_kwargs = dict(kwargs)
            if isinstance(cell, Layer):
                if cell._call_info.has_training:
                    call_kwargs["training"] = training
                inputs, cell_states = cell.call(inputs, cell_states, **call_kwargs)
            else:
                inputs, cell_states = cell(inputs, cell_states, **call_kwargs)
            if not is_list and len(cell_states) == 1:
                cell_states = cell_states[0]
            new_states.append(cell_states)
        if len(new_states) == 1:
            new_states = new_states[0]
        return inputs, new_states

    def get_config(self):
        from kbridge.saving import serialization_lib

        return layer_config(self, cells=[serialization_lib.serialize_keras_object(cell) for cell in self.cells])

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from kbridge.saving import serialization_lib

        config = dict(config)
        cells = [
            serialization_lib.deserialize_keras_object(c, custom_objects=custom_objects) for c in config.pop("cells")
        ]
        return cls(cells, **config)


def _output_size(cell):
    size = getattr(cell, "output_size", None)
    if size is not None:
        return size
    return cell.state_size[0] if isinstance(cell.state_size, (list, tuple)) else cell.state_size
