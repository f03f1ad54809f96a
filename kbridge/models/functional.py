"""`Functional`: a model defined as a graph of layer calls on KerasTensors."""

import warnings

from kbridge import ops
from kbridge.layers.input_layer import InputLayer
from kbridge.layers.layer import Layer
from kbridge.models import _graph
from kbridge.models.model import Model, _functional_like_constructor
from kbridge.symbolic.keras_tensor import KerasTensor
from kbridge.symbolic.op_layer import OpLayer
from kbridge.utils import tree


class _Step:
    """One node of the graph, prepared for fast execution."""

    __slots__ = (
        "args",
        "arg_masks",
        "computes_mask",
        "first_arg",
        "kwargs",
        "layer",
        "mask_given",
        "out_slots",
        "single_input",
        "single_output",
        "takes_mask",
        "training_given",
    )  # fmt: skip

    def __init__(self, node):
        layer = node.layer
        self.layer = layer
        self.args = node.call_args
        self.kwargs = node.call_kwargs
        simple = len(node.call_args) == 1 and not node.call_kwargs and isinstance(node.call_args[0], KerasTensor)
        self.single_input = id(node.call_args[0]) if simple else None
        arg_names = layer._call_info.arg_names
        if node.call_args:
            self.first_arg = node.call_args[0]
        else:
            self.first_arg = node.call_kwargs.get(arg_names[0]) if arg_names else None
        flat_outputs = tree.flatten(node.outputs)
        self.out_slots = [(i, id(t)) for i, t in enumerate(flat_outputs) if isinstance(t, KerasTensor)]
        self.single_output = id(node.outputs) if isinstance(node.outputs, KerasTensor) else None
        self.training_given = "training" in node.call_kwargs and layer._call_info.has_training
        self.takes_mask = layer._call_info.has_mask
        self.mask_given = "mask" in node.call_kwargs
        self.computes_mask = type(layer).compute_mask is not Layer.compute_mask
        # `call(query, value, query_mask=None, ...)`: Keras fills `<arg>_mask` from the arg's mask.
        self.arg_masks = []
        for i, arg in enumerate(arg_names):
            param = f"{arg}_mask"
            if param in arg_names and param not in node.call_kwargs:
                tensor = node.call_args[i] if i < len(node.call_args) else node.call_kwargs.get(arg)
                if isinstance(tensor, KerasTensor):
                    self.arg_masks.append((param, id(tensor)))


