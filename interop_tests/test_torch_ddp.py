"""`to_module` under `DistributedDataParallel` (gloo, 2 real processes) and frozen layers.

Each rank builds the kbridge model on the torch backend, wraps `to_module(model)` in DDP
and trains SGD steps on its half of a fixed batch; results come back through files in a
tmp dir. Every spawn has a deadline: a hang (a collective waiting forever) fails the test.
"""

import datetime
import os
import socket
import time

import numpy as np
import pytest

torch = pytest.importorskip("torch")
dist = pytest.importorskip("torch.distributed")
mp = pytest.importorskip("torch.multiprocessing")

import kbridge  # noqa: E402
from kbridge import layers  # noqa: E402
from kbridge.adapters.torch import to_module  # noqa: E402

pytestmark = pytest.mark.skipif(not dist.is_available() or not dist.is_gloo_available(), reason="no gloo")

SEED = 7
STEPS = 4
LR = 0.1
DEADLINE_S = 45


def _dense(seed, frozen=False):
    kbridge.utils.set_random_seed(seed)
    with kbridge.backend.use("torch"):
        inputs = layers.Input((4,))
        x = layers.Dense(8, activation="tanh")(inputs)
        x = layers.Dense(8, activation="tanh")(x)
        outputs = layers.Dense(1)(x)
        model = kbridge.Model(inputs, outputs)
    if frozen:
        model.layers[1].trainable = False
    return model


def _batchnorm(seed):
    kbridge.utils.set_random_seed(seed)
    with kbridge.backend.use("torch"):
        inputs = layers.Input((4,))
        x = layers.Dense(8, activation="relu")(inputs)
        x = layers.BatchNormalization()(x)
        x = layers.Dropout(0.25)(x)
        outputs = layers.Dense(1)(x)
        return kbridge.Model(inputs, outputs)


def _batch(n=16):
    rng = np.random.RandomState(0)
    x = torch.from_numpy(rng.randn(n, 4).astype("float32"))
    y = torch.from_numpy(rng.randn(n, 1).astype("float32"))
    return x, y


def _train(module, x, y, steps=STEPS):
    optimizer = torch.optim.SGD(module.parameters(), lr=LR)
    for _ in range(steps):
        optimizer.zero_grad()
        torch.nn.functional.mse_loss(module(x), y).backward()
        optimizer.step()


def _snapshot(model, module):
    """What a rank hands back: the kbridge view (get_weights) and the module view (state_dict)."""
    return {
        "weights": [np.array(w) for w in model.get_weights()],
        "state": {k: v.detach().clone() for k, v in module.state_dict().items()},
        "requires_grad": {k: p.requires_grad for k, p in module.named_parameters()},
    }


def _worker(rank, world_size, port, out_dir):
    os.environ["MASTER_ADDR"] = "127.0.0.1"
    os.environ["MASTER_PORT"] = str(port)
    torch.set_num_threads(1)
    dist.init_process_group("gloo", rank=rank, world_size=world_size, timeout=datetime.timedelta(seconds=30))
    try:
        x, y = _batch()
        half = x.shape[0] // world_size
        xs, ys = x[rank * half : (rank + 1) * half], y[rank * half : (rank + 1) * half]
        results = {}

        # Plain MLP: rank 1 starts from other weights; DDP's init broadcasts rank 0's
        # into the shared Parameters, so the kbridge model on rank 1 sees them too.
        model = _dense(SEED if rank == 0 else SEED + 1)
        module = to_module(model).train()
        ddp = torch.nn.parallel.DistributedDataParallel(module)
        results["initial"] = [np.array(w) for w in model.get_weights()]
        _train(ddp, xs, ys)
        results["dense"] = _snapshot(model, module)

        # A frozen layer: its Parameters have requires_grad=False, so DDP neither waits
        # for their gradients nor errors about unused parameters.
        model = _dense(SEED, frozen=True)
        module = to_module(model).train()
        ddp = torch.nn.parallel.DistributedDataParallel(module)
        _train(ddp, xs, ys)
        results["frozen"] = _snapshot(model, module)

        # BatchNormalization + Dropout: buffers (moving statistics, seed state) are
        # broadcast from rank 0 before every forward (broadcast_buffers=True).
        model = _batchnorm(SEED + rank)
        module = to_module(model).train()
        ddp = torch.nn.parallel.DistributedDataParallel(module)
        _train(ddp, xs, ys)
        ddp.eval()
        results["bn_eval_out"] = ddp(x).detach()  # with grad enabled: syncs the buffers first
        results["bn"] = _snapshot(model, module)
        results["bn_moving_mean_is_buffer"] = model.layers[2].moving_mean._value is module.get_buffer(
            "layers.2.moving_mean"
        )
        torch.save(results, os.path.join(out_dir, f"rank{rank}.pt"))
    finally:
        dist.destroy_process_group()


