"""Keras 3 parity of the feature preprocessing layers.

The same vocabulary, boundaries, statistics or adapt data must give the same outputs as Keras's
layers, `adapt` must learn the same vocabulary/statistics/boundaries (Discretization: on data of
fewer than 1/epsilon values, where Keras's quantiles are exact), Hashing must give Keras's
FarmHash/SipHash bins, and configs must load both ways.
"""

import numpy as np
import pytest

import kbridge

pytestmark = pytest.mark.keras_parity
keras = pytest.importorskip("keras", reason="Keras 3 is installed only in the keras_parity session")
pytest.importorskip("tensorflow", reason="Keras's lookup and hashing layers need TensorFlow")

TEXTS = ["The cat sat on the mat.", "A dog, a cat; the END!", "the dog ate my homework", "Cats and DOGS"]


def _theirs(x):
    if isinstance(x, list):
        return np.array(x)
    return np.asarray(keras.ops.convert_to_numpy(x))


def _ours(layer, *args, **kwargs):
    with kbridge.backend.use("numpy"):
        out = layer(*args, **kwargs)
    if isinstance(out, np.ndarray) and out.dtype.kind == "U":
        return out
    return np.asarray(kbridge.ops.convert_to_numpy(out))


def _pair(name, *args, **kwargs):
    with kbridge.backend.use("numpy"):
        ours = getattr(kbridge.layers, name)(*args, **kwargs)
    return ours, getattr(keras.layers, name)(*args, **kwargs)


def _equal(ours, theirs, x, **kwargs):
    got = _ours(ours, x, **kwargs)
    want = _theirs(theirs(x, **kwargs))
    if want.dtype.kind in "SO":
        want = np.char.decode(want.astype(bytes), "utf-8")
    assert got.shape == want.shape
    if want.dtype.kind == "f":
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)
    else:
        np.testing.assert_array_equal(got, want)


# -- Normalization ---------------------------------------------------------------------------------


def test_normalization_adapt_weights_and_outputs_equal_keras():
    rng = np.random.RandomState(0)
    data = rng.normal(3.0, 2.0, (40, 3, 4)).astype("float32")
    for kwargs in ({}, {"axis": (1, 2)}, {"axis": None}, {"invert": True}):
        ours, theirs = _pair("Normalization", **kwargs)
        ours.adapt(data)
        theirs.adapt(data)
        for got, want in zip(ours.get_weights(), theirs.get_weights()):
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
        assert [w.path.split("/")[-1] for w in ours.weights] == [w.path.split("/")[-1] for w in theirs.weights]
        x = rng.normal(3.0, 2.0, (2, 3, 4)).astype("float32")
        got, want = _ours(ours, x), _theirs(theirs(x))
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def test_normalization_set_weights_from_keras_and_given_statistics():
    rng = np.random.RandomState(1)
    theirs = keras.layers.Normalization()
    theirs.adapt(rng.uniform(0, 10, (30, 5)).astype("float32"))
    with kbridge.backend.use("numpy"):
        ours = kbridge.layers.Normalization()
        ours.build((None, 5))
        ours.set_weights(theirs.get_weights())
    x = rng.uniform(0, 10, (3, 5)).astype("float32")
    np.testing.assert_allclose(_ours(ours, x), _theirs(theirs(x)), rtol=1e-6, atol=1e-6)
    ours, theirs = _pair("Normalization", axis=(1, 2), mean=[1.0, 2.0], variance=[4.0, 0.25])
    _equal(ours, theirs, x.reshape(3, 5, 1)[:, :2].repeat(2, axis=2).astype("float32"))


# -- Discretization / CategoryEncoding --------------------------------------------------------------


@pytest.mark.parametrize("num_bins", [2, 3, 4, 7])
def test_discretization_adapt_equals_keras_on_small_data(num_bins):
    rng = np.random.RandomState(num_bins)
    data = rng.normal(size=(8, 9)).astype("float32")  # 72 values < 1 / epsilon: Keras's quantiles are exact
    ours, theirs = _pair("Discretization", num_bins=num_bins)
    ours.adapt(data)
    theirs.adapt(data)
    np.testing.assert_allclose(ours.bin_boundaries, theirs.bin_boundaries, rtol=1e-6, atol=1e-7)
    _equal(ours, theirs, rng.normal(size=(4, 3)).astype("float32"))


