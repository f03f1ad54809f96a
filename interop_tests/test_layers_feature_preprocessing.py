"""Feature preprocessing layers on numpy, jax, torch and tensorflow.

Numeric layers (Normalization, Discretization, CategoryEncoding, IntegerLookup) run with
`kbridge.ops` and are compared with NumPy references on every backend, inside models too
(Normalization trained with `fit`, lookups in compiled predict steps). String layers
(StringLookup, Hashing, TextVectorization) compute on the host and must return the same values
as a tensor of each backend. Configs: tests/test_layers_feature_preprocessing_config.py; Keras
parity: test_keras_parity_feature_preprocessing.py.
"""

import numpy as np
import pytest

import kbridge
from kbridge import layers, ops
from kbridge.backend import registry

BACKENDS = ("numpy", "jax", "torch", "tensorflow")
FIT_BACKENDS = ("jax", "torch", "tensorflow")


def _numpy(x):
    return np.asarray(ops.convert_to_numpy(x))


@pytest.fixture(params=BACKENDS)
def backend(request):
    if not registry.is_installed(request.param):
        pytest.skip(f"{request.param} is not installed")
    with kbridge.backend.use(request.param):
        yield request.param


def _is_native(x, backend):
    return registry.backend_of_type(type(x)) is registry.get(backend)


def _one_hot_ref(indices, depth):
    return (np.asarray(indices)[..., None] == np.arange(depth)).astype("float32")


# -- Normalization ---------------------------------------------------------------------------------


def test_normalization_adapt_and_call_match_numpy(backend):
    rng = np.random.RandomState(0)
    data = rng.uniform(-3, 5, (20, 3, 4)).astype("float32")
    layer = layers.Normalization(axis=(1, 2))
    layer.adapt(data)
    mean, var = data.astype("float64").mean(axis=0), data.astype("float64").var(axis=0)
    got_mean, got_var, count = layer.get_weights()
    np.testing.assert_allclose(got_mean, mean, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(got_var, var, rtol=1e-6)
    assert [w.path.split("/")[-1] for w in layer.weights] == ["mean", "variance", "count"]
    assert not layer.trainable_weights and count.dtype == np.int32
    x = rng.uniform(-3, 5, (2, 3, 4)).astype("float32")
    out = layer(x)
    assert _is_native(out, backend) and ops.dtype(out) == "float32"
    np.testing.assert_allclose(_numpy(out), (x - mean) / np.sqrt(var), rtol=1e-5, atol=1e-5)
    inverse = layers.Normalization(axis=(1, 2), invert=True)
    inverse.adapt(data)
    np.testing.assert_allclose(_numpy(inverse(_numpy(out))), x, rtol=1e-5, atol=1e-5)


def test_normalization_adapt_over_batches_equals_whole_array(backend):
    rng = np.random.RandomState(1)
    data = rng.normal(2.0, 3.0, (37, 5)).astype("float32")
    whole = layers.Normalization()
    whole.adapt(data)
    batched = layers.Normalization()
    batched.adapt(iter([data[:10], data[10:11], data[11:]]))
    by_size = layers.Normalization()
    by_size.adapt(data, batch_size=8)
    dataset = layers.Normalization()
    dataset.adapt([(data[:20], np.zeros(20)), (data[20:], np.zeros(17))])
    for layer in (batched, by_size, dataset):
        for got, want in zip(layer.get_weights()[:2], whole.get_weights()[:2]):
            np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)
    steps = layers.Normalization()
    steps.adapt(iter([data[:10], data[10:]]), steps=1)
    np.testing.assert_allclose(steps.get_weights()[0], data[:10].mean(axis=0), rtol=1e-5, atol=1e-6)


def test_normalization_given_statistics_and_axis_none(backend):
    x = np.array([[1.0, 2.0], [3.0, 6.0]], "float32")
    layer = layers.Normalization(mean=[1.0, 2.0], variance=[4.0, 16.0])
    np.testing.assert_allclose(_numpy(layer(x)), [[0.0, 0.0], [1.0, 1.0]], atol=1e-6)
    assert layer.weights == []
    scalar = layers.Normalization(axis=None)
    scalar.adapt(np.array([1.0, 2.0, 3.0, 4.0, 5.0], "float32"))
    np.testing.assert_allclose(_numpy(scalar(np.array([1.0, 2.0, 3.0], "float32"))),
                               [-1.4142135, -0.70710677, 0.0], rtol=1e-6, atol=1e-6)
    ints = layers.Normalization(mean=2.0, variance=4.0)
    np.testing.assert_allclose(_numpy(ints(np.array([[4], [0]], "int32"))), [[1.0], [-1.0]])


