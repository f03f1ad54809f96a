"""`kbridge.ops`: the Keras 3 op set, one name for every backend.

Layers, losses, metrics and optimizers are written once against these ops; each
adapter implements them for its framework (DESIGN.md invariant 2).
"""

from kbridge.ops import core, image, math, nn, numpy
from kbridge.ops.core import *  # noqa: F403
from kbridge.ops.image import *  # noqa: F403
from kbridge.ops.math import *  # noqa: F403
from kbridge.ops.nn import *  # noqa: F403
from kbridge.ops.numpy import *  # noqa: F403

OP_NAMES = tuple(core.__all__ + numpy.__all__ + nn.__all__ + math.__all__ + image.__all__)
