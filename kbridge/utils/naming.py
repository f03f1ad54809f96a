"""Layer names: Keras-style snake_case names made unique with a process-wide counter.

Names are for display and configs only; variable paths never use them (they are
structural, see `Layer.named_variables`).
"""

import collections
import re

_counts = collections.Counter()


def to_snake_case(name):
    """CamelCase -> snake_case as Keras 3 spells it ("BatchNormalization" -> "batch_normalization",
    "Conv2D" -> "conv2d"): default layer names and `.weights.h5` container entries depend on it."""
    name = re.sub(r"\W+", "", name)
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def uniquify(base):
    """Returns `base`, then `base_1`, `base_2`, ... on later calls."""
    count = _counts[base]
    _counts[base] += 1
    return base if count == 0 else f"{base}_{count}"


def auto_name(class_name):
    """A unique snake_case name for an instance of `class_name`."""
    return uniquify(to_snake_case(class_name))
