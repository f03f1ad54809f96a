"""`kbridge.distribution.DataParallel` on the JAX backend, over 4 forced host CPU devices.

The check runs in a subprocess: `XLA_FLAGS=--xla_force_host_platform_device_count=4` must be
set before jax is imported, and this pytest process may already have imported it.
"""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

pytest.importorskip("jax")

SCRIPT = textwrap.dedent(
    """
    import json
    import jax
    import numpy as np

    import kbridge
    import kbridge.distribution
    from kbridge import layers

    assert jax.device_count() == 4, jax.devices()
    rng = np.random.RandomState(0)
    x = rng.randn(64, 8).astype("float32")
    y = np.argmax(x @ rng.randn(8, 3), axis=1).astype("int32")
    seen = []

    class Recording(kbridge.Sequential):
        def train_step(self, data):
            # Runs inside jax.jit: the callback reports the step input's sharding at compile time.
            jax.debug.inspect_array_sharding(data[0], callback=lambda s: seen.append(repr(s)))
            return super().train_step(data)

    def build():
        kbridge.utils.set_random_seed(3)
        with kbridge.backend.use("jax"):
            model = Recording([kbridge.Input((8,)), layers.Dense(16, activation="relu"), layers.Dense(3)])
        model.compile(optimizer=kbridge.optimizers.SGD(0.1, momentum=0.9),
                      loss=kbridge.losses.SparseCategoricalCrossentropy(from_logits=True))
        return model

    single = build()
    single.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)  # 8 steps
    single_seen, seen[:] = list(seen), []

    dist = kbridge.distribution.DataParallel()
    assert kbridge.distribution.distribution() is None
    with dist.scope():
        assert kbridge.distribution.distribution() is dist
        parallel = build()
        parallel.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
        kernel = parallel.layers[0].kernel.value
        # Evaluation / prediction: a last partial batch (14 of 62) is replicated, not refused.
        predict_diff = float(np.max(np.abs(parallel.predict(x[:62], batch_size=16, verbose=0)
                                           - single.predict(x[:62], batch_size=16, verbose=0))))
        from kbridge.adapters.jax import trainer as jax_trainer
        placed = jax_trainer.place_batch((jax.numpy.asarray(x[:16]),), "train")[0]
    assert kbridge.distribution.distribution() is None

    diff = max(float(np.max(np.abs(a - b))) for a, b in zip(single.get_weights(), parallel.get_weights()))

    # The global setting, and the clear error for a batch that does not split over 4 devices.
    kbridge.distribution.set_distribution(dist)
    try:
        odd = build()
        odd.fit(x[:60], y[:60], batch_size=6, epochs=1, shuffle=False, verbose=0)
        error = None
    except ValueError as exc:
        error = str(exc)
    finally:
        kbridge.distribution.set_distribution(None)

    print("RESULT " + json.dumps({
        "diff": diff,
        "predict_diff": predict_diff,
        "single_seen": single_seen,
        "parallel_seen": seen,
        "placed_spec": list(placed.sharding.spec),
        "placed_devices": len(placed.sharding.device_set),
        "placed_shard_rows": sorted({s.data.shape[0] for s in placed.addressable_shards}),
        "kernel_devices": len(kernel.sharding.device_set),
        "kernel_replicated": kernel.sharding.is_fully_replicated,
        "error": error,
    }))
    """
)


def test_data_parallel_fit_matches_single_device_and_shards_the_batch():
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=4", JAX_PLATFORMS="cpu")
    done = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-4000:]
    line = [ln for ln in done.stdout.splitlines() if ln.startswith("RESULT ")][-1]
    result = json.loads(line[len("RESULT "):])

    assert result["diff"] < 1e-5, result["diff"]
    assert result["predict_diff"] < 1e-5, result["predict_diff"]
    # The compiled step saw its batch sharded over the "batch" axis of 4 devices.
    assert result["parallel_seen"] and all("batch" in s for s in result["parallel_seen"]), result["parallel_seen"]
    assert result["single_seen"] and not any("batch" in s for s in result["single_seen"]), result["single_seen"]
    assert result["placed_spec"] == ["batch"] and result["placed_devices"] == 4
    assert result["placed_shard_rows"] == [4]  # 16 rows over 4 devices
    assert result["kernel_devices"] == 4 and result["kernel_replicated"]
    assert result["error"] is not None and "6 samples" in result["error"] and "4 devices" in result["error"]


