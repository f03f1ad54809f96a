"""`clone_model`: the same architecture with new layers (and new weights)."""

from kbridge.layers.input_layer import Input, InputLayer
from kbridge.models.functional import Functional
from kbridge.models.sequential import Sequential
from kbridge.symbolic.keras_tensor import KerasTensor
from kbridge.utils import tree


def _default_clone(layer):
    return type(layer).from_config(layer.get_config())


def clone_model(model, input_tensors=None, clone_function=None):
    """Returns a copy of `model` whose layers are new instances (weights re-initialized).

    Args:
        model: a Functional or Sequential model (subclassed models are recreated
            from their config).
        input_tensors: optional KerasTensor(s) to build the clone on.
        clone_function: called on each layer to make its copy (default:
            `layer.__class__.from_config(layer.get_config())`); return the layer
            itself to share it.
    """
    clone_function = clone_function or _default_clone
    if isinstance(model, Sequential):
        return _clone_sequential(model, input_tensors, clone_function)
    if isinstance(model, Functional):
        return _clone_functional(model, input_tensors, clone_function)
    if input_tensors is not None:
        raise ValueError("clone_model: `input_tensors` is only supported for Functional and Sequential models.")
    from kbridge.saving.serialization_lib import (
        deserialize_keras_object,
        serialize_keras_object,
    )

    return deserialize_keras_object(serialize_keras_object(model))


def _clone_sequential(model, input_tensors, clone_function):
    layers = [clone_function(layer) for layer in model.layers]
    first = model._layers[0] if model._layers else None
    if input_tensors is not None:
        inputs = tree.flatten(input_tensors)
        if len(inputs) != 1:
            raise ValueError(f"clone_model: a Sequential model takes one input tensor, received {len(inputs)}.")
        layers = [inputs[0]] + layers
    elif isinstance(first, InputLayer):
        layers = [InputLayer(batch_shape=first.batch_shape, dtype=first.dtype, name=first.name)] + layers
    return Sequential(layers, name=model.name, trainable=model.trainable)


def _clone_functional(model, input_tensors, clone_function):
    mapping = {}
    if input_tensors is not None:
        new_inputs = tree.flatten(input_tensors)
        if len(new_inputs) != len(model.inputs):
            raise ValueError(
                f"clone_model: model {model.name!r} has {len(model.inputs)} input(s), received {len(new_inputs)}."
            )
    else:
        new_inputs = []
        for tensor in model.inputs:
            layer = tensor._keras_history[0]
            new_inputs.append(
                Input(batch_shape=tensor.shape, dtype=tensor.dtype, name=layer.name, optional=layer.optional)
            )
    for old, new in zip(model.inputs, new_inputs):
        mapping[id(old)] = new
    clones = {}

    def swap(x):
        return mapping[id(x)] if isinstance(x, KerasTensor) else x

    for depth in sorted(model._nodes_by_depth, reverse=True):
        for node in model._nodes_by_depth[depth]:
            if node.is_input:
                continue
            layer = node.layer
            if id(layer) not in clones:
                clones[id(layer)] = clone_function(layer)
            outputs = clones[id(layer)](*tree.map_structure(swap, node.call_args), **tree.map_structure(swap, node.call_kwargs))
            for old, new in zip(node.output_tensors, [t for t in tree.flatten(outputs) if isinstance(t, KerasTensor)]):
                mapping[id(old)] = new
    inputs = tree.pack_sequence_as(model._inputs_struct, new_inputs)
    outputs = tree.map_structure(swap, model._outputs_struct)
    return Functional(inputs, outputs, name=model.name, trainable=model.trainable)