@pytest.mark.parametrize("backend", FIT_BACKENDS)
def test_normalization_inside_a_model_trained_with_fit(backend):
    if not registry.is_installed(backend):
        pytest.skip(f"{backend} is not installed")
    rng = np.random.RandomState(0)
    x = rng.normal(50.0, 10.0, (64, 3)).astype("float32")
    y = ((x - 50.0) / 10.0 @ np.array([[1.0], [-2.0], [0.5]], "float32")).astype("float32")
    kbridge.utils.set_random_seed(0)
    with kbridge.backend.use(backend):
        norm = layers.Normalization()
        norm.adapt(x)
        model = kbridge.Sequential([kbridge.Input((3,)), norm, layers.Dense(1)])
    statistics = [w.copy() for w in norm.get_weights()]
    model.compile(optimizer=kbridge.optimizers.SGD(0.1), loss="mse")
    before = model.evaluate(x, y, verbose=0)
    history = model.fit(x, y, batch_size=16, epochs=5, verbose=0)
    after = model.evaluate(x, y, verbose=0)
    assert after < 0.1 * before, (before, after, history.history["loss"])
    # The statistics are not trained.
    for got, want in zip(norm.get_weights(), statistics):
        np.testing.assert_array_equal(got, want)
    predicted = model.predict(x[:4], verbose=0)
    expected = ((x[:4] - statistics[0]) / np.sqrt(statistics[1])) @ model.layers[-1].kernel.numpy()
    np.testing.assert_allclose(predicted, expected + model.layers[-1].bias.numpy(), rtol=1e-4, atol=1e-4)


# -- Discretization / CategoryEncoding --------------------------------------------------------------


def test_discretization_matches_numpy(backend):
    x = np.array([[-1.5, 0.0, 0.2], [1.0, 3.0, 7.5]], "float32")
    bounds = [0.0, 1.0, 2.5]
    out = layers.Discretization(bin_boundaries=bounds)(x)
    assert _is_native(out, backend) and ops.dtype(out) == "int32"
    np.testing.assert_array_equal(_numpy(out), np.digitize(x, bounds))
    one_hot = layers.Discretization(bin_boundaries=bounds, output_mode="one_hot")(x)
    np.testing.assert_array_equal(_numpy(one_hot), _one_hot_ref(np.digitize(x, bounds), 4))
    counts = layers.Discretization(bin_boundaries=bounds, output_mode="count")(x)
    np.testing.assert_array_equal(_numpy(counts), _one_hot_ref(np.digitize(x, bounds), 4).sum(axis=1))
    multi = layers.Discretization(bin_boundaries=bounds, output_mode="multi_hot")(x)
    np.testing.assert_array_equal(_numpy(multi), np.minimum(_numpy(counts), 1))


def test_discretization_adapt_gives_exact_quantiles(backend):
    rng = np.random.RandomState(3)
    data = rng.normal(size=(9, 7)).astype("float32")
    layer = layers.Discretization(num_bins=5)
    layer.adapt(data)
    want = np.quantile(data.ravel().astype("float64"), [0.2, 0.4, 0.6, 0.8], method="interpolated_inverted_cdf")
    np.testing.assert_allclose(layer.bin_boundaries, want, rtol=1e-6)
    # Batches give the same boundaries as the whole array.
    batched = layers.Discretization(num_bins=5)
    batched.adapt([data[:4], data[4:]])
    assert batched.bin_boundaries == layer.bin_boundaries
    counts = np.bincount(_numpy(layer(data)).ravel(), minlength=5)
    assert counts.min() >= 12 and counts.max() <= 14  # 63 values in 5 nearly equal bins


def test_category_encoding_matches_numpy(backend):
    x = np.array([[0, 1, 1], [3, 2, 0]], "int32")
    multi = layers.CategoryEncoding(5)(x)
    assert _is_native(multi, backend) and ops.dtype(multi) == "float32"
    counts = _one_hot_ref(x, 5).sum(axis=1)
    np.testing.assert_array_equal(_numpy(multi), np.minimum(counts, 1))
    np.testing.assert_array_equal(_numpy(layers.CategoryEncoding(5, output_mode="count")(x)), counts)
    one_hot = layers.CategoryEncoding(5, output_mode="one_hot")
    np.testing.assert_array_equal(_numpy(one_hot(np.array([[3], [0]]))), _one_hot_ref([3, 0], 5))
    np.testing.assert_array_equal(_numpy(one_hot(np.array([4, 1]))), _one_hot_ref([4, 1], 5))
    weights = np.array([[0.5, 1.0, 2.0], [1.0, 1.0, 4.0]], "float32")
    weighted = layers.CategoryEncoding(5, output_mode="count")(x, count_weights=weights)
    np.testing.assert_allclose(_numpy(weighted), (_one_hot_ref(x, 5) * weights[..., None]).sum(axis=1))
    # A rank-1 input is one sample.
    np.testing.assert_array_equal(_numpy(layers.CategoryEncoding(4)(np.array([0, 3, 3]))), [1, 0, 0, 1])


