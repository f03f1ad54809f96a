"""kbridge.Variable on every backend."""

import numpy as np
import pytest

import kbridge
from kbridge import ops

BACKENDS = ["numpy", "jax", "torch", "tensorflow"]


@pytest.mark.parametrize("name", BACKENDS)
def test_variable_basics(name):
    with kbridge.backend.use(name):
        v = kbridge.Variable(np.arange(6, dtype="float32").reshape(2, 3), name="kernel", trainable=False)
        assert (v.shape, v.dtype, v.ndim, v.name, v.trainable, v.backend) == ((2, 3), "float32", 2, "kernel", False, name)
        v.assign(np.ones((2, 3)))
        np.testing.assert_array_equal(v.numpy(), np.ones((2, 3), "float32"))
        v.assign_add(np.full((2, 3), 2.0, "float32"))
        v.assign_sub(np.ones((2, 3), "float32"))
        np.testing.assert_array_equal(np.asarray(v), np.full((2, 3), 2.0))
        assert v.dtype == "float32"
        np.testing.assert_allclose(ops.convert_to_numpy(v * 2 + 1), np.full((2, 3), 5.0))


@pytest.mark.parametrize("name", BACKENDS)
def test_variable_from_initializer_name(name):
    with kbridge.backend.use(name):
        v = kbridge.Variable("zeros", shape=(3,), dtype="int32")
    assert v.dtype == "int32" and v.numpy().tolist() == [0, 0, 0]


def test_variable_needs_shape_with_initializer():
    with pytest.raises(ValueError, match="`shape` is required"):
        kbridge.Variable("zeros")


def test_variable_rejects_dotted_names():
    with pytest.raises(ValueError, match="without '.'"):
        kbridge.Variable(np.zeros(1), name="a.b")


@pytest.mark.parametrize("source,target", [("numpy", "torch"), ("torch", "jax"), ("jax", "tensorflow"), ("tensorflow", "numpy")])
def test_variable_moves_between_backends_exactly(source, target):
    values = np.random.RandomState(0).randn(4, 5).astype("float32")
    with kbridge.backend.use(source):
        v = kbridge.Variable(values)
    v.to_backend(target)
    assert v.backend == target
    np.testing.assert_array_equal(v.numpy(), values)


def test_torch_variables_are_parameters_and_assign_in_place():
    import torch

    with kbridge.backend.use("torch"):
        trainable = kbridge.Variable(np.zeros(3, "float32"))
        frozen = kbridge.Variable(np.zeros(3, "float32"), trainable=False)
    storage = trainable._value
    assert isinstance(storage, torch.nn.Parameter) and storage.requires_grad
    assert not frozen._value.requires_grad
    trainable.assign(np.ones(3, "float32"))
    assert trainable._value is storage and storage.detach().numpy().tolist() == [1.0, 1.0, 1.0]


def test_tf_variables_are_tf_variables_assigned_in_place():
    import tensorflow as tf

    with kbridge.backend.use("tensorflow"):
        v = kbridge.Variable(np.zeros(3, "float32"), trainable=False)
    storage = v._value
    assert isinstance(storage, tf.Variable) and not storage.trainable
    v.assign(np.ones(3, "float32"))
    assert v._value is storage and storage.numpy().tolist() == [1.0, 1.0, 1.0]
