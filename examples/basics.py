"""The three ways to define one model: Sequential, Functional and a subclassed Model.

Each is trained briefly with `fit` on scikit-learn's handwritten digits (shipped with
scikit-learn, no download) on the default backend. The three share one architecture, so
given the same weights (`set_weights`) they give identical predictions. Each is saved to
a `.keras` file and loaded back (the subclass through `register_keras_serializable`),
and its structural variable paths are printed.

    python examples/basics.py
"""

import os
import tempfile
import time

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import kbridge as keras
from kbridge import layers

EPOCHS = 5


def sequential_model():
    return keras.Sequential(
        [
            keras.Input(shape=(64,)),
            layers.Rescaling(1.0 / 16.0),
            layers.Dense(32, activation="relu"),
            layers.Dense(10, activation="softmax"),
        ],
        name="sequential_digits",
    )


def functional_model():
    inputs = keras.Input(shape=(64,), name="pixels")
    x = layers.Rescaling(1.0 / 16.0)(inputs)
    x = layers.Dense(32, activation="relu")(x)
    outputs = layers.Dense(10, activation="softmax")(x)
    return keras.Model(inputs, outputs, name="functional_digits")


@keras.saving.register_keras_serializable(package="examples")
class DigitsClassifier(keras.Model):
    """A subclassed model: layers as attributes, the forward pass in `call`."""

    def __init__(self, hidden=32, **kwargs):
        super().__init__(**kwargs)
        self.hidden = hidden
        self.rescale = layers.Rescaling(1.0 / 16.0)
        self.body = layers.Dense(hidden, activation="relu")
        self.head = layers.Dense(10, activation="softmax")

    def call(self, x):
        return self.head(self.body(self.rescale(x)))

    def get_config(self):
        # Only what __init__ needs; `from_config` then calls `DigitsClassifier(**config)`.
        return {**super().get_config(), "hidden": self.hidden}


def subclassed_model():
    model = DigitsClassifier(name="subclassed_digits")
    model(np.zeros((1, 64), "float32"))  # creates the variables
    return model


def main():
    start = time.perf_counter()
    keras.utils.set_random_seed(0)
    images, labels = load_digits(return_X_y=True)
    x_train, x_test, y_train, y_test = train_test_split(
        images.astype("float32"), labels.astype("int32"), test_size=0.2, random_state=0
    )
    models = {"Sequential": sequential_model(), "Functional": functional_model(), "subclassed": subclassed_model()}
    folder = tempfile.TemporaryDirectory(prefix="kbridge_basics_")
    print(f"{'model':<12}{'loss':>8}{'accuracy':>10}  variable paths")
    for kind, model in models.items():
        model.compile(
            optimizer=keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy", metrics=["accuracy"]
        )
        history = model.fit(x_train, y_train, batch_size=64, epochs=EPOCHS, verbose=0)
        losses = history.history["loss"]
        loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
        print(f"{kind:<12}{loss:>8.3f}{accuracy:>10.3f}  {[path for path, _ in model.named_variables()]}")
        assert losses[-1] < 0.5 * losses[0], (kind, losses)
        assert accuracy >= 0.85, (kind, accuracy)

        # Save the whole model (architecture, weights, compile config) and load it back.
        path = os.path.join(folder.name, f"{kind}.keras")
        model.save(path)
        restored = keras.saving.load_model(path)
        assert type(restored) is type(model), (type(restored), type(model))
        np.testing.assert_array_equal(restored.predict(x_test, verbose=0), model.predict(x_test, verbose=0))

    folder.cleanup()

    # One architecture, three definitions: the same weights give the same predictions.
    weights = models["Sequential"].get_weights()
    reference = models["Sequential"].predict(x_test, verbose=0)
    for kind in ["Functional", "subclassed"]:
        models[kind].set_weights(weights)
        np.testing.assert_array_equal(models[kind].predict(x_test, verbose=0), reference, err_msg=kind)
    print("Functional and subclassed models with the Sequential model's weights: identical predictions")
    print(f"done in {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
