"""Video question answering: a two-input Keras model trained on JAX, PyTorch and TensorFlow.

The scaled-down model from the Keras talks: each video frame goes through a small
convolutional network (`TimeDistributed`), an `LSTM` summarizes the frame features,
another `LSTM` reads the question (`Embedding(mask_zero=True)` masks the padding), and a
softmax over the possible answers reads both. Random data, tiny shapes: it runs in seconds.
The answer is a function of the question's first word and of the video's brightness, so the
loss has something to learn.

1. The same architecture is built and trained with `fit` on jax, torch and tensorflow.
2. The jax-trained model is handed to JAX (`to_function`, under `jax.jit`), to PyTorch
   (`to_module`, an `nn.Module`) and to TensorFlow (`to_module`, a `tf.Module`); each
   native object's predictions must equal `model.predict`'s.

    python examples/video_qa.py
"""

import time

import numpy as np

import kbridge as keras
from kbridge import layers

FRAMES, SIZE, CHANNELS = 4, 16, 3
VOCAB, WORDS, ANSWERS = 20, 6, 4
SAMPLES = 64


def make_data(seed=0):
    rng = np.random.RandomState(seed)
    video = rng.rand(SAMPLES, FRAMES, SIZE, SIZE, CHANNELS).astype("float32")
    question = rng.randint(1, VOCAB, (SAMPLES, WORDS)).astype("int32")
    lengths = rng.randint(2, WORDS + 1, SAMPLES)
    question[np.arange(WORDS)[None, :] >= lengths[:, None]] = 0  # padded questions
    bright = rng.rand(SAMPLES) < 0.5
    video[bright] += 0.5
    answer = ((question[:, 0] % 2) * 2 + bright).astype("int32")
    return video, question, answer


def build_model():
    """Frames -> CNN -> LSTM; question -> Embedding -> LSTM; both -> softmax over answers."""
    cnn = keras.Sequential(
        [
            keras.Input((SIZE, SIZE, CHANNELS)),
            layers.Conv2D(8, 3, activation="relu"),
            layers.MaxPooling2D(2),
            layers.Conv2D(16, 3, activation="relu"),
            layers.GlobalAveragePooling2D(),
        ],
        name="frame_cnn",
    )
    video = keras.Input((FRAMES, SIZE, SIZE, CHANNELS), name="video")
    encoded_video = layers.LSTM(16)(layers.TimeDistributed(cnn)(video))

    question = keras.Input((WORDS,), dtype="int32", name="question")
    embedded = layers.Embedding(VOCAB, 8, mask_zero=True)(question)
    encoded_question = layers.LSTM(16)(embedded)

    merged = layers.concatenate([encoded_video, encoded_question])
    answer = layers.Dense(ANSWERS, activation="softmax", name="answer")(merged)
    return keras.Model([video, question], answer, name="video_qa")


def train(backend, data):
    video, question, answer = data
    keras.utils.set_random_seed(0)
    with keras.backend.use(backend):
        model = build_model()
    model.compile(optimizer=keras.optimizers.Adam(0.02), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit([video, question], answer, batch_size=16, epochs=8, verbose=0)
    losses = history.history["loss"]
    assert np.isfinite(losses).all() and losses[-1] < losses[0], (backend, losses)
    return model, losses


def main():
    start = time.perf_counter()
    data = make_data()
    video, question, _ = data
    results = {}
    for backend in ("jax", "torch", "tensorflow"):
        results[backend] = train(backend, data)
    model = results["jax"][0]
    model.summary()
    reference = np.asarray(model.predict([video, question], verbose=0))

    # Native objects built from the jax-trained model (each check reads the same weights).
    import jax

    from kbridge.adapters.jax import to_function

    fn = to_function(model)
    apply = jax.jit(lambda params, state, v, q: fn.apply(params, state, v, q)[0])
    native = {"jax (to_function + jit)": np.asarray(apply(fn.params, fn.state, video, question))}

    import torch

    from kbridge.adapters.torch import to_module as to_torch_module

    model.to_backend("torch")
    module = to_torch_module(model).eval()
    with torch.no_grad():
        native["torch (nn.Module)"] = module(torch.from_numpy(video), torch.from_numpy(question)).numpy()

    import kbridge.adapters.tf as tf_adapter

    if hasattr(tf_adapter, "to_module"):
        model.to_backend("tensorflow")
        tf_module = tf_adapter.to_module(model)
        native["tensorflow (tf.Module)"] = tf_module(video, question).numpy()

    print(f"\n{'trained on':<12}{'first loss':>11}{'last loss':>11}{'accuracy':>10}")
    for backend, (trained, losses) in results.items():
        print(f"{backend:<12}{losses[0]:>11.4f}{losses[-1]:>11.4f}{trained.history.history['accuracy'][-1]:>10.3f}")
    print(f"\n{'jax-trained model as':<26}{'max |diff| vs predict':>22}")
    for name, outputs in native.items():
        diff = float(np.max(np.abs(outputs - reference)))
        print(f"{name:<26}{diff:>22.2e}")
        assert outputs.shape == reference.shape and diff <= 1e-5, (name, diff)
    print(f"\n{SAMPLES} videos, {model.count_params()} parameters, {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
