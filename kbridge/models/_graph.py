"""Graph walking for Functional models: from output KerasTensors back to the inputs."""

import collections

from kbridge.symbolic.keras_tensor import KerasTensor
from kbridge.symbolic.node import Node
from kbridge.utils import tree


def node_of(tensor):
    """The Node that produced `tensor` (ValueError if it came from no layer call)."""
    history = tensor._keras_history
    if history is None:
        raise ValueError(
            f"{tensor} was not produced by a layer call: Functional model inputs must come from "
            "`kbridge.Input()` and outputs from layers or ops applied to them."
        )
    layer, node_index, _ = history
    return layer._inbound_nodes[node_index]


def build_map(inputs, outputs):
    """Depth-first walk from `outputs` to `inputs`.

    Returns:
        `(nodes, layer_order)`: the nodes met, ordered from inputs to outputs, and
        a dict layer -> index of first visit (for deterministic layer order).
    """
    input_ids = {id(t) for t in inputs}
    finished, in_progress, ordered, layer_order = set(), set(), [], {}
    for output in tree.flatten(outputs):
        stack = [(output, False)]
        while stack:
            tensor, expanded = stack.pop()
            node = node_of(tensor)
            if expanded:
                in_progress.discard(node)
                if node not in finished:
                    finished.add(node)
                    ordered.append(node)
                continue
            if node in finished:
                continue
            if not node.is_input and id(tensor) in input_ids:
                # An intermediate tensor declared as input: the graph starts here.
                finished.add(node)
                continue
            if node in in_progress:
                raise ValueError(f"{tensor} from layer '{node.layer.name}' is part of a cycle.")
            layer_order.setdefault(node.layer, len(layer_order))
            in_progress.add(node)
            stack.append((tensor, True))
            if not node.is_input:
                stack.extend((t, False) for t in reversed(node.input_tensors))
    return ordered, layer_order


def map_graph(inputs, outputs):
    """Orders a graph's nodes and layers as Keras 3 does.

    Args:
        inputs: flat list of input KerasTensors.
        outputs: flat list of output KerasTensors.

    Returns:
        `(nodes, nodes_by_depth, layers)`: the set of nodes in the model, a dict
        depth -> nodes (depth 0 = outputs), and the layers from inputs to outputs.
    """
    ordered, layer_order = build_map(inputs, outputs)
    in_graph = set(ordered)
    node_depth, layer_depth = {}, {}
    for node in reversed(ordered):
        depth = max(node_depth.setdefault(node, 0), layer_depth.get(node.layer, 0))
        layer_depth[node.layer] = depth
        node_depth[node] = depth
        for parent in node.parent_nodes:
            if parent in in_graph:
                node_depth[parent] = max(depth + 1, node_depth.get(parent, 0))
    for tensor in inputs:
        # Unused inputs still belong to the model.
        node = node_of(tensor)
        if node.is_input and node.layer not in layer_depth:
            layer_depth[node.layer] = 0
            layer_order[node.layer] = -1
            node_depth[node] = 0
    nodes_by_depth = collections.defaultdict(list)
    for node, depth in node_depth.items():
        nodes_by_depth[depth].append(node)
    layers_by_depth = collections.defaultdict(list)
    for layer, depth in layer_depth.items():
        layers_by_depth[depth].append(layer)
    layers = []
    for depth in sorted(layers_by_depth, reverse=True):
        layers.extend(sorted(layers_by_depth[depth], key=lambda la: layer_order[la]))

    computable = {id(t) for t in inputs}
    done = []
    for depth in sorted(nodes_by_depth, reverse=True):
        for node in nodes_by_depth[depth]:
            if node.is_input:
                continue  # Only the declared inputs are given values.
            for tensor in node.input_tensors:
                if id(tensor) not in computable:
                    raise ValueError(
                        f"Graph disconnected: cannot reach {tensor} (input of layer '{node.layer.name}') from the "
                        f"model's inputs. Layers reached without problem: {done}"
                    )
            done.append(node.layer.name)
            computable.update(id(t) for t in node.output_tensors)
    names = [layer.name for layer in layers]
    for name in names:
        if names.count(name) > 1:
            raise ValueError(f'The name "{name}" is used {names.count(name)} times in the model. Layer names must be unique.')
    return set(node_depth), dict(nodes_by_depth), layers


def is_input_tensor(tensor):
    """Whether `tensor` is the output of an InputLayer."""
    return node_of(tensor).is_input


def clone_graph_nodes(inputs, outputs):
    """Rewires a graph whose inputs include intermediate tensors onto fresh `Input`s.

    The layers are reused (weights shared); only new nodes and KerasTensors are
    created, so the original graph is left as it was.

    Returns:
        `(inputs, outputs)` with the same structures, ready for a Functional model.
    """
    from kbridge.layers.input_layer import Input, InputLayer

    ordered, _ = build_map(tree.flatten(inputs), outputs)
    mapping = {}
    new_inputs = []
    for tensor in tree.flatten(inputs):
        if is_input_tensor(tensor):
            new = tensor
        else:
            source = tensor._keras_history[0]
            optional = source.optional if isinstance(source, InputLayer) else False
            new = Input(batch_shape=tensor.shape, dtype=tensor.dtype, sparse=tensor.sparse, optional=optional)
        mapping[id(tensor)] = new
        new_inputs.append(new)

    def swap(x):
        if not isinstance(x, KerasTensor):
            return x
        new = mapping.get(id(x))
        if new is None:
            new = mapping[id(x)] = KerasTensor(x.shape, x.dtype, x.sparse, name=x.name)
        return new

    for node in ordered:
        if node.is_input:
            continue
        Node(
            node.layer,
            tree.map_structure(swap, node.call_args),
            tree.map_structure(swap, node.call_kwargs),
            tree.map_structure(swap, node.outputs),
        )
    new_outputs = tree.map_structure(swap, outputs)
    return tree.pack_sequence_as(inputs, new_inputs), new_outputs