@pytest.mark.parametrize("output_mode", ["int", "one_hot", "multi_hot", "count"])
def test_discretization_and_category_encoding_outputs_equal_keras(output_mode):
    x = np.array([[-1.0, 0.5, 2.0], [3.0, 0.0, 0.7]], "float32")
    _equal(*_pair("Discretization", bin_boundaries=[0.0, 1.0, 2.0], output_mode=output_mode), x)
    if output_mode != "int":
        ids = np.array([[0, 3, 3], [1, 2, 0]], "int32")
        _equal(*_pair("CategoryEncoding", 4, output_mode=output_mode), ids if output_mode != "one_hot" else ids[:, :1])
    ours, theirs = _pair("CategoryEncoding", 4, output_mode="count")
    weights = np.array([[0.5, 1.0, 2.0], [1.0, 3.0, 1.0]], "float32")
    _equal(ours, theirs, np.array([[0, 3, 3], [1, 2, 0]]), count_weights=weights)


# -- lookups ---------------------------------------------------------------------------------------

INT_CASES = [
    {},
    {"mask_token": 0},
    {"num_oov_indices": 3},
    {"num_oov_indices": 3, "oov_method": "farmhash"},
    {"num_oov_indices": 2, "oov_method": "farmhash", "salt": [5, 9]},
    {"output_mode": "multi_hot", "mask_token": 0},
    {"output_mode": "count"},
    {"output_mode": "one_hot"},
    {"output_mode": "multi_hot", "max_tokens": 6, "pad_to_max_tokens": True},
    {"output_mode": "tf_idf"},
]


@pytest.mark.parametrize("kwargs", INT_CASES, ids=[str(k) for k in INT_CASES])
def test_integer_lookup_adapt_and_outputs_equal_keras(kwargs):
    data = np.array([[4, 4, 9, 1], [9, 9, 2, 0], [7, 4, 9, 9]])
    ours, theirs = _pair("IntegerLookup", **kwargs)
    ours.adapt(data)
    theirs.adapt(data)
    assert ours.get_vocabulary() == [int(v) for v in theirs.get_vocabulary()]
    x = np.array([[4, 0, 11], [2, 9, 123456]]) if kwargs.get("output_mode") != "one_hot" else np.array([4, 11, 2])
    _equal(ours, theirs, x)


def test_integer_lookup_vocabulary_and_invert_equal_keras():
    vocab = [30, 10, 20]
    _equal(*_pair("IntegerLookup", vocabulary=vocab, mask_token=0), np.array([[10, 0, 5], [30, 20, 20]]))
    _equal(*_pair("IntegerLookup", vocabulary=vocab, invert=True, mask_token=0), np.array([[0, 1, 2, 4, 9]]))
    _equal(*_pair("IntegerLookup", vocabulary=vocab, output_mode="tf_idf", idf_weights=[0.5, 1.0, 3.0]),
           np.array([[10, 10, 7], [30, 20, 1]]))


STRING_CASES = [
    {},
    {"mask_token": ""},
    {"num_oov_indices": 4},
    {"num_oov_indices": 3, "salt": 17},
    {"num_oov_indices": 0, "vocabulary": ["red", "green", "blue", ""]},
    {"output_mode": "multi_hot", "mask_token": ""},
    {"output_mode": "count", "max_tokens": 3},
    {"output_mode": "tf_idf"},
    {"output_mode": "tf_idf", "max_tokens": 8, "pad_to_max_tokens": True},
]


@pytest.mark.parametrize("kwargs", STRING_CASES, ids=[str(k) for k in STRING_CASES])
def test_string_lookup_adapt_and_outputs_equal_keras(kwargs):
    data = np.array([["red", "green", "red"], ["blue", "red", ""], ["green", "pink", "red"]])
    ours, theirs = _pair("StringLookup", **kwargs)
    if "vocabulary" not in kwargs:
        ours.adapt(data)
        theirs.adapt(data)
    assert ours.get_vocabulary() == list(theirs.get_vocabulary())
    x = np.array([["red", "", "teal"], ["blue", "violet", "green"]])
    if kwargs.get("num_oov_indices") == 0:
        x = np.array([["red", "", "blue"]])
    _equal(ours, theirs, x)


def test_string_lookup_invert_and_tf_idf_vocabulary_equal_keras():
    _equal(*_pair("StringLookup", vocabulary=["a", "b", "c"], invert=True), np.array([[1, 2, 0, 3, 8]]))
    _equal(*_pair("StringLookup", vocabulary=["a", "b", "c"], output_mode="tf_idf", idf_weights=[0.5, 1.0, 2.0]),
           np.array([["a", "a", "c"], ["b", "z", "z"]]))


