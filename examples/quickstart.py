"""Quickstart: one Keras-style model, run on NumPy, JAX, PyTorch and TensorFlow in one process.

Trains a small classifier on scikit-learn's handwritten digits (shipped with
scikit-learn, no download) with `fit` on the default backend, then moves the same
model instance across all four backends and prints one table: accuracy on held-out
digits, the type of the output, and the largest difference from the first backend.
(Handing the model to native PyTorch/JAX/TF objects arrives with the adapter issues.)
"""

import time

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

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
    images, labels = images.astype("float32"), labels.astype("int32")
    train_x, test_x, train_y, test_y = train_test_split(images, labels, test_size=0.2, random_state=0)
    model = build_model()
    model.summary()
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(train_x, train_y, batch_size=64, epochs=15, validation_split=0.1, verbose=2)

    trained_on = model._backend.NAME
    reference = model.predict(test_x, verbose=0)
    rows = []
    for backend in ["numpy", "jax", "torch", "tensorflow"]:
        model.to_backend(backend)
        outputs = model(test_x)
        probabilities = keras.ops.convert_to_numpy(outputs)
        accuracy = float(np.mean(np.argmax(probabilities, axis=1) == test_y))
        rows.append((backend, accuracy, type(outputs).__name__, float(np.max(np.abs(probabilities - reference)))))

    print(f"\n{'backend':<12}{'accuracy':>9}  {'output type':<16}{'max |diff| vs ' + trained_on:>22}")
    for backend, accuracy, type_name, diff in rows:
        print(f"{backend:<12}{accuracy:>9.3f}  {type_name:<16}{diff:>22.2e}")
    print(f"\n{len(labels)} digits, {model.count_params()} parameters, {time.perf_counter() - start:.1f} s")
    assert max(diff for *_, diff in rows) <= 1e-5, "backends disagree"
    assert min(accuracy for _, accuracy, *_ in rows) >= 0.9, "the model did not learn"


if __name__ == "__main__":
    main()
