"""Train on JAX with `fit`, export a TensorFlow SavedModel, serve it where kbridge is absent.

A two-input Functional model (pixels plus a "quality" feature) with BatchNormalization
and Dropout is trained with `model.fit` on the jax backend. `export_saved_model` rebuilds
it on TensorFlow ops (the model itself stays on JAX) and writes a SavedModel whose
`serving_default` signature takes the named inputs `pixels` and `quality` with a dynamic
batch size and returns the named output `digit` (inference mode: Dropout off, BatchNorm
moving statistics). A fresh Python process that cannot import kbridge loads it with plain
`tf.saved_model.load`, serves a batch, and the predictions must equal `model.predict`.

    python examples/export_savedmodel.py
"""

import os
import subprocess
import sys
import tempfile
import textwrap
import time

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import kbridge as keras
from kbridge import layers
from kbridge.adapters.tf import export_saved_model

# The serving side: plain TensorFlow, with kbridge made unimportable to prove it is not needed.
SERVER = textwrap.dedent(
    """
    import sys

    class NoKbridge:
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] == "kbridge":
                raise ImportError("kbridge is not available to the server")

    sys.meta_path.insert(0, NoKbridge())
    try:
        import kbridge  # noqa: F401
        raise SystemExit("kbridge should not be importable here")
    except ImportError:
        pass

    import numpy as np
    import tensorflow as tf

    export_dir, batch_file, out_file = sys.argv[1:4]
    loaded = tf.saved_model.load(export_dir)
    serve = loaded.signatures["serving_default"]
    inputs = serve.structured_input_signature[1]
    print("signature inputs:", {k: (v.shape.as_list(), v.dtype.name) for k, v in sorted(inputs.items())})
    batch = np.load(batch_file)
    outputs = serve(pixels=tf.constant(batch["pixels"]), quality=tf.constant(batch["quality"]))
    print("signature outputs:", sorted(outputs))
    np.save(out_file, outputs["digit"].numpy())
    """
)


def build_model():
    with keras.backend.use("jax"):
        pixels = keras.Input(shape=(64,), name="pixels")
        quality = keras.Input(shape=(1,), name="quality")
        x = layers.Rescaling(1.0 / 16.0)(pixels)
        x = layers.Dense(64)(x)
        x = layers.BatchNormalization()(x)
        x = layers.Activation("relu")(x)
        x = layers.Dropout(0.2, seed=4)(x)
        x = layers.Concatenate()([x, quality])
        digit = layers.Dense(10, activation="softmax", name="digit")(x)
        return keras.Model([pixels, quality], digit, name="digits")


def main():
    start = time.time()
    keras.utils.set_random_seed(0)
    images, labels = load_digits(return_X_y=True)
    images = images.astype("float32")
    quality = (images.std(axis=1, keepdims=True) / 8.0).astype("float32")
    x_train, x_test, q_train, q_test, y_train, y_test = train_test_split(
        images, quality, labels, test_size=0.2, random_state=0
    )

    model = build_model()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit([x_train, q_train], y_train, batch_size=64, epochs=5, verbose=0)
    accuracy = model.evaluate([x_test, q_test], y_test, verbose=0, return_dict=True)["accuracy"]
    print(f"trained on {model.variables[0].backend}: test accuracy {accuracy:.3f}")
    assert accuracy > 0.85, accuracy

    with tempfile.TemporaryDirectory() as tmp:
        export_dir = os.path.join(tmp, "digits_savedmodel")
        export_saved_model(model, export_dir)
        assert {v.backend for v in model.variables} == {"jax"}  # the model stayed on JAX
        batch_file, out_file = os.path.join(tmp, "batch.npz"), os.path.join(tmp, "served.npy")
        np.savez(batch_file, pixels=x_test[:37], quality=q_test[:37])
        server = os.path.join(tmp, "server.py")
        with open(server, "w") as f:
            f.write(SERVER)
        command = [sys.executable, server, export_dir, batch_file, out_file]
        result = subprocess.run(command, capture_output=True, text=True, cwd=tmp, timeout=300, check=False)
        print(result.stdout.strip())
        assert result.returncode == 0, result.stderr[-3000:]
        served = np.load(out_file)

    expected = model.predict([x_test[:37], q_test[:37]], verbose=0)
    difference = float(np.abs(served - expected).max())
    print(f"served {served.shape[0]} rows; max |served - predict| = {difference:.2e}")
    assert served.shape == (37, 10) and difference < 1e-5, difference
    assert (served.argmax(1) == expected.argmax(1)).all()
    print(f"done in {time.time() - start:.1f}s")


if __name__ == "__main__":
    main()