# -- IntegerLookup -------------------------------------------------------------------------------


def _lookup_ref(x, vocab, start, oov):
    index = {v: i + start for i, v in enumerate(vocab)}
    return np.vectorize(lambda v: index.get(int(v), oov(int(v))))(x)


def test_integer_lookup_matches_reference(backend):
    vocab = [12, 5, 40, 7]
    x = np.array([[5, 7, 99], [40, -3, 12]], "int64")
    layer = layers.IntegerLookup(vocabulary=vocab)
    out = layer(x)
    assert _is_native(out, backend) and ops.dtype(out) == ("int32" if backend == "jax" else "int64")
    np.testing.assert_array_equal(_numpy(out), _lookup_ref(x, vocab, 1, lambda v: 0))
    several = layers.IntegerLookup(vocabulary=vocab, num_oov_indices=3, mask_token=0)
    x0 = np.array([[0, 5, 99, -4, 7]])
    np.testing.assert_array_equal(_numpy(several(x0)), [[0, 5, 1 + 99 % 3, 1 + (-4) % 3, 7]])
    multi = layers.IntegerLookup(vocabulary=vocab, output_mode="multi_hot")(x)
    np.testing.assert_array_equal(_numpy(multi), np.minimum(_one_hot_ref(_numpy(out), 5).sum(axis=1), 1))
    inverse = layers.IntegerLookup(vocabulary=vocab, invert=True, mask_token=0)
    np.testing.assert_array_equal(_numpy(inverse(np.array([[0, 1, 2, 5, 9]]))), [[0, -1, 12, 7, -1]])
    idf = [0.5, 1.0, 2.0, 4.0]
    tf_idf = layers.IntegerLookup(vocabulary=vocab, output_mode="tf_idf", idf_weights=idf)(x)
    weights = np.array([np.mean(idf)] + idf, "float32")
    np.testing.assert_allclose(_numpy(tf_idf), _one_hot_ref(_numpy(out), 5).sum(axis=1) * weights, rtol=1e-6)


def test_integer_lookup_adapt_and_farmhash_oov(backend):
    layer = layers.IntegerLookup(num_oov_indices=2, oov_method="farmhash")
    layer.adapt(np.array([[3, 3, 8], [8, 8, 1]]))
    assert layer.get_vocabulary() == [-1, -1, 8, 3, 1]
    out = _numpy(layer(np.array([3, 1000, 1001])))
    from kbridge.layers.preprocessing._farmhash import fingerprint64

    # OOV integers hash as their decimal strings.
    np.testing.assert_array_equal(out, [3, fingerprint64(b"1000") % 2, fingerprint64(b"1001") % 2])


def test_integer_lookup_and_category_encoding_in_a_compiled_model(backend):
    with kbridge.backend.use(backend):
        inputs = kbridge.Input((3,), dtype="int32")
        ids = layers.IntegerLookup(vocabulary=[10, 20, 30])(inputs)
        encoded = layers.CategoryEncoding(4, output_mode="count")(ids)
        outputs = layers.Dense(1, use_bias=False, kernel_initializer="ones")(encoded)
        model = kbridge.Model(inputs, outputs)
    x = np.array([[10, 20, 99], [30, 30, 30]], "int32")
    np.testing.assert_allclose(model.predict(x, verbose=0), [[3.0], [3.0]])
    np.testing.assert_allclose(_numpy(model(x)), [[3.0], [3.0]])


# -- string layers (host-side) -----------------------------------------------------------------------


def test_string_lookup_returns_backend_tensors(backend):
    layer = layers.StringLookup(vocabulary=["cat", "dog", "bird"], mask_token="")
    x = np.array([["dog", "", "fish"], ["bird", "cat", "cat"]])
    out = layer(x)
    assert _is_native(out, backend)
    np.testing.assert_array_equal(_numpy(out), [[3, 0, 1], [4, 2, 2]])
    np.testing.assert_array_equal(_numpy(layer([b"dog", "bird"])), [3, 4])
    np.testing.assert_array_equal(_numpy(layer(np.array(["cat"], dtype=object))), [2])
    counts = layers.StringLookup(vocabulary=["cat", "dog"], output_mode="count")(x)
    np.testing.assert_array_equal(_numpy(counts), [[2, 0, 1], [1, 2, 0]])
    inverse = layers.StringLookup(vocabulary=["cat", "dog"], invert=True)
    back = inverse(ops.convert_to_tensor(np.array([[1, 2, 0, 7]])))
    assert isinstance(back, np.ndarray) and back.tolist() == [["cat", "dog", "[UNK]", "[UNK]"]]


