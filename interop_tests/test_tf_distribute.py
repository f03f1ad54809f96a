"""tf.distribute: `MirroredStrategy` over 2 logical CPUs, in a subprocess that configures the
devices before TensorFlow initialises. `fit` in the strategy's scope equals single-device
`fit`; a custom `strategy.run` loop over `to_module` equals the same loop on one device."""

import os
import subprocess
import sys
import textwrap

import pytest

pytest.importorskip("tensorflow")

_CHILD = textwrap.dedent(
    """
    import numpy as np
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration(), tf.config.LogicalDeviceConfiguration()]
    )
    assert len(tf.config.list_logical_devices("CPU")) == 2

    import kbridge
    from kbridge import layers
    from kbridge.adapters.tf import to_module

    rng = np.random.RandomState(0)
    x = rng.randn(64, 5).astype("float32")
    y = (x @ rng.randn(5, 3)).astype("float32")
    labels = rng.randint(0, 3, (64,))
    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    assert strategy.num_replicas_in_sync == 2

    def build():
        kbridge.utils.set_random_seed(1)
        with kbridge.backend.use("tensorflow"):
            inputs = layers.Input((5,))
            h = layers.Dense(16, activation="relu")(inputs)
            outputs = layers.Dense(3)(h)
            return kbridge.Model(inputs, outputs)

    def fit(model):
        model.compile(optimizer=kbridge.optimizers.Adam(0.01), loss="mse", metrics=["mae"])
        np.random.seed(3)
        history = model.fit(x, y, batch_size=16, epochs=3, verbose=0)
        return history.history, model.evaluate(x, y, batch_size=16, verbose=0, return_dict=True)

    from kbridge.adapters.tf import distribution

    pieces_seen = []
    split = distribution._split

    def recording_split(data, replicas):
        pieces, shares = split(data, replicas)
        pieces_seen.append([int(tf.nest.flatten(p)[0].shape[0]) for p in pieces])
        return pieces, shares

    distribution._split = recording_split
    single = build()
    single_history, single_eval = fit(single)
    assert pieces_seen == []  # no strategy: no split
    with strategy.scope():
        mirrored = build()
        assert all(isinstance(v._value, tf.distribute.DistributedValues) for v in mirrored.variables)
        mirrored_history, mirrored_eval = fit(mirrored)
    # Each replica got half of every batch, and the step really ran on both replicas.
    assert pieces_seen and all(p == [8, 8] for p in pieces_seen), pieces_seen
    kernel = mirrored.layers[1].kernel._value
    assert len(kernel.values) == 2 and {v.device.split(":")[-1] for v in kernel.values} == {"0", "1"}
    for name in single_history:
        np.testing.assert_allclose(mirrored_history[name], single_history[name], rtol=1e-5, atol=1e-5)
    for name in single_eval:
        np.testing.assert_allclose(mirrored_eval[name], single_eval[name], rtol=1e-5, atol=1e-5)
    for a, b in zip(single.get_weights(), mirrored.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)
    for replica in kernel.values:
        np.testing.assert_allclose(replica.numpy(), single.layers[1].kernel.numpy(), rtol=1e-5, atol=1e-5)
    assert float(np.abs(single.get_weights()[0] - build().get_weights()[0]).max()) > 1e-3  # it did train
    print("fit ok", single_history["loss"])

    # A custom loop: strategy.run over to_module, with a TF optimizer, versus one device.
    def custom_loop(distributed):
        model = build()
        scope = strategy.scope() if distributed else tf.distribute.get_strategy().scope()
        with scope:
            module = to_module(model)
            optimizer = tf.keras.optimizers.SGD(0.1)
        if distributed:
            assert all(isinstance(v, tf.distribute.DistributedValues) for v in module.variables)

        def replica_step(xb, yb):
            with tf.GradientTape() as tape:
                per_example = tf.reduce_sum((module(xb, training=True) - yb) ** 2, axis=-1)
                loss = tf.reduce_sum(per_example) / 32.0
            grads = tape.gradient(loss, module.trainable_variables)
            optimizer.apply_gradients(zip(grads, module.trainable_variables))
            return loss

        @tf.function
        def step(batch):
            if not distributed:
                return replica_step(*batch)
            losses = strategy.run(replica_step, args=batch)
            return strategy.reduce(tf.distribute.ReduceOp.SUM, losses, axis=None)

        data = tf.data.Dataset.from_tensor_slices((x, y)).batch(32)
        if distributed:
            data = strategy.experimental_distribute_dataset(data)
        losses = [float(step(batch)) for _ in range(3) for batch in data]
        return model, losses

    one_model, one_losses = custom_loop(False)
    two_model, two_losses = custom_loop(True)
    np.testing.assert_allclose(two_losses, one_losses, rtol=1e-5, atol=1e-5)
    assert two_losses[-1] < two_losses[0]
    for a, b in zip(one_model.get_weights(), two_model.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)
    assert float(np.abs(two_model.get_weights()[0] - build().get_weights()[0]).max()) > 1e-3
    print("custom loop ok", two_losses)
    """
)


def test_mirrored_strategy_on_two_logical_cpus(tmp_path):
    script = tmp_path / "child.py"
    script.write_text(_CHILD)
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=600, env=env)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    assert "fit ok" in result.stdout and "custom loop ok" in result.stdout