class Functional(Model):
    """A model built from `Input`s and the layer calls leading to its outputs.

    Args:
        inputs: a KerasTensor from `Input()`, or a list/tuple/dict of them.
        outputs: KerasTensor(s) computed from `inputs` (single, list, tuple or dict).
        name: the model's name.
        trainable: whether its variables are trained.

    Example:
        >>> x = kbridge.Input(shape=(3,))
        >>> model = kbridge.models.Model(x, Dense(2)(x) + 1)
    """

    def __init__(self, inputs, outputs, name=None, trainable=True, **kwargs):
        Layer.__init__(self, name=name, **kwargs)
        if isinstance(inputs, dict):
            for key, value in inputs.items():
                if isinstance(value, KerasTensor) and value.name != key:
                    warnings.warn(
                        f"Functional model: input dict key {key!r} differs from the tensor's name {value.name!r}; "
                        f"name the Input {key!r} (`Input(..., name={key!r})`).",
                        stacklevel=2,
                    )
        for what, structure in (("inputs", inputs), ("outputs", outputs)):
            flat = tree.flatten(structure)
            if not flat:
                raise ValueError(f'Functional model "{self.name}": `{what}` must not be empty, received {structure!r}')
            for x in flat:
                if not isinstance(x, KerasTensor):
                    raise TypeError(
                        f'Functional model "{self.name}": all `{what}` must be KerasTensors, received '
                        f"{type(x).__name__}: {x!r}"
                    )
        if not all(_graph.is_input_tensor(t) for t in tree.flatten(inputs)):
            inputs, outputs = _graph.clone_graph_nodes(inputs, outputs)
        self._inputs_struct = tree.map_structure(lambda x: x, inputs)
        self._outputs_struct = tree.map_structure(lambda x: x, outputs)
        self._inputs = tree.flatten(inputs)
        self._outputs = tree.flatten(outputs)
        self._nodes, self._nodes_by_depth, self._operations = _graph.map_graph(self._inputs, self._outputs)
        self._steps = [
            _Step(node)
            for depth in sorted(self._nodes_by_depth, reverse=True)
            for node in self._nodes_by_depth[depth]
            if not node.is_input
        ]
        self._input_ids = [id(t) for t in self._inputs]
        self._output_masks_cache = None
        # Inputs are cast to each Input's own dtype in `call`, not to the compute dtype.
        self.autocast = False
        self.output_names = [t._keras_history[0].name for t in self._outputs]
        self.built = True
        if not trainable:
            self.trainable = False
        self._refresh_backend()
        self._set_variable_paths()

    # -- structure -----------------------------------------------------------------------

    @property
    def layers(self):
        """The layers from inputs to outputs, InputLayers included (as Keras 3)."""
        return [op for op in self._operations if not isinstance(op, OpLayer)]

    @layers.setter
    def layers(self, _):
        raise AttributeError("`Model.layers` is reserved and cannot be assigned.")

    @property
    def operations(self):
        """All graph operations: layers and recorded ops."""
        return list(self._operations)

    def _named_children(self):
        return [(f"layers.{index}", layer) for index, layer in enumerate(self.layers)]

    @property
    def inputs(self):
        """Flat list of the input KerasTensors."""
        return list(self._inputs)

    @property
    def outputs(self):
        """Flat list of the output KerasTensors."""
        return list(self._outputs)

    @property
    def input(self):
        """The inputs, in the structure given to the constructor."""
        return self._inputs_struct

    @property
    def output(self):
        """The outputs, in the structure given to the constructor."""
        return self._outputs_struct

    @property
    def input_shape(self):
        """The input shape(s), batch dimension included."""
        shapes = tree.map_structure(lambda x: x.shape, self._inputs_struct)
        return _unpack_singleton(shapes)

    @property
    def output_shape(self):
        """The output shape(s), batch dimension included."""
        shapes = tree.map_structure(lambda x: x.shape, self._outputs_struct)
        return _unpack_singleton(shapes)

    def build(self, input_shape=None):
        """A Functional model is built when created; this does nothing."""

    # -- calling -------------------------------------------------------------------------

    def call(self, inputs, training=None, mask=None):
        """Runs the graph on `inputs` (a tensor, or a list/dict matching the model's inputs)."""
        flat = self._standardize_inputs(inputs)
        return self._run(flat, training, mask, with_masks=True)

    def compute_output_spec(self, inputs, training=None, mask=None):
        """KerasTensors of the outputs for symbolic `inputs`."""
        flat = self._standardize_inputs(inputs)
        if all(tuple(x.shape) == ref.shape for x, ref in zip(flat, self._inputs) if x is not None):
            specs = tree.map_structure(lambda t: KerasTensor(t.shape, t.dtype, t.sparse), self._outputs_struct)
            return _unpack_singleton(specs)
        return self._run(flat, training, None, with_masks=False)

    def compute_output_shape(self, input_shape):
        """The output shape(s) for inputs of `input_shape`."""
        specs = self.compute_output_spec(_shapes_to_specs(input_shape, self._inputs))
        return tree.map_structure(lambda x: x.shape, specs)

    def compute_mask(self, inputs, previous_mask=None):
        """The output masks of the last call (masks flow through the graph during `call`)."""
        return self._output_masks_cache

    def _run(self, flat_inputs, training, mask, with_masks):
        values = dict(zip(self._input_ids, flat_inputs))
        masks = None
        if with_masks and mask is not None:
            flat_masks = tree.flatten(mask) if isinstance(mask, (list, tuple, dict)) else [mask]
            masks = {i: m for i, m in zip(self._input_ids, flat_masks) if m is not None} or None
        for step in self._steps:
            if step.single_input is not None:
                args, kwargs = (values[step.single_input],), {}
            else:
                args = _fill(step.args, values)
                kwargs = _fill(step.kwargs, values)
            if step.training_given and training is not None:
                kwargs["training"] = training
            previous_mask = None
            if masks is not None:
                previous_mask = _fill_masks(step.first_arg, masks)
                if step.takes_mask and not step.mask_given and previous_mask is not None:
                    kwargs["mask"] = previous_mask
                for param, tensor_id in step.arg_masks:
                    if masks.get(tensor_id) is not None:
                        kwargs[param] = masks[tensor_id]
            layer = step.layer
            outputs = layer(*args, **kwargs)
            if step.single_output is not None:
                values[step.single_output] = outputs
            else:
                flat = tree.flatten(outputs)
                for position, tensor_id in step.out_slots:
                    values[tensor_id] = flat[position]
            if with_masks and (step.computes_mask or (previous_mask is not None and layer.supports_masking)):
                first = args[0] if args else _fill(step.first_arg, values)
                output_mask = layer.compute_mask(first, previous_mask)
                if output_mask is not None:
                    masks = _store_masks(masks, step, output_mask)
        if with_masks:
            self._output_masks_cache = None
            if masks is not None:
                out_masks = [masks.get(id(t)) for t in self._outputs]
                if any(m is not None for m in out_masks):
                    packed = tree.pack_sequence_as(self._outputs_struct, out_masks)
                    self._output_masks_cache = _unpack_singleton(packed)
        outputs = [values[id(t)] for t in self._outputs]
        return _unpack_singleton(tree.pack_sequence_as(self._outputs_struct, outputs))

    def _standardize_inputs(self, inputs):
        """Flattens `inputs` in the model's input order, checking count, shapes and dtypes."""
        refs = self._inputs
        names = [t.name for t in refs]
        struct = self._inputs_struct
        if isinstance(inputs, dict):
            keys = list(struct) if isinstance(struct, dict) else names
            missing = [k for k in keys if k not in inputs]
            if missing:
                raise ValueError(
                    f'Model "{self.name}" is missing input(s) {missing} in the dict it received '
                    f"(keys: {list(inputs)}). Expected keys: {keys}."
                )
            if isinstance(struct, dict):
                flat = tree.flatten([inputs[k] for k in struct])
            else:
                flat = [inputs[k] for k in names]
        elif isinstance(inputs, (list, tuple)):
            flat = tree.flatten(inputs)
        else:
            flat = [inputs]
        if len(flat) != len(refs):
            raise ValueError(
                f'Model "{self.name}" expects {len(refs)} input(s) {names}, but it received {len(flat)} input tensor(s).'
            )
        return [self._check_input(x, ref, i) for i, (x, ref) in enumerate(zip(flat, refs))]

    def _check_input(self, x, ref, index):
        if x is None:
            layer = ref._keras_history[0]
            if isinstance(layer, InputLayer) and layer.optional:
                return None
            raise ValueError(f'Model "{self.name}": input "{ref.name}" is not optional, but None was passed.')
        if not hasattr(x, "shape"):
            x = ops.convert_to_tensor(x, dtype=ref.dtype)
        shape = tuple(x.shape)
        expected = ref.shape
        if len(shape) != len(expected):
            if len(shape) == len(expected) + 1 and shape[-1] == 1:
                x = ops.squeeze(x, axis=-1)
            elif len(shape) == len(expected) - 1 and expected[-1] == 1:
                x = ops.expand_dims(x, axis=-1)
            else:
                raise self._shape_error(ref, index, shape)
            shape = tuple(x.shape)
        for got, want in zip(shape, expected):
            if want is not None and isinstance(got, int) and got != want:
                raise self._shape_error(ref, index, shape)
        try:
            dtype = x.dtype if isinstance(x, KerasTensor) else ops.dtype(x)
        except ValueError as error:
            raise ValueError(
                f'Model "{self.name}": input {index} ("{ref.name}") expects dtype {ref.dtype}, '
                f"received an array of dtype {getattr(x, 'dtype', type(x).__name__)}."
            ) from error
        if dtype != ref.dtype:
            if _lossy_kind_change(dtype, ref.dtype):
                raise ValueError(
                    f'Model "{self.name}": input {index} ("{ref.name}") expects dtype {ref.dtype}, received {dtype}; '
                    "casting would lose information. Convert the input explicitly."
                )
            x = ops.cast(x, ref.dtype)
        return x

    def _shape_error(self, ref, index, shape):
        return ValueError(
            f'Model "{self.name}": input {index} ("{ref.name}") is incompatible: expected shape {ref.shape}, '
            f"received shape {tuple(shape)}."
        )

    # -- config --------------------------------------------------------------------------

    def get_config(self):
        """Keras 3's Functional config: `name`, `trainable`, `layers` (with `inbound_nodes`),
        `input_layers`, `output_layers`."""
        from kbridge.saving.serialization_lib import serialize_keras_object

        if not _functional_like_constructor(type(self)):
            return Model.get_config(self)
        reindex = {}
        for layer in self._operations:
            kept = 1 if isinstance(layer, Functional) else 0
            for index, node in enumerate(layer._inbound_nodes):
                if node in self._nodes:
                    reindex[(id(layer), index)] = kept
                    kept += 1
        layer_configs = []
        for layer in self._operations:
            inbound = [
                _serialize_node(node, self._nodes)
                for node in layer._inbound_nodes
                if node in self._nodes and not node.is_input
            ]
            layer_config = serialize_keras_object(layer)
            layer_config["name"] = layer.name
            layer_config["inbound_nodes"] = inbound
            layer_configs.append(layer_config)

        def tensor_config(tensor):
            layer, node_index, tensor_index = tensor._keras_history
            return [layer.name, reindex[(id(layer), node_index)], tensor_index]

        return {
            "name": self.name,
            "trainable": self.trainable,
            "layers": layer_configs,
            "input_layers": tree.map_structure(tensor_config, self._inputs_struct),
            "output_layers": tree.map_structure(tensor_config, self._outputs_struct),
        }

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """Rebuilds the model (new layers, same architecture) from `get_config()` output."""
        if {"layers", "input_layers", "output_layers"} <= set(config):
            return functional_from_config(cls, config, custom_objects=custom_objects)
        return Model.from_config.__func__(cls, config, custom_objects=custom_objects)


