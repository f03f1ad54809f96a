"""Run by test_jax_data_parallel.py: `fit` under DataParallel in one of two JAX processes (or one, pid -1)."""
import json, sys
import jax
pid, port = int(sys.argv[1]), sys.argv[2]
multi = pid >= 0
if multi:
    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    jax.distributed.initialize(coordinator_address=f"127.0.0.1:{port}", num_processes=2, process_id=pid)
import numpy as np
import kbridge, kbridge.distribution
from kbridge import layers
rng = np.random.RandomState(0)
x = rng.randn(2, 32, 8).astype("float32"); y = rng.randn(2, 32, 3).astype("float32")
if multi:
    xs, ys, bs = x[pid], y[pid], 8
else:  # global batches: 8 rows of process 0, then 8 of process 1
    xs = np.concatenate([x[:, i:i + 8].reshape(16, 8) for i in range(0, 32, 8)])
    ys = np.concatenate([y[:, i:i + 8].reshape(16, 3) for i in range(0, 32, 8)])
    bs = 16
kbridge.utils.set_random_seed(3)
with kbridge.backend.use("jax"):
    model = kbridge.Sequential([kbridge.Input((8,)), layers.Dense(16, activation="tanh"), layers.Dense(3)])
model.compile(optimizer=kbridge.optimizers.SGD(0.1, momentum=0.9), loss="mse", metrics=["mae"])
with kbridge.distribution.DataParallel().scope():
    history = model.fit(xs, ys, batch_size=bs, epochs=2, shuffle=False, verbose=0)
    evaluated = model.evaluate(xs, ys, batch_size=bs, verbose=0, return_dict=True)
print("RESULT " + json.dumps({"weights": [w.tolist() for w in model.get_weights()], "history": history.history,
      "evaluated": evaluated, "index": kbridge.distribution.process_index(), "count": kbridge.distribution.num_processes()}), flush=True)