HASH_CASES = [
    ({"num_bins": 5}, np.array([["a"], ["b"], ["hello world"], [""]])),
    ({"num_bins": 1000}, np.array([["x" * 70], ["y" * 33], ["z" * 17], ["é漢字"]])),
    ({"num_bins": 7}, np.array([[1], [22], [-333], [2**40]])),
    ({"num_bins": 7}, np.array([[1.5], [22.0], [-3.9]], "float32")),
    ({"num_bins": 5, "mask_value": ""}, np.array([["a"], [""], ["c"]])),
    ({"num_bins": 6, "mask_value": 0}, np.array([[0], [4], [9]])),
    ({"num_bins": 11, "salt": [133, 137]}, np.array([["a"], ["bb"], ["a long salted string, longer than 16"]])),
    ({"num_bins": 11, "salt": 3}, np.array([[12], [13]])),
    ({"num_bins": 4, "output_mode": "one_hot"}, np.array([["a"], ["b"], ["c"]])),
    ({"num_bins": 4, "output_mode": "multi_hot"}, np.array([["a", "b"], ["c", "c"]])),
    ({"num_bins": 4, "output_mode": "count"}, np.array([["a", "b"], ["c", "c"]])),
]


@pytest.mark.parametrize("index", range(len(HASH_CASES)))
def test_hashing_bins_equal_keras(index):
    kwargs, x = HASH_CASES[index]
    _equal(*_pair("Hashing", **kwargs), x)


TEXT_CASES = [
    {},
    {"output_sequence_length": 4},
    {"output_sequence_length": 9, "max_tokens": 6},
    {"ngrams": 2},
    {"ngrams": (1, 3), "output_mode": "count"},
    {"output_mode": "multi_hot"},
    {"output_mode": "tf_idf", "max_tokens": 10, "pad_to_max_tokens": True},
    {"standardize": "lower", "split": "character", "output_mode": "count"},
    {"standardize": "strip_punctuation"},
    {"standardize": None, "split": "whitespace"},
]


@pytest.mark.parametrize("kwargs", TEXT_CASES, ids=[str(k) for k in TEXT_CASES])
def test_text_vectorization_adapt_and_outputs_equal_keras(kwargs):
    ours, theirs = _pair("TextVectorization", **kwargs)
    ours.adapt(TEXTS)
    theirs.adapt(TEXTS)
    assert ours.get_vocabulary() == list(theirs.get_vocabulary())
    x = np.array(["the cat and the dog", "Mat, homework! unknown words", "a"])
    _equal(ours, theirs, x)
    _equal(ours, theirs, x[:, None])


def test_text_vectorization_vocabulary_argument_equals_keras():
    vocab = ["the", "cat", "dog"]
    _equal(*_pair("TextVectorization", vocabulary=vocab, output_sequence_length=3), np.array(["The dog cat bird"]))
    _equal(*_pair("TextVectorization", vocabulary=vocab, output_mode="tf_idf", idf_weights=[0.1, 1.0, 2.0]),
           np.array(["The dog cat bird dog"]))


# -- configs ---------------------------------------------------------------------------------------

CONFIG_CASES = [
    ("Normalization", {"axis": (1, 2), "mean": [1.0, 2.0], "variance": [3.0, 4.0], "invert": True}),
    ("Normalization", {"axis": None}),
    ("Discretization", {"bin_boundaries": [0.0, 1.5], "output_mode": "count"}),
    ("Discretization", {"num_bins": 4, "epsilon": 0.05}),
    ("CategoryEncoding", {"num_tokens": 6, "output_mode": "one_hot"}),
    ("IntegerLookup", {"vocabulary": [3, 1, 2], "mask_token": 0, "num_oov_indices": 2}),
    ("IntegerLookup", {"max_tokens": 9, "output_mode": "tf_idf", "pad_to_max_tokens": True, "oov_method": "farmhash",
                       "salt": [1, 2]}),
    ("StringLookup", {"vocabulary": ["a", "b"], "invert": True, "oov_token": "?"}),
    ("StringLookup", {"vocabulary": ["a", "b"], "output_mode": "tf_idf", "idf_weights": [1.0, 2.0]}),
    ("Hashing", {"num_bins": 8, "mask_value": "", "salt": 4}),
    ("Hashing", {"num_bins": 3, "output_mode": "count"}),
    ("TextVectorization", {"max_tokens": 30, "ngrams": 2, "output_sequence_length": 5, "vocabulary": ["x", "y"]}),
    ("TextVectorization", {"standardize": None, "split": "character", "output_mode": "multi_hot"}),
]


def _plain(value):
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if k != "name"}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


@pytest.mark.parametrize("name,kwargs", CONFIG_CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CONFIG_CASES)])
def test_configs_equal_keras_and_load_both_ways(name, kwargs):
    ours, theirs = _pair(name, **kwargs)
    ours_config, theirs_config = ours.get_config(), theirs.get_config()
    assert list(ours_config) == list(theirs_config)
    assert _plain(ours_config) == _plain(theirs_config)
    with kbridge.backend.use("numpy"):
        loaded = getattr(kbridge.layers, name).from_config(theirs_config)
    assert _plain(loaded.get_config()) == _plain(theirs_config)
    assert _plain(getattr(keras.layers, name).from_config(ours_config).get_config()) == _plain(ours_config)
