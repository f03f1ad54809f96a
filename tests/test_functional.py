"""Functional models: graph building, execution, masks, training flag, validation, paths."""

import numpy as np
import pytest

import kbridge
from kbridge import config, layers, ops
from kbridge.models import Functional, Model, Sequential
from kbridge.symbolic.op_layer import OpLayer


@pytest.fixture(autouse=True)
def numpy_backend():
    previous = config.backend()
    config.set_backend("numpy")
    yield
    config.set_backend(previous)


def rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype("float32")


def dense_np(layer, x):
    kernel, bias = layer.get_weights()
    return x @ kernel + bias


class AddTraining(layers.Layer):
    """Adds 1 when training, 0 otherwise."""

    def call(self, x, training=None):
        return x + (1.0 if training else 0.0)


class Scale(layers.Layer):
    """Doubles its input and passes the mask through."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def call(self, x):
        return x * 2.0


class MaskedMean(layers.Layer):
    """Mean over time steps where the mask is True."""

    def call(self, x, mask=None):
        if mask is None:
            return ops.mean(x, axis=1)
        weights = ops.expand_dims(ops.cast(mask, x.dtype), -1)
        return ops.sum(x * weights, axis=1) / ops.sum(weights, axis=1)


def test_model_call_returns_functional_and_computes_dense():
    x = layers.Input((3,), name="x")
    dense = layers.Dense(2, name="d")
    model = Model(x, dense(x), name="single")
    assert type(model) is Functional
    assert isinstance(model, Model)
    data = rand(4, 3)
    np.testing.assert_allclose(model(data), dense_np(dense, data), rtol=1e-6, atol=1e-6)
    assert [layer.name for layer in model.layers] == ["x", "d"]
    assert model.input_shape == (None, 3) and model.output_shape == (None, 2)
    assert model.inputs == [x] and model.input is x


def test_multi_input_multi_output_list():
    a, b = layers.Input((3,), name="a"), layers.Input((4,), name="b")
    da, db = layers.Dense(2, name="da"), layers.Dense(2, name="db")
    ya, yb = da(a), db(b)
    total = layers.Add(name="total")([ya, yb])
    model = Model([a, b], [total, ya], name="multi")
    xa, xb = rand(5, 3), rand(5, 4, seed=1)
    out_total, out_a = model([xa, xb])
    np.testing.assert_allclose(out_a, dense_np(da, xa), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out_total, dense_np(da, xa) + dense_np(db, xb), rtol=1e-5, atol=1e-6)
    # A dict keyed by input names works for list-structured inputs too.
    out_total2, _ = model({"b": xb, "a": xa})
    np.testing.assert_allclose(out_total2, out_total)


def test_dict_inputs_and_outputs():
    a, b = layers.Input((3,), name="a"), layers.Input((3,), name="b")
    dense = layers.Dense(2, name="d")
    model = Model({"a": a, "b": b}, {"sum": dense(a + b), "diff": a - b})
    xa, xb = rand(2, 3), rand(2, 3, seed=1)
    out = model({"b": xb, "a": xa})
    assert set(out) == {"sum", "diff"}
    np.testing.assert_allclose(out["diff"], xa - xb, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(out["sum"], dense_np(dense, xa + xb), rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match=r"missing input\(s\) \['b'\]"):
        model({"a": xa})


def test_shared_layer_is_listed_once_and_reused():
    a, b = layers.Input((3,), name="a"), layers.Input((3,), name="b")
    shared = layers.Dense(2, name="shared")
    model = Model([a, b], layers.Concatenate(name="cat")([shared(a), shared(b)]))
    assert [layer.name for layer in model.layers] == ["a", "b", "shared", "cat"]
    assert [path for path, _ in model.named_variables()] == ["layers.2.kernel", "layers.2.bias"]
    xa, xb = rand(2, 3), rand(2, 3, seed=1)
    expected = np.concatenate([dense_np(shared, xa), dense_np(shared, xb)], axis=-1)
    np.testing.assert_allclose(model([xa, xb]), expected, rtol=1e-5, atol=1e-6)
    assert model.count_params() == 8


def test_nested_functional_and_sequential():
    x = layers.Input((3,), name="x")
    inner = Model(x, layers.Dense(4, name="inner_dense")(x), name="inner")
    seq = Sequential([layers.Input((4,)), layers.Dense(2, name="seq_dense")], name="seq")
    y = layers.Input((3,), name="y")
    outer = Model(y, seq(inner(y)) * 3.0, name="outer")
    assert [layer.name for layer in outer.layers] == ["y", "inner", "seq"]
    assert [path for path, _ in outer.named_variables()] == [
        "layers.1.layers.1.kernel",
        "layers.1.layers.1.bias",
        "layers.2.layers.0.kernel",
        "layers.2.layers.0.bias",
    ]
    assert outer.get_layer("inner").get_layer("inner_dense").kernel.path == "layers.1.layers.1.kernel"
    data = rand(3, 3)
    expected = dense_np(seq.layers[0], dense_np(inner.get_layer("inner_dense"), data)) * 3.0
    np.testing.assert_allclose(outer(data), expected, rtol=1e-5, atol=1e-6)


def test_ops_on_keras_tensors_become_op_layers():
    x = layers.Input((3,), name="x")
    y = ops.concatenate([x + 1.0, ops.square(x)], axis=-1)
    z = 2.0 * y[:, :4]
    model = Model(x, z)
    op_names = [op.op_name for op in model.operations if isinstance(op, OpLayer)]
    assert "add" in op_names and "concatenate" in op_names and "square" in op_names
    assert all(not isinstance(layer, OpLayer) for layer in model.layers)
    data = rand(2, 3)
    expected = 2.0 * np.concatenate([data + 1.0, data**2], axis=-1)[:, :4]
    np.testing.assert_allclose(model(data), expected, rtol=1e-6, atol=1e-6)


def test_mask_propagates_through_layers_and_nested_models():
    tokens = np.array([[1, 2, 0, 0], [3, 0, 0, 0]], dtype="int32")
    t = layers.Input((4,), dtype="int32", name="tok")
    embedding = layers.Embedding(10, 3, mask_zero=True, name="emb")
    model = Model(t, MaskedMean()(Scale()(embedding(t))))
    table = embedding.get_weights()[0]
    expected = np.stack([table[1] + table[2], 2 * table[3]])
    np.testing.assert_allclose(model(tokens), expected, rtol=1e-5, atol=1e-6)

    t2 = layers.Input((4,), dtype="int32")
    inner = Model(t2, Scale()(embedding(t2)))
    t3 = layers.Input((4,), dtype="int32")
    outer = Model(t3, MaskedMean()(inner(t3)))
    np.testing.assert_allclose(outer(tokens), expected, rtol=1e-5, atol=1e-6)


def test_training_flag_reaches_layers_and_overrides_recorded_value():
    x = layers.Input((2,))
    default, forced = AddTraining()(x), AddTraining()(x, training=True)
    model = Model(x, [default, forced])
    data = np.zeros((1, 2), "float32")
    assert [float(o.sum()) for o in model(data)] == [0.0, 2.0]
    assert [float(o.sum()) for o in model(data, training=True)] == [2.0, 2.0]
    assert [float(o.sum()) for o in model(data, training=False)] == [0.0, 0.0]


def test_dropout_active_only_in_training():
    x = layers.Input((100,))
    model = Model(x, layers.Dropout(0.5, seed=1)(x))
    data = np.ones((4, 100), "float32")
    np.testing.assert_array_equal(model(data), data)
    trained = np.asarray(model(data, training=True))
    assert (trained == 0).any() and set(np.unique(trained)) <= {0.0, 2.0}


def test_input_validation_errors_name_model_input_and_shapes():
    a, b = layers.Input((3,), name="a"), layers.Input((2,), name="b")
    model = Model([a, b], layers.Concatenate()([a, b]), name="two_inputs")
    with pytest.raises(ValueError, match=r'Model "two_inputs" expects 2 input\(s\).*received 1'):
        model(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r'"two_inputs".*"a".*expected shape \(None, 3\), received shape \(2, 4\)'):
        model([np.zeros((2, 4)), np.zeros((2, 2))])
    with pytest.raises(ValueError, match=r'"two_inputs".*"b".*expected shape \(None, 2\), received shape \(2, 2, 5\)'):
        model([np.zeros((2, 3)), np.zeros((2, 2, 5))])
    with pytest.raises(ValueError, match="not optional"):
        model([np.zeros((2, 3)), None])


def test_symbolic_call_validates_shapes():
    x = layers.Input((3,))
    model = Model(x, layers.Dense(2)(x), name="sym")
    with pytest.raises(ValueError, match='"sym".*expected shape'):
        model(layers.Input((4,)))


def test_trailing_unit_dimension_and_dtype_are_adjusted():
    x = layers.Input((3, 1), name="x")
    model = Model(x, x * 2.0)
    out = model(np.ones((2, 3)))
    assert tuple(out.shape) == (2, 3, 1)
    wide = layers.Input((2,), dtype="float64")
    assert str(Model(wide, wide * 1.0)(np.full((1, 2), 1 + 1e-12)).dtype) == "float64"
    t = layers.Input((2,), dtype="int32")
    int_model = Model(t, t + 1)
    out = int_model(np.array([[1, 2]], dtype="int64"))
    assert str(out.dtype) == "int32"


def test_optional_input_accepts_none():
    x = layers.Input((2,), name="x")
    extra = layers.Input((2,), name="extra", optional=True)
    model = Model([x, extra], x * 1.0)
    np.testing.assert_allclose(model([np.ones((1, 2)), None]), np.ones((1, 2)))


def build_graph_model():
    a, b = layers.Input((3,), name="a"), layers.Input((4,), name="b")
    h = layers.Concatenate()([layers.Dense(4)(a), layers.Dense(4)(b)])
    h = layers.BatchNormalization()(h)
    return Model([a, b], [layers.Dense(1)(h), layers.Dense(2)(h)])


def test_paths_are_structural_and_identical_across_builds():
    first, second = build_graph_model(), build_graph_model()
    assert [l.name for l in first.layers] != [l.name for l in second.layers]
    paths = [path for path, _ in first.named_variables()]
    assert paths == [path for path, _ in second.named_variables()]
    assert "layers.2.kernel" in paths and "layers.5.moving_mean" in paths
    assert [v.path for v in first.variables] == paths
    second.set_weights(first.get_weights())
    data = [rand(3, 3), rand(3, 4, seed=2)]
    for out1, out2 in zip(first(data), second(data)):
        np.testing.assert_allclose(out1, out2, rtol=1e-6, atol=1e-6)
    # Loading by path gives the same result.
    third = build_graph_model()
    values = {path: v.numpy() for path, v in first.named_variables()}
    for path, variable in third.named_variables():
        variable.assign(values[path])
    np.testing.assert_allclose(third(data)[1], first(data)[1], rtol=1e-6, atol=1e-6)


def test_model_from_intermediate_tensors_shares_weights():
    x = layers.Input((3,))
    hidden = layers.Dense(4, name="h")(x)
    out = layers.Dense(2, name="o")(hidden)
    full = Model(x, out)
    head = Model(hidden, out)
    assert isinstance(head.layers[0], layers.InputLayer)
    data = rand(2, 4)
    np.testing.assert_allclose(head(data), dense_np(full.get_layer("o"), data), rtol=1e-5, atol=1e-6)
    assert head.get_layer("o") is full.get_layer("o")


def test_stateless_call_and_trainable_flag():
    x = layers.Input((3,))
    model = Model(x, layers.BatchNormalization()(layers.Dense(2)(x)), trainable=False)
    assert model.trainable_variables == [] and len(model.non_trainable_variables) == 6
    model.trainable = True
    assert len(model.trainable_variables) == 4
    trainable = [np.zeros(v.shape, "float32") for v in model.trainable_variables]
    non_trainable = [v.numpy() for v in model.non_trainable_variables]
    out, new_state = model.stateless_call(trainable, non_trainable, rand(4, 3), training=True)
    np.testing.assert_allclose(out, np.zeros((4, 2)), atol=1e-6)
    assert len(new_state) == 2


def test_graph_errors():
    x = layers.Input((3,))
    other = layers.Input((3,))
    with pytest.raises(ValueError, match="Graph disconnected"):
        Model(x, layers.Add()([x, other]))
    with pytest.raises(TypeError, match="must be KerasTensors"):
        Model(x, np.zeros(3))
    with pytest.raises(ValueError, match="used 2 times"):
        Model(x, layers.Dense(2, name="dup")(layers.Dense(3, name="dup")(x)))


def test_subclass_calling_functional_init():
    class Wrapped(Model):
        def __init__(self):
            x = layers.Input((3,))
            super().__init__(x, layers.Dense(2)(x), name="wrapped")

        def extra(self):
            return "extra"

    model = Wrapped()
    assert isinstance(model, Functional) and isinstance(model, Wrapped)
    assert model.extra() == "extra" and model(rand(2, 3)).shape == (2, 2)
    assert [path for path, _ in model.named_variables()] == ["layers.1.kernel", "layers.1.bias"]


@pytest.mark.parametrize("backend_name", ["jax", "torch", "tensorflow"])
def test_functional_on_other_backends(backend_name):
    pytest.importorskip(backend_name)
    from kbridge.backend import registry

    module = registry.get(backend_name)
    a, b = layers.Input((3,), name="a"), layers.Input((3,), name="b")
    model = Model([a, b], layers.Dense(2)(ops.concatenate([a, b * 2.0], axis=-1)) + 1.0)
    data = [rand(2, 3), rand(2, 3, seed=1)]
    expected = np.asarray(model(data))
    model.to_backend(backend_name)
    out = model(data)
    assert isinstance(out, module.TENSOR_TYPES)
    np.testing.assert_allclose(module.convert_to_numpy(out), expected, rtol=1e-5, atol=1e-6)
    # Built directly on that backend.
    config.set_backend(backend_name)
    x = layers.Input((3,))
    fresh = Model(x, layers.Dense(2)(x))
    assert fresh.variables[0].backend == module.NAME
    assert isinstance(fresh(data[0]), module.TENSOR_TYPES)


def test_kbridge_input_is_exported():
    assert layers.Input is kbridge.layers.input_layer.Input


def test_symbolic_call_with_other_shape_runs_the_graph():
    x = layers.Input((None, 4))
    model = Model(x, layers.Dense(2)(x) * 2.0)
    y = model(layers.Input((7, 4)))
    assert y.shape == (None, 7, 2)
    outer = Model(x, model(x) + 1.0)
    assert outer.output_shape == (None, None, 2)


def test_stateless_call_under_jax_jit_and_grad():
    jax = pytest.importorskip("jax")
    config.set_backend("jax")
    tokens = layers.Input((4,), dtype="int32")
    x = layers.Input((3,))
    pooled = ops.mean(layers.Embedding(10, 3, mask_zero=True)(tokens), axis=1)
    model = Model([x, tokens], layers.Dropout(0.5)(layers.BatchNormalization()(layers.Dense(3)(x)) + pooled))
    trainable = [v.value for v in model.trainable_variables]
    state = [v.value for v in model.non_trainable_variables]
    data = [np.ones((2, 3), "float32"), np.array([[1, 2, 0, 0], [3, 0, 0, 0]], "int32")]

    def loss(params, state, x_value, t_value):
        out, new_state = model.stateless_call(params, state, [x_value, t_value], training=True)
        return (out**2).sum(), new_state

    (value, new_state), grads = jax.jit(jax.value_and_grad(loss, has_aux=True))(trainable, state, *data)
    assert np.isfinite(float(value)) and len(new_state) == len(state)
    assert [tuple(g.shape) for g in grads] == [tuple(v.shape) for v in model.trainable_variables]


def test_extra_positional_inputs_name_the_layer():
    inputs = kbridge.Input((4,))
    model = kbridge.Model(inputs, kbridge.layers.Dense(2)(inputs))
    x = np.ones((2, 4), "float32")
    with pytest.raises(TypeError, match=r'Layer "functional\w*" takes 1 positional input argument\(s\) \(inputs\), but received 2'):
        model(x, x)
    assert model(x, False).shape == (2, 2)  # `training` passed positionally still works


def test_lossy_input_casts_are_refused():
    inputs = kbridge.Input((4,))
    model = kbridge.Model(inputs, kbridge.layers.Dense(2)(inputs))
    with pytest.raises(ValueError, match=r'input 0 \("input_layer\w*"\) expects dtype float32, received complex64'):
        model(np.ones((2, 4), "complex64"))
    with pytest.raises(ValueError, match="expects dtype float32, received an array of dtype <U1"):
        model(np.full((2, 4), "a"))
    assert model(np.ones((2, 4), "int64")).dtype == np.float32  # ints are cast, as in Keras
