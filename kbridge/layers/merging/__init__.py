"""Merging layers and their functional forms."""

from kbridge.layers.merging.add import Add, add
from kbridge.layers.merging.average import Average, average
from kbridge.layers.merging.base_merge import Merge
from kbridge.layers.merging.concatenate import Concatenate, concatenate
from kbridge.layers.merging.dot import Dot, dot
from kbridge.layers.merging.maximum import Maximum, maximum
from kbridge.layers.merging.minimum import Minimum, minimum
from kbridge.layers.merging.multiply import Multiply, multiply
from kbridge.layers.merging.subtract import Subtract, subtract

__all__ = [
    "Add", "Average", "Concatenate", "Dot", "Maximum", "Merge", "Minimum", "Multiply", "Subtract",
    "add", "average", "concatenate", "dot", "maximum", "minimum", "multiply", "subtract",
]  # fmt: skip
