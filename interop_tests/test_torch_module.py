"""`kbridge.adapters.torch.to_module`: a kbridge model as a native `torch.nn.Module`."""

import re

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import kbridge  # noqa: E402
from kbridge import layers  # noqa: E402
from kbridge.adapters.torch import to_module  # noqa: E402


def _mlp(dropout=0.5):
    with kbridge.backend.use("torch"):
        inputs = layers.Input((4,))
        x = layers.Dense(8, activation="relu")(inputs)
        x = layers.BatchNormalization()(x)
        x = layers.Dropout(dropout)(x)
        outputs = layers.Dense(2)(x)
        return kbridge.Model(inputs, outputs)


def _dense():
    with kbridge.backend.use("torch"):
        inputs = layers.Input((4,))
        x = layers.Dense(8, activation="tanh")(inputs)
        outputs = layers.Dense(1)(x)
        return kbridge.Model(inputs, outputs)


def _mixed():
    """Dense, BatchNormalization, Dropout, Embedding, LayerNormalization and a merge layer."""
    with kbridge.backend.use("torch"):
        tokens = layers.Input((5,), dtype="int32")
        feats = layers.Input((6,))
        e = layers.Embedding(20, 6)(tokens)
        e = layers.LayerNormalization()(e)
        e = layers.Dense(6)(layers.Flatten()(e))
        f = layers.Dense(6, activation="relu")(feats)
        f = layers.BatchNormalization()(f)
        x = layers.Add()([e, f])
        x = layers.Dropout(0.3)(x)
        outputs = layers.Dense(3)(x)
        return kbridge.Model([tokens, feats], outputs)


def _x(n=8, seed=0):
    return torch.from_numpy(np.random.RandomState(seed).randn(n, 4).astype("float32"))


def test_structure_and_state_dict_keys():
    model = _mlp()
    module = to_module(model)
    paths = [p for p, _ in model.named_variables()]
    keys = list(module.state_dict().keys())
    assert keys == paths and len(set(keys)) == len(keys)
    names = [n for n, _ in module.named_modules()]
    assert names == ["", "layers", "layers.0", "layers.1", "layers.2", "layers.3", "layers.3.seed_generator", "layers.4"]
    params = dict(module.named_parameters())
    assert list(params) == [p for p, v in model.named_variables() if v.trainable]
    for path, variable in model.named_variables():
        if variable.trainable:
            assert params[path] is variable._value  # the very same nn.Parameter
    buffers = [n for n, _ in module.named_buffers()]
    assert buffers == ["layers.2.moving_mean", "layers.2.moving_variance", "layers.3.seed_generator.state"]


def test_errors():
    with kbridge.backend.use("numpy"):
        inputs = layers.Input((4,))
        model = kbridge.Model(inputs, layers.Dense(2)(inputs))
    with pytest.raises(ValueError, match=r'to_backend\("torch"\)'):
        to_module(model)
    with pytest.raises(ValueError, match="not built"):
        to_module(layers.Dense(3))
    with pytest.raises(TypeError):
        to_module(object())


def test_load_state_dict_across_builds():
    a, b = _mlp(), _mlp()
    ma, mb = to_module(a).eval(), to_module(b).eval()
    x = _x()
    assert not torch.allclose(ma(x), mb(x))
    mb.load_state_dict(ma.state_dict())
    torch.testing.assert_close(ma(x), mb(x))
    np.testing.assert_allclose(b.predict(x.numpy(), verbose=0), ma(x).detach().numpy(), rtol=1e-5, atol=1e-6)


def test_torch_optim_shares_weights_and_fit_continues():
    model, twin = _mlp(dropout=0.0), _mlp(dropout=0.0)
    twin.set_weights(model.get_weights())
    module = to_module(model)
    x = _x(32)
    y = torch.from_numpy(np.random.RandomState(1).randn(32, 2).astype("float32"))
    before = model.predict(x.numpy(), verbose=0)
    optimizer = torch.optim.SGD(module.parameters(), lr=0.05)
    module.eval()  # deterministic: no batch statistics
    for _ in range(5):
        optimizer.zero_grad()
        loss = torch.nn.functional.mse_loss(module(x), y)
        loss.backward()
        optimizer.step()
    after = model.predict(x.numpy(), verbose=0)
    assert not np.allclose(before, after)
    np.testing.assert_allclose(after, module(x).detach().numpy(), rtol=1e-5, atol=1e-6)
    # The same loop written against a fresh module of the twin reaches the same weights.
    twin_module = to_module(twin).eval()
    opt2 = torch.optim.SGD(twin_module.parameters(), lr=0.05)
    for _ in range(5):
        opt2.zero_grad()
        torch.nn.functional.mse_loss(twin_module(x), y).backward()
        opt2.step()
    for w1, w2 in zip(model.get_weights(), twin.get_weights()):
        np.testing.assert_allclose(w1, w2, rtol=1e-6, atol=1e-7)
    # fit continues from the torch-trained weights, and the module sees fit's updates.
    model.compile(optimizer=kbridge.optimizers.SGD(0.0), loss="mse")
    model.fit(x.numpy(), y.numpy(), batch_size=32, epochs=1, verbose=0, shuffle=False)
    kernel = model.layers[1].kernel
    np.testing.assert_allclose(kernel.numpy(), twin.layers[1].kernel.numpy(), rtol=1e-6)
    model.compile(optimizer=kbridge.optimizers.SGD(0.1), loss="mse")
    model.fit(x.numpy(), y.numpy(), batch_size=32, epochs=1, verbose=0, shuffle=False)
    assert not np.allclose(kernel.numpy(), twin.layers[1].kernel.numpy())
    np.testing.assert_allclose(module.get_parameter("layers.1.kernel").detach().numpy(), kernel.numpy())


