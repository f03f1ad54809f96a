"""`RNN`: runs a cell over the time axis with `ops.scan` (masks, go_backwards, stateful)."""

from kbridge import ops
from kbridge.layers._base import layer_config
from kbridge.layers.layer import Layer
from kbridge.layers.rnn._fused import fused_loop
from kbridge.layers.rnn.stacked_rnn_cells import StackedRNNCells
from kbridge.tracking import Trackable
from kbridge.utils import tree
from kbridge.variables import Variable


class _RNNStates(Trackable):
    """The `stateful=True` states: model state (in `variables`), not weights (as Keras)."""

    _HOLDS_WEIGHTS = False

    def __init__(self, variables):
        self._variables = list(variables)

    def _own_variables(self):
        return list(self._variables)


class RNN(Layer):
    """Base recurrent layer: applies `cell` to each timestep of `(batch, timesteps, features)` inputs.

    A cell has `call(inputs, states) -> (output, new_states)` and a `state_size`
    (int or list of ints); a list of cells is stacked (`StackedRNNCells`). Masked
    timesteps (`mask`, or the mask of an `Embedding(mask_zero=True)`/`Masking` before
    it) keep the previous states and output the previous output (zeros with
    `zero_output_for_mask=True`).

    Args:
        cell: an RNN cell, or a list of cells.
        return_sequences: return the whole output sequence instead of the last output.
        return_state: also return the final states (`output, *states`).
        go_backwards: process the sequence backwards (outputs in processing order).
        stateful: the final states of a batch are the initial states of the next
            (they are non-trainable model state; `reset_state()` zeroes them).
        unroll: unroll the time loop (static timesteps only).
        zero_output_for_mask: output zeros at masked timesteps.
        **kwargs: base `Layer` arguments.

    Call arguments:
        sequences: a 3-D tensor `(batch, timesteps, features)`.
        initial_state: a tensor or list of tensors (one per state).
        mask: boolean `(batch, timesteps)` tensor, True where a step is used.
        training: passed to the cell (dropout).
    """

    def __init__(
        self,
        cell,
        return_sequences=False,
        return_state=False,
        go_backwards=False,
        stateful=False,
        unroll=False,
        zero_output_for_mask=False,
        **kwargs,
    ):
        if isinstance(cell, (list, tuple)):
            cell = StackedRNNCells(cell)
        if not callable(getattr(cell, "call", None)):
            raise ValueError(f"RNN: `cell` needs a `call(inputs, states)` method; received {cell!r}")
        state_size = getattr(cell, "state_size", None)
        if state_size is None:
            raise ValueError(f"RNN: `cell` needs a `state_size` (an int, or one int per state); received {cell!r}")
        if not isinstance(state_size, (list, tuple, int)):
            raise ValueError(f"RNN: the cell's `state_size` must be an int or a list of ints; received {state_size!r}")
        super().__init__(**kwargs)
        self.zero_output_for_mask = zero_output_for_mask
        self.cell = cell
        self.return_sequences = return_sequences
        self.return_state = return_state
        self.go_backwards = go_backwards
        self.stateful = stateful
        self.unroll = unroll
        self.supports_masking = True
        self.state_size = [state_size] if isinstance(state_size, int) else list(state_size)
        self.single_state = isinstance(state_size, int)
        self.state_vars = None

    # -- structure ------------------------------------------------------------------------

    def _layer_label(self):
        return f'Layer "{self.name}" ({type(self).__name__})'

    def _state_structure(self):
        """Nested placeholders shaped like the cell's states (lists; stacked cells nest one level)."""
        return _structure_of(self.cell)

    def _output_size(self):
        size = getattr(self.cell, "output_size", None)
        if size is None:
            size = tree.flatten(self.state_size)[0]
        if not isinstance(size, int):
            raise ValueError(f"{self._layer_label()}: output_size must be an integer, received {size!r}.")
        return size

    def _check_rank(self, shape):
        if shape is None or len(shape) != 3:
            raise ValueError(
                f"{self._layer_label()} expects 3-D inputs (batch_size, timesteps, features), "
                f"received an input of shape {tuple(shape) if shape is not None else None}."
            )

    @property
    def states(self):
        """The stateful states (list of Variables), or None when not stateful."""
        return None if self.state_vars is None else list(self.state_vars._variables)

    def compute_output_shape(self, sequences_shape, initial_state_shape=None):
        batch_size, length = sequences_shape[0], sequences_shape[1]
        output_size = self._output_size()
        output_shape = (batch_size, length, output_size) if self.return_sequences else (batch_size, output_size)
        if not self.return_state:
            return output_shape
        states_shape = []
        for size in self.state_size:
            if isinstance(size, (list, tuple)):
                states_shape.append([(batch_size, s) for s in size])
            else:
                states_shape.append((batch_size, size))
        return (output_shape, *states_shape)

    def compute_mask(self, inputs, mask=None):
        mask = tree.flatten(mask)[0] if tree.is_nested(mask) else mask
        output_mask = mask if self.return_sequences else None
        if self.return_state:
            return [output_mask] + [None for _ in self.state_size]
        return output_mask

    # -- state ------------------------------------------------------------------------------

    def build(self, sequences_shape, initial_state_shape=None):
        self._check_rank(sequences_shape)
        step_shape = (sequences_shape[0],) + tuple(sequences_shape[2:])
        if isinstance(self.cell, Layer) and not self.cell.built:
            self.cell.build(step_shape)
            self.cell.built = True
        if self.stateful and self.state_vars is None:
            batch_size = sequences_shape[0]
            if not isinstance(batch_size, int):
                raise ValueError(
                    f"{self._layer_label()}: with `stateful=True` the batch size must be static. "
                    f"Found dynamic batch size: sequence.shape={tuple(sequences_shape)}"
                )
            initial = tree.flatten(self.get_initial_state(batch_size))
            self.state_vars = _RNNStates(
                Variable(ops.convert_to_numpy(value), dtype=self.variable_dtype, trainable=False, name="rnn_state")
                for value in initial
            )

    def get_initial_state(self, batch_size):
        """The cell's initial states (zeros), as a list (nested for stacked cells)."""
        get_initial_state = getattr(self.cell, "get_initial_state", None)
        if get_initial_state is not None:
            state = get_initial_state(batch_size=batch_size)
            return list(state) if tree.is_nested(state) else [state]
        dtype = getattr(self.cell, "compute_dtype", self.compute_dtype)
        return [ops.zeros((batch_size, size), dtype=dtype) for size in self.state_size]

    def reset_state(self):
        """Zeroes the stateful states."""
        for variable in self.states or []:
            variable.assign(ops.zeros_like(variable.value))

    def reset_states(self):
        """Alias of `reset_state()`."""
        self.reset_state()

    # -- calling ----------------------------------------------------------------------------

    def call(self, sequences, initial_state=None, mask=None, training=False):
        shape = ops.shape(sequences)
        self._check_rank(shape)
        batch_size, timesteps = shape[0], shape[1]
        if self.unroll and not isinstance(timesteps, int):
            raise ValueError(f"{self._layer_label()}: `unroll=True` needs a static number of timesteps.")
        mask = self._standardize_mask(mask, shape)
        structure = self._state_structure()
        dtype = getattr(self.cell, "compute_dtype", self.compute_dtype)
        if initial_state is None and self.stateful:
            # Copies: torch and tf assign in place at the end, under values autograd may still need.
            flat_states = [ops.copy(v.value) for v in self.state_vars._variables]
            if isinstance(batch_size, int) and flat_states and tuple(flat_states[0].shape)[0] != batch_size:
                raise ValueError(
                    f"{self._layer_label()} is stateful with batch size {tuple(flat_states[0].shape)[0]}; "
                    f"received a batch of {batch_size} sequences"
                )
        elif initial_state is None:
            flat_states = tree.flatten(self.get_initial_state(batch_size))
        else:
            flat_states = tree.flatten(initial_state)
            expected = len(tree.flatten(structure))
            if len(flat_states) != expected:
                raise ValueError(
                    f"{self._layer_label()} expects {expected} initial state tensor(s), received {len(flat_states)}."
                )
        flat_states = [_as_dtype(s, dtype) for s in flat_states]

        cell = self.cell
        cell_call = cell.call if isinstance(cell, Layer) else cell
        cell_kwargs = {}
        if isinstance(cell, Layer) and cell._call_info.has_training:
            cell_kwargs["training"] = training
        fused = fused_loop(self, sequences, flat_states, mask, training)
        if fused is not None:
            last_output, outputs, final_states = fused
        else:
            if training:
                _cache_dropout_masks(cell, sequences[:, 0], tree.pack_sequence_as(structure, flat_states))
            try:
                last_output, outputs, final_states = self._loop(
                    cell_call, cell_kwargs, sequences, flat_states, structure, mask, batch_size, dtype
                )
            finally:
                _clear_dropout_masks(cell)
        if self.stateful:
            for variable, value in zip(self.state_vars._variables, final_states):
                variable.assign(ops.cast(value, variable.dtype))
        output = outputs if self.return_sequences else last_output
        if self.return_state:
            return (output, *tree.pack_sequence_as(structure, final_states))
        return output

    def _standardize_mask(self, mask, shape):
        if mask is None:
            return None
        if tree.is_nested(mask):
            mask = tree.flatten(mask)[0]
            if mask is None:
                return None
        mask = ops.convert_to_tensor(mask)
        mask_shape = tuple(ops.shape(mask))
        if len(mask_shape) != 2 or any(_differ(m, s) for m, s in zip(mask_shape, shape[:2])):
            raise ValueError(
                f"{self._layer_label()} expects a mask of shape (batch_size, timesteps) = {tuple(shape[:2])}, "
                f"received a mask of shape {mask_shape}."
            )
        if ops.dtype(mask) != "bool":
            mask = ops.cast(mask, "bool")
        return mask

    def _loop(self, cell_call, cell_kwargs, sequences, flat_states, structure, mask, batch_size, dtype):
        zero_output_for_mask = self.zero_output_for_mask
        return_sequences = self.return_sequences
        n_states = len(flat_states)

        def step(carry, x):
            states, previous_output = carry[:n_states], carry[n_states]
            if mask is not None:
                x, keep = x
            output, new_states = cell_call(x, tree.pack_sequence_as(structure, states), **cell_kwargs)
            new_states = tree.flatten(new_states)
            if mask is not None:
                new_states = [ops.where(keep, new, old) for new, old in zip(new_states, states)]
                fallback = ops.zeros_like(output) if zero_output_for_mask else previous_output
                output = ops.where(keep, output, fallback)
            return (*new_states, output), (output if return_sequences else None)

        xs = ops.swapaxes(sequences, 0, 1)
        if mask is not None:
            keep = ops.swapaxes(mask, 0, 1)
            for _ in range(self._output_feature_rank()):  # broadcast over the output's feature axes
                keep = ops.expand_dims(keep, -1)
            xs = (xs, keep)
        if self.go_backwards:
            xs = tree.map_structure(lambda t: ops.flip(t, axis=0), xs)
        init = (*flat_states, self._initial_output(flat_states, batch_size, dtype))
        carry, ys = ops.scan(step, init, xs=xs, unroll=True if self.unroll else 1)
        outputs = ops.swapaxes(ys, 0, 1) if return_sequences else None
        return carry[n_states], outputs, list(carry[:n_states])

    def _output_feature_rank(self):
        """How many axes a step's output has after the batch axis (1: a vector per sample)."""
        return 1

    def _initial_output(self, flat_states, batch_size, dtype):
        """The "previous output" of the first step (what a masked first step outputs)."""
        return ops.zeros((batch_size, self._output_size()), dtype=dtype)

    # -- config -----------------------------------------------------------------------------

    def _rnn_config(self):
        return layer_config(
            self,
            return_sequences=self.return_sequences,
            return_state=self.return_state,
            go_backwards=self.go_backwards,
            stateful=self.stateful,
            unroll=self.unroll,
            zero_output_for_mask=self.zero_output_for_mask,
        )

    def get_config(self):
        from kbridge.saving import serialization_lib

        config = self._rnn_config()
        config["cell"] = serialization_lib.serialize_keras_object(self.cell)
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from kbridge.saving import serialization_lib

        config = dict(config)
        cell = serialization_lib.deserialize_keras_object(config.pop("cell"), custom_objects=custom_objects)
        return cls(cell, **config)


