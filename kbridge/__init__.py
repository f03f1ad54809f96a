"""kbridge: Keras-style models that are framework-neutral.

One model, defined once with Keras 3's API, runs on NumPy, JAX, PyTorch and
TensorFlow in one process and is handed to each as a native object through
`kbridge.adapters`. `import kbridge as keras` runs Keras 3 model-building code.
"""

from kbridge import (
    activations,
    backend,
    callbacks,
    config,
    constraints,
    distribution,
    initializers,
    layers,
    losses,
    metrics,
    models,
    ops,
    optimizers,
    random,
    regularizers,
    saving,
    utils,
)
from kbridge.dtype_policies import DTypePolicy
from kbridge.layers import Input, InputSpec, Layer
from kbridge.models import Model, Sequential
from kbridge.random import SeedGenerator
from kbridge.symbolic import KerasTensor
from kbridge.trainers.gradients import value_and_grad
from kbridge.variables import Variable
from kbridge.backend.stateless_scope import StatelessScope

__version__ = "0.1.0"

__all__ = [
    "DTypePolicy",
    "Input",
    "InputSpec",
    "KerasTensor",
    "Layer",
    "Model",
    "SeedGenerator",
    "Sequential",
    "StatelessScope",
    "Variable",
    "activations",
    "backend",
    "callbacks",
    "config",
    "constraints",
    "distribution",
    "initializers",
    "layers",
    "losses",
    "metrics",
    "models",
    "ops",
    "optimizers",
    "random",
    "regularizers",
    "saving",
    "utils",
    "value_and_grad",
]