_SUBCLASSES = {}


def _functional_subclass(cls):
    """`cls` with Functional mixed in, for subclasses that call `super().__init__(inputs, outputs)`."""
    new = _SUBCLASSES.get(cls)
    if new is None:
        new = _SUBCLASSES[cls] = type(cls.__name__, (cls, Functional), {"__module__": cls.__module__})
    return new


def _lossy_kind_change(received, expected):
    """True for casts Keras would do silently but that drop information: complex to real, string to number."""
    if received.startswith("complex") and not expected.startswith("complex"):
        return True
    return (received == "string") != (expected == "string")


def _unpack_singleton(x):
    if isinstance(x, (list, tuple)) and len(x) == 1:
        return x[0]
    return x


def _fill(structure, values):
    return tree.map_structure(lambda x: values[id(x)] if isinstance(x, KerasTensor) else x, structure)


def _fill_masks(first_arg, masks):
    if isinstance(first_arg, KerasTensor):
        return masks.get(id(first_arg))
    if not isinstance(first_arg, (list, tuple, dict)):
        return None
    filled = tree.map_structure(lambda x: masks.get(id(x)) if isinstance(x, KerasTensor) else None, first_arg)
    return filled if any(m is not None for m in tree.flatten(filled)) else None


def _store_masks(masks, step, output_mask):
    masks = {} if masks is None else masks
    if step.single_output is not None:
        masks[step.single_output] = output_mask
        return masks
    flat = tree.flatten(output_mask) if isinstance(output_mask, (list, tuple, dict)) else [output_mask]
    for (_, tensor_id), mask in zip(step.out_slots, flat):
        if mask is not None:
            masks[tensor_id] = mask
    return masks