def _structure_of(cell):
    if isinstance(cell, StackedRNNCells):
        return [_structure_of(c) for c in cell.cells]
    size = cell.state_size
    return [0] * len(size) if isinstance(size, (list, tuple)) else [0]


def _differ(a, b):
    """Whether two dimensions are both static and different."""
    return isinstance(a, int) and isinstance(b, int) and a != b


def _as_dtype(value, dtype):
    value = ops.convert_to_tensor(value)
    return value if ops.dtype(value) == dtype else ops.cast(value, dtype)


def _cache_dropout_masks(cell, step_input, states):
    """Draws each cell's dropout masks once, before the loop (so the loop body is pure)."""
    if isinstance(cell, StackedRNNCells):
        for inner, inner_states in zip(cell.cells, states):
            _cache_dropout_masks(inner, step_input, inner_states)
            # The next cell's step input has the size of this cell's output.
            size = getattr(inner, "output_size", None) or tree.flatten(inner.state_size)[0]
            step_input = ops.zeros((ops.shape(step_input)[0], size), dtype=ops.dtype(step_input))
    elif hasattr(cell, "_cache_dropout_masks"):
        first = tree.flatten(states)[0]
        cell._cache_dropout_masks(step_input, first)


def _clear_dropout_masks(cell):
    if isinstance(cell, StackedRNNCells):
        for inner in cell.cells:
            _clear_dropout_masks(inner)
    elif hasattr(cell, "reset_dropout_mask"):
        cell.reset_dropout_mask()
        cell.reset_recurrent_dropout_mask()
