"""Quickstart: one Keras-style model, trained with `fit`, handed to PyTorch, JAX and TensorFlow.

Trains a small classifier on scikit-learn's handwritten digits (shipped with scikit-learn,
no download) with `fit` on the default backend, then gives the trained model to each
framework as its own kind of object, in the same process:

- PyTorch: `to_module(model)`, an `nn.Module` sharing the weights (run in eval mode);
- JAX: `to_function(model)`, a pure `apply(params, state, x)` run under `jax.jit`;
- TensorFlow: `to_module(model)`, a `tf.Module`, and a SavedModel reloaded with plain
  `tf.saved_model.load` (no kbridge code in it).

It prints one table: accuracy on held-out digits and the largest difference from `predict`.

    python examples/quickstart.py
"""

import tempfile
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
    rows = [(f"kbridge predict ({trained_on})", reference)] + hand_off(model, test_x)
    print(f"\n{'framework object':<34}{'accuracy':>9}{'max |diff| vs predict':>24}")
    diffs, accuracies = [], []
    for name, probabilities in rows:
        accuracies.append(float(np.mean(np.argmax(probabilities, axis=1) == test_y)))
        diffs.append(float(np.max(np.abs(probabilities - reference))))
        print(f"{name:<34}{accuracies[-1]:>9.3f}{diffs[-1]:>24.2e}")
    print(f"\n{len(labels)} digits, {model.count_params()} parameters, {time.perf_counter() - start:.1f} s")
    assert max(diffs) <= 1e-5, "the frameworks disagree"
    assert min(accuracies) >= 0.9, "the model did not learn"


def hand_off(model, x):
    """`[(name, probabilities)]` from the trained model as a PyTorch, JAX and TensorFlow object."""
    import jax
    import tensorflow as tf
    import torch

    from kbridge.adapters.jax import to_function
    from kbridge.adapters.tf import export_saved_model
    from kbridge.adapters.tf import to_module as to_tf_module
    from kbridge.adapters.torch import to_module as to_torch_module

    rows = []
    model.to_backend("torch")  # an explicit, exact move of every variable
    module = to_torch_module(model).eval()
    with torch.no_grad():
        rows.append(("torch.nn.Module (to_module)", module(torch.from_numpy(x)).numpy()))

    model.to_backend("jax")
    fn = to_function(model)
    outputs, _ = jax.jit(fn.apply)(fn.params, fn.state, x)
    rows.append(("jax.jit(to_function(model).apply)", np.asarray(outputs)))

    model.to_backend("tensorflow")
    rows.append(("tf.Module (to_module)", to_tf_module(model)(x).numpy()))
    with tempfile.TemporaryDirectory() as folder:
        export_saved_model(model, f"{folder}/digits")
        serve = tf.saved_model.load(f"{folder}/digits").signatures["serving_default"]
        (outputs,) = serve(pixels=tf.constant(x)).values()
        rows.append(("tf.saved_model.load (SavedModel)", outputs.numpy()))
    return rows


if __name__ == "__main__":
    main()
