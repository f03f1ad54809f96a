"""`model.fit` / `model.predict` / `predict_on_batch` / `model(x)`: kbridge and Keras 3 share this code.

`library` is "kbridge" or "keras"; the backend is the child's framework (KBRIDGE_BACKEND /
KERAS_BACKEND are set by the child before the import). Both use their own Adam(1e-3) and
SparseCategoricalCrossentropy(from_logits=True), no metrics, `shuffle=False`, `verbose=0`.
"""

import importlib
import os

import numpy as np

from variants import LATENCY, PREDICT, TRAIN


def _build(library, workload):
    k = importlib.import_module(library)
    k.utils.set_random_seed(0)
    if library == "kbridge":
        with k.backend.use(os.environ["KBRIDGE_BACKEND"]):
            model = workload.keras_style_model(k)
    else:
        model = workload.keras_style_model(k)
    return k, model


def model(workload, mode, data, library):
    k, net = _build(library, workload)
    x, y, batch = data["x"], data["y"], workload.batch_size
    if mode == TRAIN:
        net.compile(
            optimizer=k.optimizers.Adam(learning_rate=1e-3),
            loss=k.losses.SparseCategoricalCrossentropy(from_logits=True),
        )

        def run(n):
            net.fit(x[: n * batch], y[: n * batch], batch_size=batch, epochs=1, shuffle=False, verbose=0)

        return run
    if mode == PREDICT:

        def run(n):
            net.predict(x[: n * batch], batch_size=batch, verbose=0)

        return run
    if mode == LATENCY:
        x1 = data["x1"]

        def run(n):
            for _ in range(n):
                net.predict_on_batch(x1)

        return run
    raise ValueError(mode)


def call(workload, mode, data, library):
    k, net = _build(library, workload)
    x1 = data["x1"]
    if mode != LATENCY:
        raise ValueError(mode)

    def run(n):
        for _ in range(n):
            np.asarray(k.ops.convert_to_numpy(net(x1, training=False)))

    return run
