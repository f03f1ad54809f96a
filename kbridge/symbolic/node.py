"""`Node`: one symbolic call of a layer, linking its input KerasTensors to its outputs."""

from kbridge.symbolic.keras_tensor import KerasTensor
from kbridge.utils import tree


class Node:
    """Records `layer(*call_args, **call_kwargs) -> outputs` in a Functional graph.

    Attributes:
        layer: the called layer.
        call_args, call_kwargs: the arguments as given (KerasTensors among them).
        input_tensors: the KerasTensors among the arguments, flattened.
        outputs: the output structure of KerasTensors.
    """

    def __init__(self, layer, call_args, call_kwargs, outputs):
        self.layer = layer
        self.call_args = call_args
        self.call_kwargs = call_kwargs
        self.outputs = outputs
        self.input_tensors = [x for x in tree.flatten((call_args, call_kwargs)) if isinstance(x, KerasTensor)]
        self.output_tensors = [x for x in tree.flatten(outputs) if isinstance(x, KerasTensor)]
        node_index = len(layer._inbound_nodes)
        layer._inbound_nodes.append(self)
        for tensor_index, tensor in enumerate(self.output_tensors):
            tensor._keras_history = (layer, node_index, tensor_index)

    @property
    def is_input(self):
        """Whether this node is an Input (it has no input tensors)."""
        return not self.input_tensors

    @property
    def parent_nodes(self):
        """The nodes that produced this node's inputs."""
        parents = []
        for tensor in self.input_tensors:
            history = tensor._keras_history
            if history is not None:
                layer, node_index, _ = history
                parents.append(layer._inbound_nodes[node_index])
        return parents