def test_string_lookup_adapt_tf_idf_and_hashed_oov(backend):
    layer = layers.StringLookup(output_mode="tf_idf")
    docs = np.array([["a", "b", "a"], ["b", "c", "c"]])
    layer.adapt(docs)
    assert layer.get_vocabulary() == ["[UNK]", "c", "b", "a"]
    idf = np.log(1 + 2 / (1 + np.array([1.0, 2.0, 1.0])))
    weights = np.concatenate([[idf.mean()], idf])
    out = _numpy(layer(np.array([["a", "a", "z"]])))
    np.testing.assert_allclose(out, [[weights[0], 0, 0, 2 * weights[3]]], rtol=1e-6)
    hashed = layers.StringLookup(vocabulary=["a"], num_oov_indices=4)
    got = _numpy(hashed(np.array(["a", "x", "y", "x"])))
    assert got[0] == 4 and got[1] == got[3] and 0 <= got[2] < 4


def test_hashing_same_bins_on_every_backend(backend):
    strings = np.array([["apple"], ["pear"], [""], ["a much longer string that crosses sixty four bytes.........."]])
    bins = layers.Hashing(7)(strings)
    assert _is_native(bins, backend) and ops.dtype(bins) == ("int32" if backend == "jax" else "int64")
    from kbridge.layers.preprocessing._farmhash import fingerprint64

    want = [[fingerprint64(s.encode()) % 7] for s in strings[:, 0]]
    np.testing.assert_array_equal(_numpy(bins), want)
    ints = layers.Hashing(5)(ops.convert_to_tensor(np.array([[1], [22]], "int32")))
    np.testing.assert_array_equal(_numpy(ints), [[fingerprint64(b"1") % 5], [fingerprint64(b"22") % 5]])
    masked = _numpy(layers.Hashing(4, mask_value="")(strings))
    assert masked[2, 0] == 0 and (masked[[0, 1, 3], 0] >= 1).all()
    one_hot = layers.Hashing(7, output_mode="one_hot")(strings)
    np.testing.assert_array_equal(_numpy(one_hot), _one_hot_ref(np.array(want)[:, 0], 7))


def test_text_vectorization_int_and_multi_hot(backend):
    layer = layers.TextVectorization(output_sequence_length=5)
    layer.adapt(["The cat sat.", "The dog ate the cat!", "a dog"])
    assert layer.get_vocabulary() == ["", "[UNK]", "the", "dog", "cat", "sat", "ate", "a"]
    out = layer(["the Cat flew", "a dog, the dog and the cat"])
    assert _is_native(out, backend)
    np.testing.assert_array_equal(_numpy(out), [[2, 4, 1, 0, 0], [7, 3, 2, 3, 1]])
    ragged = layers.TextVectorization(vocabulary=["x", "y"], standardize=None)
    np.testing.assert_array_equal(_numpy(ragged(np.array([["x Y"], ["y y x"]]))), [[2, 1, 0], [3, 3, 2]])
    multi = layers.TextVectorization(vocabulary=["x", "y"], output_mode="multi_hot", split="character",
                                     standardize="lower")
    np.testing.assert_array_equal(_numpy(multi(["xX", "z"])), [[0, 1, 0], [1, 0, 0]])
    grams = layers.TextVectorization(vocabulary=["a", "b", "a b"], ngrams=(1, 2), output_mode="count")
    np.testing.assert_array_equal(_numpy(grams(["a b a b"])), [[1, 2, 2, 2]])  # OOV: "b a"
    custom = layers.TextVectorization(vocabulary=["A", "B"], split=lambda s: s.split(","),
                                      standardize=lambda t: np.char.upper(t))
    np.testing.assert_array_equal(_numpy(custom(["a,B,c"])), [[2, 3, 1]])


def test_string_layers_symbolic_shapes():
    inputs = kbridge.Input((1,), dtype="string")
    assert layers.TextVectorization(output_sequence_length=6)(inputs).shape == (None, 6)
    counts = layers.TextVectorization(vocabulary=["a"], output_mode="count")(inputs)
    assert counts.shape == (None, 2) and counts.dtype == "int64"  # [UNK], "a": no mask index
    looked_up = layers.StringLookup(vocabulary=["a", "b"], output_mode="one_hot")(inputs)
    assert looked_up.shape == (None, 3)
    assert layers.Hashing(5)(inputs).shape == (None, 1)
    assert layers.Hashing(5, output_mode="multi_hot")(inputs).shape == (None, 5)
