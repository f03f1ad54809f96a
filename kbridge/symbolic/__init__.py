"""Symbolic tensors, graph nodes and framework-free shape inference (the Functional API's base)."""

from kbridge.symbolic.keras_tensor import KerasTensor, is_keras_tensor
from kbridge.symbolic.node import Node


def symbolic_op(name, args, kwargs):
    """`kbridge.ops.<name>` called on KerasTensors outside any layer: records it as a graph node."""
    from kbridge.symbolic.op_layer import OpLayer

    return OpLayer(name)(*args, **kwargs)


__all__ = ["KerasTensor", "Node", "is_keras_tensor", "symbolic_op"]