NATIVE_SCRIPT = textwrap.dedent(
    """
    import functools
    import json
    import jax
    import jax.numpy as jnp
    import numpy as np
    from jax.sharding import Mesh, NamedSharding, PartitionSpec as P

    import kbridge
    import kbridge.distribution
    from kbridge import layers
    from kbridge.adapters.jax import to_function

    assert jax.device_count() == 4, jax.devices()
    rng = np.random.RandomState(0)
    x = rng.randn(32, 8).astype("float32")
    y = rng.randn(32, 3).astype("float32")

    def build():
        kbridge.utils.set_random_seed(5)
        with kbridge.backend.use("jax"):
            return kbridge.Sequential([kbridge.Input((8,)), layers.Dense(16, activation="tanh"), layers.Dense(3)])

    fn = to_function(build())

    def loss(params, state, xb, yb):
        out, _ = fn.apply(params, state, xb)
        return jnp.mean((out - yb) ** 2)

    def sgd(params, grads):
        return jax.tree_util.tree_map(lambda p, g: p - 0.1 * g, params, grads)

    # Reference: 3 full-batch steps on one device.
    full = fn.params
    for _ in range(3):
        full = sgd(full, jax.grad(loss)(full, fn.state, x, y))

    # pmap: each device takes 8 rows; the gradients are averaged with pmean.
    @functools.partial(jax.pmap, axis_name="devices")
    def pmap_step(params, state, xb, yb):
        grads = jax.lax.pmean(jax.grad(loss)(params, state, xb, yb), "devices")
        return sgd(params, grads)

    replicate = lambda tree: jax.tree_util.tree_map(lambda v: jnp.stack([v] * 4), tree)
    params, state = replicate(fn.params), replicate(fn.state)
    for _ in range(3):
        params = pmap_step(params, state, x.reshape(4, 8, 8), y.reshape(4, 8, 3))
    replicas_equal = all(bool(jnp.all(v == v[0])) for v in jax.tree_util.tree_leaves(params))
    pmap_diff = max(float(jnp.max(jnp.abs(a[0] - b))) for a, b in
                    zip(jax.tree_util.tree_leaves(params), jax.tree_util.tree_leaves(full)))

    # jax.sharding: the batch sharded over a 1-D mesh, parameters replicated, one jit.
    mesh = Mesh(np.array(jax.devices()), ("batch",))
    rows, replicated = NamedSharding(mesh, P("batch")), NamedSharding(mesh, P())
    step = jax.jit(lambda p, s, xb, yb: sgd(p, jax.grad(loss)(p, s, xb, yb)))
    params = jax.device_put(fn.params, replicated)
    state = jax.device_put(fn.state, replicated)
    xs, ys = jax.device_put(x, rows), jax.device_put(y, rows)
    for _ in range(3):
        params = step(params, state, xs, ys)
    sharded_diff = max(float(jnp.max(jnp.abs(a - b))) for a, b in
                       zip(jax.tree_util.tree_leaves(params), jax.tree_util.tree_leaves(full)))
    sharded_devices = len(jax.tree_util.tree_leaves(params)[0].sharding.device_set)

    # DataParallel with run_eagerly=True trains like the compiled step.
    def fitted(run_eagerly):
        model = build()
        model.compile(optimizer=kbridge.optimizers.SGD(0.1), loss="mse", run_eagerly=run_eagerly)
        with kbridge.distribution.DataParallel().scope():
            model.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
        return model.get_weights()

    eager_diff = max(float(np.max(np.abs(a - b))) for a, b in zip(fitted(True), fitted(False)))
    print("RESULT " + json.dumps({"pmap_diff": pmap_diff, "replicas_equal": replicas_equal,
                                  "sharded_diff": sharded_diff, "sharded_devices": sharded_devices,
                                  "eager_diff": eager_diff}))
    """
)


def test_pmap_and_sharded_steps_of_to_function_equal_full_batch_steps():
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=4", JAX_PLATFORMS="cpu")
    done = subprocess.run([sys.executable, "-c", NATIVE_SCRIPT], env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-4000:]
    line = [ln for ln in done.stdout.splitlines() if ln.startswith("RESULT ")][-1]
    result = json.loads(line[len("RESULT "):])
    assert result["replicas_equal"]
    assert result["pmap_diff"] < 1e-5, result
    assert result["sharded_diff"] < 1e-5 and result["sharded_devices"] == 4, result
    assert result["eager_diff"] < 1e-5, result


def test_multi_process_data_parallel_fit_equals_one_process():
    """Two JAX processes (jax.distributed over gloo, 2 CPU devices each) feeding their own rows
    train like one process with 4 devices on the concatenated batches."""
    import socket

    script = os.path.join(os.path.dirname(__file__), "_jax_multiprocess_fit.py")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = str(s.getsockname()[1])
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=2", JAX_PLATFORMS="cpu")
    workers = [subprocess.Popen([sys.executable, script, str(pid), port], env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True) for pid in (0, 1)]
    outputs = [w.communicate(timeout=180) for w in workers]
    for worker, (out, err) in zip(workers, outputs):
        assert worker.returncode == 0, err[-4000:]
    env["XLA_FLAGS"] = "--xla_force_host_platform_device_count=4"
    single = subprocess.run([sys.executable, script, "-1", "0"], env=env, capture_output=True, text=True, timeout=180)
    assert single.returncode == 0, single.stderr[-4000:]

    def result(text):
        return json.loads([ln for ln in text.splitlines() if ln.startswith("RESULT ")][-1][len("RESULT "):])

    reference = result(single.stdout)
    assert (reference["index"], reference["count"]) == (0, 1)
    for pid, (out, _) in enumerate(outputs):
        got = result(out)
        assert (got["index"], got["count"]) == (pid, 2)
        for a, b in zip(got["weights"], reference["weights"]):
            np.testing.assert_allclose(a, b, atol=1e-5)
        for key, values in reference["history"].items():
            np.testing.assert_allclose(got["history"][key], values, atol=1e-5)
        for key, value in reference["evaluated"].items():
            assert abs(got["evaluated"][key] - value) < 1e-5