def test_train_eval_toggles_dropout_and_batchnorm_updates_buffers():
    model = _mlp(dropout=0.5)
    module = to_module(model)
    x = _x(16)
    module.eval()
    torch.testing.assert_close(module(x), module(x))
    mean = module.get_buffer("layers.2.moving_mean").clone()
    seed = module.get_buffer("layers.3.seed_generator.state").clone()
    torch.testing.assert_close(module.get_buffer("layers.2.moving_mean"), mean)
    module.train()
    y1, y2 = module(x), module(x)
    assert not torch.allclose(y1, y2)  # dropout masks differ, the seed advanced
    moved = module.get_buffer("layers.2.moving_mean")
    assert not torch.allclose(moved, mean)
    assert not torch.equal(module.get_buffer("layers.3.seed_generator.state"), seed)
    # The buffer is the variable's storage: the model sees the new statistics.
    assert model.layers[2].moving_mean._value is moved
    np.testing.assert_allclose(model.layers[2].moving_mean.numpy(), moved.numpy())


def test_functional_call_uses_substituted_tensors():
    model, other = _dense(), _dense()
    module = to_module(model).eval()
    x = _x()
    substitute = {p: v._value.detach() * 0 + torch.randn_like(v._value) for p, v in other.named_variables()}
    out = torch.func.functional_call(module, substitute, (x,))
    other.set_weights([substitute[p].numpy() for p, _ in other.named_variables(weights_only=True)])
    np.testing.assert_allclose(out.detach().numpy(), other.predict(x.numpy(), verbose=0), rtol=1e-5, atol=1e-6)
    assert not np.allclose(out.detach().numpy(), module(x).detach().numpy())


def test_per_example_gradients_with_grad_and_vmap():
    module = to_module(_dense()).eval()
    params = {k: v.detach() for k, v in module.named_parameters()}
    x = _x(6)
    y = torch.randn(6, 1)

    def loss(p, xi, yi):
        out = torch.func.functional_call(module, p, (xi[None],))
        return ((out - yi[None]) ** 2).mean()

    batched = torch.func.vmap(torch.func.grad(loss), in_dims=(None, 0, 0))(params, x, y)
    for i in range(6):
        single = torch.func.grad(loss)(params, x[i], y[i])
        for key in params:
            torch.testing.assert_close(batched[key][i], single[key], rtol=1e-5, atol=1e-6)


def _mixed_inputs():
    rng = np.random.RandomState(3)
    tokens = torch.from_numpy(rng.randint(0, 20, (4, 5)).astype("int32"))
    feats = torch.from_numpy(rng.randn(4, 6).astype("float32"))
    return [tokens, feats]


@pytest.mark.parametrize("training", [False, True])
def test_torch_compile_fullgraph_matches_eager(training):
    model = _mixed()
    module = to_module(model)
    module.train(training)
    inputs = _mixed_inputs()
    state = {k: v.clone() for k, v in module.state_dict().items()}
    eager = module(inputs)
    eager_state = {k: v.clone() for k, v in module.state_dict().items()}
    module.load_state_dict(state)
    torch._dynamo.reset()
    compiled = torch.compile(module, fullgraph=True, backend="aot_eager")
    out = compiled(inputs)
    torch.testing.assert_close(out, eager)
    for key, value in module.state_dict().items():
        torch.testing.assert_close(value, eager_state[key])


def test_torch_compile_inductor():
    module = to_module(_mixed()).eval()
    inputs = _mixed_inputs()
    torch._dynamo.reset()
    out = torch.compile(module, fullgraph=True)(inputs)
    torch.testing.assert_close(out, module(inputs), rtol=1e-5, atol=1e-5)


def test_double_runs_in_float64():
    model = _mlp()
    module = to_module(model).eval()
    x = _x()
    ref = module(x).detach()
    module.double()
    assert all(v.dtype == "float64" for v in model.weights)
    assert model.layers[1].kernel._value is module.get_parameter("layers.1.kernel")
    out = module(x.double())
    assert out.dtype == torch.float64
    torch.testing.assert_close(out.float(), ref, rtol=1e-5, atol=1e-5)