def _shapes_to_specs(shapes, refs):
    flat_refs = iter(refs)

    def is_shape(value):
        return isinstance(value, (tuple, list)) and all(d is None or isinstance(d, int) for d in value)

    def convert(value):
        if is_shape(value):
            ref = next(flat_refs)
            return KerasTensor(tuple(value), ref.dtype)
        if isinstance(value, dict):
            return {k: convert(v) for k, v in value.items()}
        return type(value)(convert(v) for v in value)

    return convert(shapes)


# -- config helpers ---------------------------------------------------------------------


def _serialize_node(node, own_nodes):
    from kbridge.saving.serialization_lib import serialize_keras_object

    def serialize_tensor(x):
        if not isinstance(x, KerasTensor):
            return x
        layer, node_index, tensor_index = x._keras_history
        foreign = sum(1 for n in layer._inbound_nodes[:node_index] if n not in own_nodes)
        return {
            "class_name": "__keras_tensor__",
            "config": {"shape": x.shape, "dtype": x.dtype, "keras_history": [layer.name, node_index - foreign, tensor_index]},
        }

    return {
        "args": serialize_keras_object(tree.map_structure(serialize_tensor, node.call_args)),
        "kwargs": serialize_keras_object(tree.map_structure(serialize_tensor, node.call_kwargs)),
    }


