"""Keras 3 configs: object (de)serialization, registry, safe mode, model config round trips."""

import json
import sys

import numpy as np
import pytest

from kbridge import config, layers, ops
from kbridge.models import Functional, Model, Sequential, clone_model, model_from_json
from kbridge.saving import (
    CustomObjectScope,
    SafeModeScope,
    custom_object_scope,
    deserialize_keras_object,
    get_custom_objects,
    get_registered_name,
    get_registered_object,
    register_keras_serializable,
    serialize_keras_object,
)
from kbridge.symbolic.op_layer import OpLayer


@pytest.fixture(autouse=True)
def numpy_backend():
    previous = config.backend()
    config.set_backend("numpy")
    yield
    config.set_backend(previous)


def rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype("float32")


@register_keras_serializable(package="kbtest")
class Affine(layers.Layer):
    def __init__(self, factor=2.0, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def build(self, input_shape):
        self.shift = self.add_weight(shape=(input_shape[-1],), initializer="ones", name="shift")

    def call(self, x):
        return x * self.factor + self.shift

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


class Unregistered(layers.Layer):
    def call(self, x):
        return x * 3.0


@register_keras_serializable(package="kbtest", name="triple")
def triple(x):
    return x * 3.0


def test_layer_config_has_keras_keys():
    dense = layers.Dense(3, name="d")
    dense.build((None, 2))
    cfg = serialize_keras_object(dense)
    assert cfg["module"] == "keras.layers" and cfg["class_name"] == "Dense" and cfg["registered_name"] is None
    assert cfg["config"]["units"] == 3 and cfg["build_config"] == {"input_shape": (None, 2)}
    revived = deserialize_keras_object(json.loads(json.dumps(cfg)))
    assert isinstance(revived, layers.Dense) and revived.built and revived.units == 3


def test_plain_values_and_special_types():
    assert serialize_keras_object(None) is None
    assert serialize_keras_object({"a": (1, 2.5), "b": [True, "x"]}) == {"a": (1, 2.5), "b": [True, "x"]}
    array = np.arange(6, dtype="int32").reshape(2, 3)
    cfg = serialize_keras_object(array)
    assert cfg["class_name"] == "__numpy__"
    np.testing.assert_array_equal(deserialize_keras_object(json.loads(json.dumps(cfg))), array)
    for value in (slice(1, None, 2), Ellipsis, b"bytes"):
        assert deserialize_keras_object(serialize_keras_object(value)) == value
    assert serialize_keras_object(np.float32(1.5)) == 1.5


def test_registry_and_custom_objects():
    assert get_registered_name(Affine) == "kbtest>Affine"
    assert get_registered_object("kbtest>Affine") is Affine
    assert get_custom_objects()["kbtest>triple"] is triple
    with pytest.raises(ValueError, match="already been registered"):
        register_keras_serializable(package="kbtest")(Affine)
    with pytest.raises(ValueError, match="get_config"):
        register_keras_serializable(package="kbtest")(type("NoConfig", (), {}))
    cfg = serialize_keras_object(Affine(3.0, name="aff"))
    assert cfg["registered_name"] == "kbtest>Affine" and cfg["module"] == __name__
    revived = deserialize_keras_object(cfg)
    assert isinstance(revived, Affine) and revived.factor == 3.0
    fn_cfg = serialize_keras_object(triple)
    assert fn_cfg == {"module": __name__, "class_name": "function", "config": "kbtest>triple", "registered_name": "kbtest>triple"}
    assert deserialize_keras_object(fn_cfg) is triple


def test_unregistered_classes_need_custom_objects():
    cfg = serialize_keras_object(Unregistered(name="u"))
    with pytest.raises(TypeError, match="Could not locate class 'Unregistered'"):
        deserialize_keras_object(cfg)
    assert isinstance(deserialize_keras_object(cfg, custom_objects={"Unregistered": Unregistered}), Unregistered)
    with CustomObjectScope({"Unregistered": Unregistered}):
        assert get_registered_object("Unregistered") is Unregistered
        assert isinstance(deserialize_keras_object(cfg), Unregistered)
    with custom_object_scope({"Unregistered": Unregistered}):
        assert isinstance(deserialize_keras_object(cfg), Unregistered)
    assert get_registered_object("Unregistered") is None


def test_safe_mode_never_imports_modules_or_runs_code():
    name = "kbridge_test_not_a_real_module"
    with pytest.raises(TypeError, match="never imports"):
        deserialize_keras_object({"module": name, "class_name": "Evil", "config": {}, "registered_name": None})
    assert name not in sys.modules
    with pytest.raises(TypeError, match="Could not locate function 'system'"):
        deserialize_keras_object({"module": "os", "class_name": "function", "config": "system", "registered_name": None})
    with pytest.raises(TypeError, match="Could not locate class 'Popen'"):
        deserialize_keras_object({"module": "subprocess", "class_name": "Popen", "config": {}, "registered_name": None})
    # A built-in name under a foreign module is not resolved to the built-in either.
    with pytest.raises(TypeError):
        deserialize_keras_object({"module": "mypkg.layers", "class_name": "Dense", "config": {"units": 2}})

    with pytest.warns(UserWarning, match="lambda"):
        cfg = serialize_keras_object(lambda x: x + 1)
    with pytest.raises(ValueError, match="lambda"):
        deserialize_keras_object(cfg)
    assert deserialize_keras_object(cfg, safe_mode=False)(1) == 2
    with SafeModeScope(True), pytest.raises(ValueError, match="lambda"):
        deserialize_keras_object(cfg, safe_mode=False)


def build_functional():
    a, b = layers.Input((3,), name="a"), layers.Input((4,), name="b")
    shared = layers.Dense(3, name="shared")
    h = layers.Concatenate(name="cat")([shared(a), shared(layers.Dense(3, name="proj")(b))])
    h = layers.BatchNormalization(name="bn")(h)
    y = Affine(0.5, name="aff")(h)
    z = ops.concatenate([y, a * 2.0], axis=-1)
    return Model({"a": a, "b": b}, {"y": y, "z": z}, name="graph")


def test_functional_config_format():
    model = build_functional()
    cfg = model.get_config()
    assert cfg["name"] == "graph" and cfg["trainable"] is True
    assert cfg["input_layers"] == {"a": ["a", 0, 0], "b": ["b", 0, 0]}
    assert cfg["output_layers"]["y"] == ["aff", 0, 0]
    by_name = {layer["name"]: layer for layer in cfg["layers"]}
    assert by_name["a"]["class_name"] == "InputLayer" and by_name["a"]["inbound_nodes"] == []
    assert by_name["a"]["config"]["batch_shape"] == (None, 3)
    shared_nodes = by_name["shared"]["inbound_nodes"]
    assert len(shared_nodes) == 2
    assert shared_nodes[1]["args"][0]["config"]["keras_history"] == ["proj", 0, 0]
    assert shared_nodes[0]["args"][0]["class_name"] == "__keras_tensor__"
    op_cfg = next(layer for layer in cfg["layers"] if layer["class_name"] == "OpLayer" and layer["config"]["op_name"] == "concatenate")
    assert op_cfg["inbound_nodes"][0]["kwargs"] == {"axis": -1}


def test_functional_round_trip_gives_equal_outputs():
    model = build_functional()
    data = {"a": rand(4, 3), "b": rand(4, 4, seed=1)}
    model(data, training=True)  # move BatchNorm statistics away from their initial values
    expected = model(data)
    text = model.to_json()
    revived = model_from_json(text)
    assert type(revived) is Functional and revived.name == "graph"
    assert [l.name for l in revived.layers] == [l.name for l in model.layers]
    assert [p for p, _ in revived.named_variables()] == [p for p, _ in model.named_variables()]
    revived.set_weights(model.get_weights())
    out = revived(data)
    for key in ("y", "z"):
        np.testing.assert_allclose(out[key], expected[key], rtol=1e-6, atol=1e-6)
    again = Functional.from_config(model.get_config())
    again.set_weights(model.get_weights())
    np.testing.assert_allclose(again(data)["z"], expected["z"], rtol=1e-6, atol=1e-6)


def test_nested_and_shared_round_trip():
    x = layers.Input((3,), name="x")
    inner = Model(x, layers.Dense(2, name="d")(x), name="inner")
    y = layers.Input((3,), name="y")
    outer = Model(y, inner(y) + inner(y * 2.0), name="outer")
    cfg = outer.get_config()
    assert cfg["output_layers"] == [outer.output._keras_history[0].name, 0, 0]
    revived = deserialize_keras_object(json.loads(outer.to_json()))
    revived.set_weights(outer.get_weights())
    data = rand(2, 3)
    np.testing.assert_allclose(revived(data), outer(data), rtol=1e-6, atol=1e-6)
    sub = Model(y, inner(y), name="sub_out")
    assert sub.get_config()["output_layers"] == ["inner", 1, 0]
    revived_sub = Functional.from_config(sub.get_config())
    revived_sub.set_weights(sub.get_weights())
    np.testing.assert_allclose(revived_sub(data), sub(data), rtol=1e-6, atol=1e-6)


def test_sequential_config_and_round_trip():
    model = Sequential([layers.Input((3,)), layers.Dense(4), layers.Dropout(0.2), layers.Dense(1)], name="seq")
    cfg = serialize_keras_object(model)
    assert cfg["module"] == "keras" and cfg["class_name"] == "Sequential"
    inner = cfg["config"]
    assert inner["name"] == "seq" and inner["build_input_shape"] == (None, 3)
    assert inner["layers"][0]["class_name"] == "InputLayer"
    assert inner["layers"][0]["config"]["batch_shape"] == (None, 3)
    assert [layer["class_name"] for layer in inner["layers"][1:]] == ["Dense", "Dropout", "Dense"]
    revived = model_from_json(model.to_json())
    assert isinstance(revived, Sequential) and revived.built and len(revived.layers) == 3
    revived.set_weights(model.get_weights())
    data = rand(5, 3)
    np.testing.assert_allclose(revived(data), model(data), rtol=1e-6, atol=1e-6)
    deferred = Sequential([layers.Dense(2)], name="deferred")
    revived_deferred = deserialize_keras_object(serialize_keras_object(deferred))
    assert not revived_deferred.built and revived_deferred(rand(1, 3)).shape == (1, 2)


def test_clone_model():
    model = build_functional()
    clone = clone_model(model)
    assert clone is not model and clone.get_layer("shared") is not model.get_layer("shared")
    assert [p for p, _ in clone.named_variables()] == [p for p, _ in model.named_variables()]
    clone.set_weights(model.get_weights())
    data = {"a": rand(2, 3), "b": rand(2, 4, seed=3)}
    np.testing.assert_allclose(clone(data)["z"], model(data)["z"], rtol=1e-6, atol=1e-6)
    shared_clone = clone_model(model, clone_function=lambda layer: layer)
    np.testing.assert_allclose(shared_clone(data)["y"], model(data)["y"], rtol=1e-6, atol=1e-6)
    seq = Sequential([layers.Input((2,)), layers.Dense(3)])
    seq_clone = clone_model(seq)
    assert seq_clone.layers[0] is not seq.layers[0] and seq_clone.input_shape == (None, 2)


KERAS_FUNCTIONAL_JSON = (
    '{"module": "keras.src.models.functional", "class_name": "Functional", "config": {"name": "kf", "trainable": true, '
    '"layers": [{"module": "keras.layers", "class_name": "InputLayer", "config": {"batch_shape": [null, 3], "dtype": '
    '"float32", "sparse": false, "ragged": false, "name": "x", "optional": false}, "registered_name": null, "name": '
    '"x", "inbound_nodes": []}, {"module": "keras.layers", "class_name": "Dense", "config": {"name": "d", "trainable": '
    'true, "dtype": {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"}, "registered_name": '
    'null}, "units": 2, "activation": "relu", "use_bias": true, "kernel_initializer": {"module": "keras.initializers", '
    '"class_name": "GlorotUniform", "config": {"seed": null, "input_axes": null, '
    '"output_axes": null}, "registered_name": null}, "bias_initializer": {"module": '
    '"keras.initializers", "class_name": "Zeros", "config": {}, "registered_name": null}, "kernel_regularizer": null, '
    '"bias_regularizer": null, "kernel_constraint": null, "bias_constraint": null, "quantization_config": null}, '
    '"registered_name": null, '
    '"build_config": {"input_shape": [null, 3]}, "name": "d", "inbound_nodes": [{"args": [{"class_name": '
    '"__keras_tensor__", "config": {"shape": [null, 3], "dtype": "float32", "keras_history": ["x", 0, 0]}}], "kwargs": '
    '{}}]}, {"module": "keras.src.ops.numpy", "class_name": "Multiply", "config": {"name": "multiply"}, '
    '"registered_name": "Multiply", "name": "multiply", "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__", '
    '"config": {"shape": [null, 2], "dtype": "float32", "keras_history": ["d", 0, 0]}}, 2.0], "kwargs": {}}]}, '
    '{"module": "keras.src.ops.numpy", "class_name": "Concatenate", "config": {"axis": -1, "name": "concatenate"}, '
    '"registered_name": "Concatenate", "name": "concatenate", "inbound_nodes": [{"args": [[{"class_name": '
    '"__keras_tensor__", "config": {"shape": [null, 2], "dtype": "float32", "keras_history": ["multiply", 0, 0]}}, '
    '{"class_name": "__keras_tensor__", "config": {"shape": [null, 3], "dtype": "float32", "keras_history": ["x", 0, '
    '0]}}]], "kwargs": {}}]}], "input_layers": ["x", 0, 0], "output_layers": ["concatenate", 0, 0]}, "registered_name": '
    '"Functional", "build_config": {"input_shape": null}, "compile_config": {}}'
)


def test_loads_keras_written_functional_config():
    model = model_from_json(KERAS_FUNCTIONAL_JSON)
    assert [l.name for l in model.layers] == ["x", "d"]
    ops_used = [op for op in model.operations if isinstance(op, OpLayer)]
    assert [(op.op_name, op.op_kwargs) for op in ops_used] == [("multiply", {}), ("concatenate", {"axis": -1})]
    data = rand(2, 3)
    kernel, bias = model.get_layer("d").get_weights()
    expected = np.concatenate([np.maximum(data @ kernel + bias, 0) * 2.0, data], axis=-1)
    np.testing.assert_allclose(model(data), expected, rtol=1e-5, atol=1e-6)


def test_round_trip_of_ops_with_constant_arguments():
    x = layers.Input((5,), name="x")
    y = ops.concatenate([x[:, :2], x[..., 3:]], axis=-1) ** 2
    model = Model(x, ops.sum(y, axis=-1, keepdims=True) - 1.0)
    revived = model_from_json(model.to_json())
    data = np.arange(10, dtype="float32").reshape(2, 5)
    expected = (np.concatenate([data[:, :2], data[:, 3:]], axis=-1) ** 2).sum(-1, keepdims=True) - 1.0
    np.testing.assert_allclose(model(data), expected, rtol=1e-6)
    np.testing.assert_allclose(revived(data), expected, rtol=1e-6)