def test_train_mode_backward_and_structured_inputs():
    model = _mixed()
    module = to_module(model).train()
    optimizer = torch.optim.SGD(module.parameters(), lr=0.1)
    inputs = _mixed_inputs()
    kernel = module.get_parameter("layers.10.kernel").detach().clone()
    mean = module.get_buffer("layers.7.moving_mean").clone()
    for _ in range(2):
        optimizer.zero_grad()
        module(inputs).square().mean().backward()
        optimizer.step()
    assert not torch.allclose(kernel, module.get_parameter("layers.10.kernel"))
    assert not torch.allclose(mean, module.get_buffer("layers.7.moving_mean"))
    # A tuple works as the list the model expects; an explicit `training=` wins over the mode.
    module.eval()
    torch.testing.assert_close(module(tuple(inputs)), module(inputs))
    assert not torch.allclose(module(inputs, training=True), module(inputs))


def test_double_repoints_buffers():
    model = _mlp()
    module = to_module(model).double()
    bn = model.layers[2]
    assert bn.moving_mean._value is module.get_buffer("layers.2.moving_mean")
    assert bn.moving_mean.dtype == "float64"
    module.train()(_x().double())
    np.testing.assert_allclose(bn.moving_mean.numpy(), module.get_buffer("layers.2.moving_mean").numpy())


def test_freezing_a_layer_then_refresh():
    model = _dense()
    module = to_module(model).eval()
    x = _x()
    ref = module(x)
    model.layers[1].trainable = False
    module.refresh()
    torch.testing.assert_close(module(x), ref)
    assert list(module.state_dict()) == [p for p, _ in model.named_variables()]


def test_dynamo_explain_reports_one_graph_and_no_breaks():
    module = to_module(_mixed())
    module.train()
    torch._dynamo.reset()
    explanation = torch._dynamo.explain(module)(_mixed_inputs())
    assert explanation.graph_count == 1
    assert explanation.graph_break_count == 0
    assert not explanation.break_reasons


def test_multi_input_model_takes_positional_inputs():
    model = _mixed()
    module = to_module(model).eval()
    tokens, feats = _mixed_inputs()
    torch.testing.assert_close(module(tokens, feats), module([tokens, feats]))


def test_bad_inputs_get_the_kbridge_errors():
    model = _dense()
    module = to_module(model)
    with pytest.raises(ValueError, match=r'Model "functional\w*": input 0 .*expected shape \(None, 4\), received shape \(2, 5\)'):
        module(torch.ones(2, 5))
    with pytest.raises(ValueError, match="expects dtype float32, received complex64"):
        module(torch.ones(2, 4, dtype=torch.complex64))
    with pytest.raises(TypeError, match=r"takes 1 positional input argument\(s\) \(inputs\), but received 2"):
        module(torch.ones(2, 4), torch.ones(2, 4))
    with pytest.raises(TypeError, match="needs its input"):
        module()
    # The same errors as calling the model itself (numpy backend here, for comparison).
    with kbridge.backend.use("numpy"):
        inputs = layers.Input((4,))
        twin = kbridge.Model(inputs, layers.Dense(1)(inputs), name=model.name)
    with pytest.raises(ValueError) as on_numpy:
        twin(np.ones((2, 5), "float32"))
    with pytest.raises(ValueError) as on_torch:
        module(torch.ones(2, 5))
    def unnumbered(error):  # auto-generated input names differ between the two builds
        return re.sub(r"input_layer(_\d+)?", "input_layer", str(error.value))

    assert unnumbered(on_numpy) == unnumbered(on_torch)


def test_module_of_a_model_moved_to_another_backend_says_how_to_fix():
    pytest.importorskip("jax")
    model = _dense()
    module = to_module(model)
    model.to_backend("jax")
    with pytest.raises(ValueError, match=r'moved to the jax backend.*model.to_backend\("torch"\).*to_module\(model\)'):
        module(_x())
    model.to_backend("torch")
    fresh = to_module(model)
    np.testing.assert_allclose(fresh(_x()).detach().numpy(), model.predict(_x().numpy(), verbose=0), atol=1e-6)


def test_cnn_compiles_to_one_graph_and_matches_eager():
    with kbridge.backend.use("torch"):
        model = kbridge.Sequential([
            kbridge.Input((12, 12, 1)), layers.Conv2D(4, 3, activation="relu"), layers.MaxPooling2D(2),
            layers.Conv2D(6, 3, padding="same"), layers.GlobalAveragePooling2D(), layers.Dense(3),
        ])  # fmt: skip
    module = to_module(model)
    x = torch.from_numpy(np.random.RandomState(0).randn(2, 12, 12, 1).astype("float32"))
    torch._dynamo.reset()
    explanation = torch._dynamo.explain(module)(x)
    assert (explanation.graph_count, explanation.graph_break_count) == (1, 0)
    compiled = torch.compile(module, fullgraph=True, backend="aot_eager")
    torch.testing.assert_close(compiled(x), module(x))
