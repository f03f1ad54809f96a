"""Load a `.keras` file written by Keras 3, fine-tune it in PyTorch, save it back to `.keras`.

`examples/data/digits_keras3.keras` is a small digits classifier trained by real Keras 3
(made by `examples/data/make_digits_keras3.py`; Keras itself is not needed here). kbridge
loads it onto the torch backend and must reproduce the held-out accuracy Keras 3 recorded
next to the file; `to_module` turns it into an `nn.Module` that `torch.optim.AdamW`
fine-tunes; the fine-tuned model is saved to a new `.keras` file and loaded back.

    python examples/keras_file_to_torch.py
"""

import json
import os
import tempfile
import time

import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import kbridge as keras
from kbridge.adapters.torch import to_module

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")
EPOCHS = 5


def accuracy(model, x, y):
    return float(np.mean(np.argmax(np.asarray(model.predict(x, verbose=0)), axis=1) == y))


def main():
    start = time.perf_counter()
    torch.manual_seed(0)
    keras.utils.set_random_seed(0)
    torch.set_num_threads(1)  # tiny matmuls: threads cost more than they give
    images, labels = load_digits(return_X_y=True)
    # The split make_digits_keras3.py used.
    x_train, x_test, y_train, y_test = train_test_split(
        images.astype("float32"), labels.astype("int32"), test_size=0.2, random_state=0
    )
    with open(os.path.join(DATA, "digits_keras3.json")) as file:
        recorded = json.load(file)

    with keras.backend.use("torch"):
        model = keras.saving.load_model(os.path.join(DATA, "digits_keras3.keras"))
    model.summary()
    before = accuracy(model, x_test, y_test)
    print(f"Keras {recorded['keras_version']} recorded accuracy {recorded['test_accuracy']:.4f}; "
          f"kbridge on torch: {before:.4f}")  # fmt: skip
    assert before == recorded["test_accuracy"], (before, recorded)

    module = to_module(model)  # nn.Module; its parameters are the model's variables
    print("state_dict keys:", list(module.state_dict()))
    optimizer = torch.optim.AdamW(module.parameters(), lr=3e-3)
    features, targets = torch.from_numpy(x_train), torch.from_numpy(y_train).long()
    for epoch in range(EPOCHS):
        module.train()
        order, total = torch.randperm(len(targets)), 0.0
        for index in order.split(64):
            optimizer.zero_grad()
            probabilities = module(features[index])  # the Keras model ends in a softmax
            loss = torch.nn.functional.nll_loss(torch.log(probabilities.clamp_min(1e-7)), targets[index])
            loss.backward()
            optimizer.step()
            total += float(loss.detach()) * len(index)
        print(f"epoch {epoch + 1}: loss {total / len(targets):.4f}")
    after = accuracy(model, x_test, y_test)  # the kbridge model holds the fine-tuned weights
    print(f"accuracy before fine-tuning {before:.4f}, after {after:.4f}")
    assert after >= before, (before, after)

    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "digits_finetuned.keras")
        model.save(path)
        with keras.backend.use("torch"):
            reloaded = keras.saving.load_model(path)
        np.testing.assert_array_equal(reloaded.predict(x_test, verbose=0), model.predict(x_test, verbose=0))
    print(f"saved and reloaded the fine-tuned model: same predictions; {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
