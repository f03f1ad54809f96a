"""Makes `digits_keras3.keras` with real Keras 3: the file `examples/keras_file_to_torch.py` loads.

A small classifier of scikit-learn's handwritten digits, trained by Keras 3 for a few
epochs on purpose (so fine-tuning has room to help), saved as a `.keras` file next to a
JSON file with its held-out accuracy, which the example checks kbridge reproduces.
Needs keras (3.x) and one of its backends; kbridge is not used.

    KERAS_BACKEND=tensorflow python examples/data/make_digits_keras3.py [--out DIR]
"""

import argparse
import json
import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def split():
    """The train/test split both this script and the example use."""
    images, labels = load_digits(return_X_y=True)
    return train_test_split(images.astype("float32"), labels.astype("int32"), test_size=0.2, random_state=0)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=HERE, help="folder for digits_keras3.keras and digits_keras3.json")
    args = parser.parse_args()
    keras.utils.set_random_seed(0)
    x_train, x_test, y_train, y_test = split()
    model = keras.Sequential(
        [
            keras.Input(shape=(64,), name="pixels"),
            keras.layers.Rescaling(1.0 / 16.0),
            keras.layers.Dense(32, activation="relu"),
            keras.layers.Dropout(0.1),
            keras.layers.Dense(10, activation="softmax", name="digit"),
        ],
        name="digits_keras3",
    )
    model.compile(optimizer=keras.optimizers.Adam(0.003), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x_train, y_train, batch_size=64, epochs=3, verbose=2)
    predictions = model.predict(x_test, verbose=0)
    accuracy = float(np.mean(np.argmax(predictions, axis=1) == y_test))
    os.makedirs(args.out, exist_ok=True)
    model.save(os.path.join(args.out, "digits_keras3.keras"))
    info = {
        "keras_version": keras.__version__,
        "keras_backend": keras.backend.backend(),
        "test_size": len(y_test),
        "test_accuracy": accuracy,
    }
    with open(os.path.join(args.out, "digits_keras3.json"), "w") as file:
        json.dump(info, file, indent=2)
        file.write("\n")
    print(f"test accuracy {accuracy:.4f} ({len(y_test)} held-out digits)")


if __name__ == "__main__":
    main()