def _free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _spawn(fn, world_size, out_dir):
    context = mp.spawn(fn, args=(world_size, _free_port(), str(out_dir)), nprocs=world_size, join=False)
    deadline = time.monotonic() + DEADLINE_S
    try:
        while not context.join(timeout=1):
            if time.monotonic() > deadline:
                pytest.fail(f"DDP workers did not finish within {DEADLINE_S}s (hang?)")
    finally:
        for process in context.processes:
            if process.is_alive():
                process.terminate()
                process.join(5)
    return [torch.load(os.path.join(out_dir, f"rank{r}.pt"), weights_only=False) for r in range(world_size)]


@pytest.fixture(scope="module")
def ddp_results(tmp_path_factory):
    return _spawn(_worker, 2, tmp_path_factory.mktemp("ddp"))


def _assert_same(a, b, rtol=0, atol=0):
    assert len(a) == len(b)
    for u, v in zip(a, b):
        np.testing.assert_allclose(u, v, rtol=rtol, atol=atol)


def test_ddp_matches_single_process_full_batch(ddp_results):
    r0, r1 = ddp_results
    # DDP's init broadcast reached the kbridge variables on rank 1.
    _assert_same(r0["initial"], r1["initial"])
    reference_model = _dense(SEED)
    _assert_same(r0["initial"], reference_model.get_weights())
    x, y = _batch()
    reference = to_module(reference_model).train()
    _train(reference, x, y)
    _assert_same(r0["dense"]["weights"], reference_model.get_weights(), atol=1e-5)
    assert not np.allclose(r0["dense"]["weights"][0], r0["initial"][0])
    # Both ranks hold the same weights, in both views.
    _assert_same(r0["dense"]["weights"], r1["dense"]["weights"], atol=1e-6)
    for key, value in r0["dense"]["state"].items():
        torch.testing.assert_close(value, r1["dense"]["state"][key], rtol=0, atol=1e-6)
    _assert_same(r0["dense"]["weights"], [v.numpy() for v in r0["dense"]["state"].values()])


def test_ddp_with_frozen_layer(ddp_results):
    r0, r1 = ddp_results
    untouched = _dense(SEED)
    frozen_keys = {"layers.1.kernel", "layers.1.bias"}
    assert {k for k, g in r0["frozen"]["requires_grad"].items() if not g} == frozen_keys
    initial = {p: torch.from_numpy(np.array(v.numpy())) for p, v in untouched.named_variables()}
    for key in frozen_keys:
        for rank in (r0, r1):
            torch.testing.assert_close(rank["frozen"]["state"][key], initial[key], rtol=0, atol=0)
    # The other layers trained like a single process on the full batch.
    x, y = _batch()
    reference_model = _dense(SEED, frozen=True)
    _train(to_module(reference_model).train(), x, y)
    _assert_same(r0["frozen"]["weights"], reference_model.get_weights(), atol=1e-5)
    _assert_same(r0["frozen"]["weights"], r1["frozen"]["weights"], atol=1e-6)


