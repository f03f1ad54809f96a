"""`to_module(model).to(device)`: tensors the model makes during `forward` go to the module's device.

The `meta` device stands in for CUDA here: like CUDA (and unlike torch-xla, which copies CPU
operands over silently) it rejects an op mixing its tensors with non-scalar CPU tensors, so a
constant, `arange` or random counter made on the default device fails the test. The XLA run
itself is `interop_tests/test_torch_xla.py` (`nox -s xla`).
"""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import kbridge  # noqa: E402
from kbridge import layers  # noqa: E402
from kbridge.adapters.torch import to_module  # noqa: E402
from kbridge.adapters.torch.backend._common import default_device  # noqa: E402


def _model():
    """Embedding, LayerNormalization, Dense, BatchNormalization and Dropout (seeded random ops)."""
    with kbridge.backend.use("torch"):
        tokens = layers.Input((5,), dtype="int32")
        feats = layers.Input((6,))
        e = layers.Embedding(20, 6)(tokens)
        e = layers.LayerNormalization()(e)
        e = layers.Dense(6)(layers.Flatten()(e))
        f = layers.BatchNormalization()(layers.Dense(6, activation="relu")(feats))
        x = layers.Dropout(0.3)(layers.Add()([e, f]))
        return kbridge.Model([tokens, feats], layers.Dense(3)(x))


@pytest.mark.parametrize("training", [False, True])
def test_forward_and_backward_stay_on_the_module_device(training):
    module = to_module(_model()).to("meta").train(training)
    rng = np.random.RandomState(0)
    inputs = [
        torch.from_numpy(rng.randint(0, 20, (4, 5)).astype("int32")).to("meta"),
        torch.from_numpy(rng.randn(4, 6).astype("float32")).to("meta"),
    ]
    out = module(inputs)
    assert out.device.type == "meta" and out.shape == (4, 3)
    out.sum().backward()
    assert all(p.grad is not None and p.grad.device.type == "meta" for p in module.parameters())
    assert all(b.device.type == "meta" for b in module.buffers())
    assert default_device() is None  # restored after the call


def test_numpy_inputs_are_converted_onto_the_module_device():
    module = to_module(_model()).to("meta").eval()
    rng = np.random.RandomState(0)
    out = module([rng.randint(0, 20, (4, 5)).astype("int32"), rng.randn(4, 6).astype("float32")])
    assert out.device.type == "meta"
