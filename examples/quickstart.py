"""Quickstart: one Keras-style model, run on NumPy, JAX, PyTorch and TensorFlow in one process.

Builds a small classifier for scikit-learn's handwritten digits (shipped with
scikit-learn, no download), then moves the same model instance across all four
backends and prints one table: the backend, the type of the output, and the
largest difference from the NumPy result. (Training with `fit` arrives with the
training issue; this script grows with it.)
"""

import time

import numpy as np
from sklearn.datasets import load_digits

import kbridge as keras
from kbridge import layers


def build_model():
    inputs = keras.Input(shape=(64,), name="pixels")
    x = layers.Rescaling(1.0 / 16.0)(inputs)
    x = layers.Dense(64, activation="relu")(x)
    x = layers.BatchNormalization()(x)
    x = layers.Dropout(0.2, seed=7)(x)
    outputs = layers.Dense(10, activation="softmax", name="digit")(x)
    return keras.Model(inputs, outputs, name="digits")


def main():
    start = time.perf_counter()
    keras.utils.set_random_seed(0)
    images, labels = load_digits(return_X_y=True)
    images = images.astype("float32")
    with keras.backend.use("numpy"):
        model = build_model()
    model.summary()

    reference = keras.ops.convert_to_numpy(model(images))
    rows = []
    for backend in ["numpy", "jax", "torch", "tensorflow"]:
        model.to_backend(backend)
        outputs = model(images)
        probabilities = keras.ops.convert_to_numpy(outputs)
        rows.append((backend, type(outputs).__name__, float(np.max(np.abs(probabilities - reference)))))

    print(f"\n{'backend':<12}{'output type':<16}{'max |diff| vs numpy':>22}")
    for backend, type_name, diff in rows:
        print(f"{backend:<12}{type_name:<16}{diff:>22.2e}")
    print(f"\n{len(labels)} digits, {model.count_params()} parameters, {time.perf_counter() - start:.1f} s")
    assert max(diff for _, _, diff in rows) <= 1e-5, "backends disagree"


if __name__ == "__main__":
    main()
