"""`Bidirectional`: runs a recurrent layer forwards and a copy backwards, and merges the outputs."""

import copy

from kbridge import ops
from kbridge.layers._base import layer_config
from kbridge.layers.layer import Layer

_MERGE_MODES = ("sum", "mul", "ave", "concat", None)


def _removeprefix(name, prefix):
    return name[len(prefix):] if name.startswith(prefix) else name


class Bidirectional(Layer):
    """Bidirectional wrapper of an `RNN` layer (Keras 3 `Bidirectional`).

    The forward layer is a copy of `layer` (named `forward_<name>`); the backward layer
    is `backward_layer`, or a copy of `layer` with `go_backwards=True` (named
    `backward_<name>`). Both get `zero_output_for_mask = return_sequences`. Weights:
    the forward layer's, then the backward layer's.

    Args:
        layer: an `RNN` layer (e.g. `LSTM`, `GRU`).
        merge_mode: how outputs are combined: "concat" (default), "sum", "mul", "ave",
            or None (a list `[forward, backward]`).
        weights: optional initial weights (forward's then backward's), set at build.
        backward_layer: optional `RNN` layer for the backward direction.
        **kwargs: base `Layer` arguments.
    """

    def __init__(self, layer, merge_mode="concat", weights=None, backward_layer=None, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(layer, Layer):
            raise ValueError(
                f'Layer "{self.name}" (Bidirectional) must wrap a `kbridge.layers.Layer` instance. Received: {layer}'
            )
        if backward_layer is not None and not isinstance(backward_layer, Layer):
            raise ValueError(
                f'Layer "{self.name}" (Bidirectional): `backward_layer` must be a `kbridge.layers.Layer` instance. '
                f"Received: {backward_layer}"
            )
        if merge_mode not in _MERGE_MODES:
            raise ValueError(
                f'Layer "{self.name}" (Bidirectional): invalid merge mode. Received: {merge_mode!r}. '
                'Merge mode should be one of {"sum", "mul", "ave", "concat", None}'
            )
        from kbridge.saving import serialization_lib

        config = serialization_lib.serialize_keras_object(layer)
        config["config"]["name"] = f"forward_{_removeprefix(layer.name, 'forward_')}"
        self.forward_layer = serialization_lib.deserialize_keras_object(config)
        if backward_layer is None:
            config = serialization_lib.serialize_keras_object(layer)
            config["config"]["go_backwards"] = True
            config["config"]["name"] = f"backward_{_removeprefix(layer.name, 'backward_')}"
            backward_layer = serialization_lib.deserialize_keras_object(config)
        self.backward_layer = backward_layer
        if hasattr(layer, "use_cudnn"):
            self.forward_layer.use_cudnn = layer.use_cudnn
            self.backward_layer.use_cudnn = layer.use_cudnn
        self._verify_layer_config()
        for direction in (self.forward_layer, self.backward_layer):
            if getattr(direction, "zero_output_for_mask", None) is not None:
                direction.zero_output_for_mask = direction.return_sequences
        self.merge_mode = merge_mode
        self._initial_weights = list(weights) if weights else None
        self.stateful = layer.stateful
        self.return_sequences = layer.return_sequences
        self.return_state = layer.return_state
        self.supports_masking = True
        self.input_spec = layer.input_spec

    def _verify_layer_config(self):
        forward, backward = self.forward_layer, self.backward_layer
        if forward.go_backwards == backward.go_backwards:
            raise ValueError(
                f'Layer "{self.name}" (Bidirectional): the backward layer must run the other way; both have '
                f"go_backwards={forward.go_backwards}"
            )
        for attribute in ("stateful", "return_sequences", "return_state"):
            if getattr(forward, attribute) != getattr(backward, attribute):
                raise ValueError(
                    f'Layer "{self.name}" (Bidirectional): `{attribute}` differs between the directions: '
                    f"forward {getattr(forward, attribute)}, backward {getattr(backward, attribute)}"
                )

    @property
    def states(self):
        """Forward then backward stateful states, or None."""
        if self.forward_layer.states and self.backward_layer.states:
            return tuple(self.forward_layer.states + self.backward_layer.states)
        return None

    def reset_state(self):
        """Zeroes both directions' states (stateful layers only)."""
        if not self.stateful:
            raise AttributeError(f'Layer "{self.name}" (Bidirectional) must be stateful to reset its states.')
        self.forward_layer.reset_state()
        self.backward_layer.reset_state()

    def reset_states(self):
        """Alias of `reset_state()`."""
        self.reset_state()

    def build(self, sequences_shape, initial_state_shape=None):
        if not self.forward_layer.built:
            self.forward_layer.build(sequences_shape)
            self.forward_layer.built = True
        if not self.backward_layer.built:
            self.backward_layer.build(sequences_shape)
            self.backward_layer.built = True
        if self._initial_weights is not None:
            weights, self._initial_weights = self._initial_weights, None
            self.set_weights(weights)

    def compute_output_shape(self, sequences_shape, initial_state_shape=None):
        output_shape = self.forward_layer.compute_output_shape(sequences_shape)
        if self.return_state:
            output_shape, state_shape = output_shape[0], tuple(output_shape[1:])
        if self.merge_mode == "concat":
            output_shape = tuple(output_shape[:-1]) + (output_shape[-1] * 2,)
        elif self.merge_mode is None:
            output_shape = [tuple(output_shape), tuple(output_shape)]
        if self.return_state:
            if self.merge_mode is None:
                return tuple(output_shape) + state_shape + state_shape
            return (tuple(output_shape),) + state_shape + state_shape
        return output_shape if isinstance(output_shape, list) else tuple(output_shape)

    def call(self, sequences, initial_state=None, mask=None, training=None):
        kwargs = {}
        if self.forward_layer._call_info.has_training:
            kwargs["training"] = training
        if self.forward_layer._call_info.has_mask:
            kwargs["mask"] = mask
        forward_state = backward_state = None
        if initial_state is not None:
            half = len(initial_state) // 2
            forward_state, backward_state = list(initial_state[:half]), list(initial_state[half:])
        y = self.forward_layer(sequences, initial_state=forward_state, **kwargs)
        y_rev = self.backward_layer(sequences, initial_state=backward_state, **kwargs)
        if self.return_state:
            states = tuple(y[1:]) + tuple(y_rev[1:])
            y, y_rev = y[0], y_rev[0]
        if self.return_sequences:
            y_rev = ops.flip(y_rev, axis=1)
        if self.merge_mode == "concat":
            output = ops.concatenate([y, y_rev], axis=-1)
        elif self.merge_mode == "sum":
            output = ops.add(y, y_rev)
        elif self.merge_mode == "ave":
            output = ops.divide(ops.add(y, y_rev), 2)
        elif self.merge_mode == "mul":
            output = ops.multiply(y, y_rev)
        else:
            output = [y, y_rev]
        if self.return_state:
            if self.merge_mode is None:
                return tuple(output) + states
            return (output,) + states
        return output

    def compute_mask(self, inputs, mask=None):
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        if self.return_sequences:
            output_mask = [mask, mask] if not self.merge_mode else mask
        else:
            output_mask = [None, None] if not self.merge_mode else None
        if self.return_state:
            n_states = len(self.forward_layer.state_size) * 2
            head = output_mask if isinstance(output_mask, list) else [output_mask]
            return head + [None] * n_states
        return output_mask

    def get_config(self):
        from kbridge.saving import serialization_lib

        config = layer_config(self, merge_mode=self.merge_mode)
        config["layer"] = serialization_lib.serialize_keras_object(self.forward_layer)
        config["backward_layer"] = serialization_lib.serialize_keras_object(self.backward_layer)
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from kbridge.saving import serialization_lib

        config = copy.deepcopy(config)
        config["layer"] = serialization_lib.deserialize_keras_object(config["layer"], custom_objects=custom_objects)
        backward = config.pop("backward_layer", None)
        if backward is not None:
            backward = serialization_lib.deserialize_keras_object(backward, custom_objects=custom_objects)
            config["backward_layer"] = backward
        return cls(**config)