def test_ddp_batchnorm_buffers_broadcast(ddp_results):
    r0, r1 = ddp_results
    assert r0["bn_moving_mean_is_buffer"] and r1["bn_moving_mean_is_buffer"]
    for key, value in r0["bn"]["state"].items():
        torch.testing.assert_close(value, r1["bn"]["state"][key], rtol=0, atol=1e-6, msg=key)
    _assert_same(r0["bn"]["weights"], r1["bn"]["weights"], atol=1e-6)
    # Statistics moved off their initial values; the synced eval forward agrees.
    assert not torch.allclose(r0["bn"]["state"]["layers.2.moving_mean"], torch.zeros(8))
    torch.testing.assert_close(r0["bn_eval_out"], r1["bn_eval_out"], rtol=0, atol=1e-6)


@pytest.mark.parametrize("when", ["before", "after_refresh"])
def test_frozen_layer_has_no_grad_and_torch_optim_skips_it(when):
    model = _dense(SEED)
    if when == "before":
        model.layers[1].trainable = False
        module = to_module(model)
    else:
        module = to_module(model)
        assert all(p.requires_grad for p in module.parameters())
        model.layers[1].trainable = False
        module.refresh()
    frozen = {"layers.1.kernel", "layers.1.bias"}
    assert {k for k, p in module.named_parameters() if not p.requires_grad} == frozen
    # Still parameters (state_dict keys do not change), still the variables' storage.
    assert list(module.state_dict()) == [p for p, _ in model.named_variables()]
    assert model.layers[1].kernel._value is module.get_parameter("layers.1.kernel")
    before = {k: p.detach().clone() for k, p in module.named_parameters()}
    # Momentum and weight decay would move a parameter whose grad were zero, not None.
    optimizer = torch.optim.SGD(module.parameters(), lr=0.1, momentum=0.9, weight_decay=0.1)
    x, y = _batch()
    for _ in range(3):
        optimizer.zero_grad()
        torch.nn.functional.mse_loss(module(x), y).backward()
        optimizer.step()
    for key, param in module.named_parameters():
        if key in frozen:
            assert param.grad is None
            torch.testing.assert_close(param.detach(), before[key], rtol=0, atol=0)
        else:
            assert not torch.allclose(param.detach(), before[key])
    # Unfreezing + refresh turns the gradients back on.
    model.layers[1].trainable = True
    module.refresh()
    assert all(p.requires_grad for p in module.parameters())
    optimizer = torch.optim.SGD(module.parameters(), lr=0.1)
    optimizer.zero_grad()
    torch.nn.functional.mse_loss(module(x), y).backward()
    optimizer.step()
    assert not torch.allclose(module.get_parameter("layers.1.kernel").detach(), before["layers.1.kernel"])


def test_frozen_model_fit_after_unfreeze_and_refresh():
    """kbridge's own fit keeps working on a model whose module froze and unfroze a layer."""
    model = _dense(SEED)
    module = to_module(model)
    model.layers[1].trainable = False
    module.refresh()
    x, y = _batch()
    kernel = model.layers[1].kernel.numpy().copy()
    other = model.layers[2].kernel.numpy().copy()
    model.compile(optimizer=kbridge.optimizers.SGD(0.1), loss="mse")
    model.fit(x.numpy(), y.numpy(), batch_size=16, epochs=1, verbose=0, shuffle=False)
    np.testing.assert_array_equal(model.layers[1].kernel.numpy(), kernel)
    assert not np.allclose(model.layers[2].kernel.numpy(), other)
    model.layers[1].trainable = True
    module.refresh()
    model.compile(optimizer=kbridge.optimizers.SGD(0.1), loss="mse")
    model.fit(x.numpy(), y.numpy(), batch_size=16, epochs=1, verbose=0, shuffle=False)
    assert not np.allclose(model.layers[1].kernel.numpy(), kernel)