def _lookup_tensor(created, layer_name, node_index, tensor_index):
    layer = created.get(layer_name)
    if layer is None:
        raise ValueError(f"Invalid Functional config: unknown layer {layer_name!r}.")
    if len(layer._inbound_nodes) <= node_index:
        raise IndexError(node_index)  # Not created yet: retried later.
    return layer._inbound_nodes[node_index].output_tensors[tensor_index]


def _deserialize_node(node_data, created):
    from kbridge.saving.serialization_lib import deserialize_keras_object

    if isinstance(node_data, list):
        # Keras 2 format: [[layer_name, node_index, tensor_index, kwargs], ...]
        tensors, kwargs = [], {}
        for entry in node_data:
            tensors.append(_lookup_tensor(created, entry[0], entry[1], entry[2]))
            if len(entry) == 4:
                kwargs = entry[3]
        return [_unpack_singleton(tensors)], kwargs
    args = deserialize_keras_object(node_data.get("args", []))
    kwargs = deserialize_keras_object(node_data.get("kwargs", {}))

    def revive(x):
        history = getattr(x, "_pre_serialization_keras_history", None) if isinstance(x, KerasTensor) else None
        return x if history is None else _lookup_tensor(created, *history)

    return tree.map_structure(revive, list(args)), tree.map_structure(revive, dict(kwargs))


def functional_from_config(cls, config, custom_objects=None):
    """Creates a Functional model (of class `cls`) from Keras 3's Functional config."""
    from kbridge.saving.serialization_lib import deserialize_keras_object

    created, pending = {}, {}
    for layer_data in config["layers"]:
        layer = deserialize_keras_object(layer_data, custom_objects=custom_objects)
        if not isinstance(layer, Layer):
            raise TypeError(f"Invalid Functional config: {layer_data.get('class_name')!r} did not give a layer.")
        created[layer_data["name"]] = layer
        pending[layer_data["name"]] = list(layer_data.get("inbound_nodes") or [])
    while any(pending.values()):
        progress = False
        for name, nodes in pending.items():
            while nodes:
                try:
                    args, kwargs = _deserialize_node(nodes[0], created)
                except IndexError:
                    break
                created[name](*args, **kwargs)
                nodes.pop(0)
                progress = True
        if not progress:
            unresolved = {k: v for k, v in pending.items() if v}
            raise ValueError(f"Invalid Functional config: the graph has loops or disconnected nodes: {unresolved}")

    def get_tensor(layer_name, node_index, tensor_index):
        if isinstance(created.get(layer_name), Functional):
            node_index -= 1  # Keras counts a built-in node for nested Functionals.
        return _lookup_tensor(created, layer_name, node_index, tensor_index)

    def map_tensors(value):
        if isinstance(value, (list, tuple)) and len(value) == 3 and isinstance(value[0], str):
            return get_tensor(*value)
        if isinstance(value, dict):
            return {k: map_tensors(v) for k, v in value.items()}
        return [map_tensors(v) for v in value]

    kwargs = {}
    if config.get("trainable") is not None:
        kwargs["trainable"] = config["trainable"]
    return cls(
        inputs=map_tensors(config["input_layers"]),
        outputs=map_tensors(config["output_layers"]),
        name=config.get("name"),
        **kwargs,
    )
