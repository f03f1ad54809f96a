"""kbridge: Keras-style models that are framework-neutral.

One model, defined once with Keras 3's API, runs on NumPy, JAX, PyTorch and
TensorFlow in one process and is handed to each as a native object through
`kbridge.adapters`. `import kbridge as keras` runs Keras 3 model-building code.
"""

from kbridge import backend, config, ops, random, utils
from kbridge.random import SeedGenerator
from kbridge.symbolic import KerasTensor
from kbridge.variables import Variable

__version__ = "0.1.0"
