"""Feature preprocessing layers on NumPy: configs (Keras 3 keys and order), round trips, defaults,
adapt results, FarmHash/SipHash vectors and argument errors.

Numerics on every backend: interop_tests/test_layers_feature_preprocessing.py; Keras parity:
interop_tests/test_keras_parity_feature_preprocessing.py.
"""

import numpy as np
import pytest

import kbridge
from kbridge import layers
from kbridge.layers.preprocessing import _farmhash
from kbridge.saving import serialization_lib


@pytest.fixture(autouse=True)
def numpy_backend():
    with kbridge.backend.use("numpy"):
        yield


BASE = ["name", "trainable", "dtype"]
LOOKUP = ["invert", "max_tokens", "num_oov_indices", "oov_token", "mask_token", "output_mode", "sparse",
          "pad_to_max_tokens"]

# (factory, config keys in Keras 3's order)
CASES = {
    "normalization": (lambda: layers.Normalization(axis=(1, 2), mean=[1.0, 2.0], variance=[3.0, 4.0]),
                      BASE + ["axis", "invert", "mean", "variance"]),
    "discretization": (lambda: layers.Discretization(bin_boundaries=[0.0, 1.5], output_mode="one_hot"),
                       ["bin_boundaries", "num_bins", "epsilon", "output_mode", "sparse", "name", "dtype"]),
    "category_encoding": (lambda: layers.CategoryEncoding(5, output_mode="count"),
                          BASE + ["num_tokens", "output_mode"]),
    "integer_lookup": (lambda: layers.IntegerLookup(vocabulary=[4, 9, 2], mask_token=0, num_oov_indices=2),
                       BASE + LOOKUP + ["vocabulary_dtype", "idf_weights", "vocabulary", "vocabulary_size",
                                        "oov_method", "salt"]),
    "string_lookup": (lambda: layers.StringLookup(vocabulary=["a", "b"], output_mode="tf_idf", idf_weights=[1.0, 2.0]),
                      BASE + LOOKUP + ["idf_weights", "vocabulary", "vocabulary_size", "oov_method", "salt",
                                       "encoding"]),
    "hashing": (lambda: layers.Hashing(7, mask_value="", salt=3), BASE + ["num_bins", "salt", "mask_value",
                                                                          "output_mode", "sparse"]),
    "text_vectorization": (lambda: layers.TextVectorization(max_tokens=20, ngrams=2, output_sequence_length=4,
                                                            vocabulary=["x", "y"]),
                           BASE + ["max_tokens", "standardize", "split", "ngrams", "output_mode",
                                   "output_sequence_length", "pad_to_max_tokens", "sparse", "ragged", "vocabulary",
                                   "idf_weights", "encoding", "vocabulary_size"]),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_config_keys_in_keras_order_and_round_trip(name):
    make, keys = CASES[name]
    layer = make()
    config = layer.get_config()
    assert list(config) == keys
    clone = type(layer).from_config(config)
    assert clone.get_config() == config
    serialized = serialization_lib.serialize_keras_object(layer)
    assert serialized["class_name"] == type(layer).__name__
    restored = serialization_lib.deserialize_keras_object(serialized)
    assert type(restored) is type(layer) and restored.get_config() == config


def test_defaults_follow_keras():
    config = layers.Normalization().get_config()
    assert (config["axis"], config["invert"], config["mean"], config["variance"]) == ((-1,), False, None, None)
    assert layers.Normalization(axis=None).axis == ()
    disc = layers.Discretization(num_bins=3).get_config()
    assert disc["epsilon"] == 0.01 and disc["output_mode"] == "int" and disc["dtype"] == "float32"
    assert layers.CategoryEncoding(3).output_mode == "multi_hot"
    assert layers.CategoryEncoding(3, output_mode="binary").output_mode == "multi_hot"
    il = layers.IntegerLookup().get_config()
    il_defaults = (il["oov_token"], il["num_oov_indices"], il["vocabulary_dtype"], il["oov_method"])
    assert il_defaults == (-1, 1, "int64", "floormod")
    sl = layers.StringLookup().get_config()
    assert (sl["oov_token"], sl["encoding"], sl["vocabulary_size"]) == ("[UNK]", "utf-8", None)
    assert layers.StringLookup(output_mode="tf-idf", vocabulary=["a"], idf_weights=[1.0]).output_mode == "tf_idf"
    hashing = layers.Hashing(3)
    assert hashing.get_config()["dtype"]["config"]["name"] == "int64"
    assert layers.Hashing(3, output_mode="count").compute_dtype == "float32"
    assert layers.Hashing(3, salt=5).salt == [5, 5]
    tv = layers.TextVectorization().get_config()
    assert (tv["standardize"], tv["split"], tv["vocabulary_size"]) == ("lower_and_strip_punctuation", "whitespace", 2)


def test_adapted_lookup_config_keeps_vocabulary_size():
    layer = layers.StringLookup(output_mode="multi_hot")
    layer.adapt(["b", "a", "b", "c"])
    assert layer.get_vocabulary() == ["[UNK]", "b", "c", "a"]
    config = layer.get_config()
    assert config["vocabulary"] is None and config["vocabulary_size"] == 4
    # A restored layer without its vocabulary still knows the output width (the vocabulary comes from assets).
    assert layers.StringLookup.from_config(config).compute_output_shape((None, 3)) == (None, 4)


def test_discretization_from_config_of_adapted_layer_keeps_boundaries():
    layer = layers.Discretization(num_bins=2)
    layer.adapt(np.array([1.0, 2.0, 3.0, 4.0]))
    clone = layers.Discretization.from_config(layer.get_config())
    assert clone.bin_boundaries == layer.bin_boundaries == [2.0]
    np.testing.assert_array_equal(np.asarray(clone(np.array([0.0, 2.5]))), [0, 1])


def test_lookup_adapt_ranks_by_count_then_token_descending():
    layer = layers.IntegerLookup(max_tokens=4)
    layer.adapt(np.array([7, 3, 3, 5, 5, 9, 1, 1, 1]))
    # counts: 1->3, 3->2, 5->2, 9->1, 7->1; ties broken by the larger token; OOV takes one slot.
    assert layer.get_vocabulary() == [-1, 1, 5, 3]
    assert layer.get_vocabulary(include_special_tokens=False) == [1, 5, 3]
    assert layer.vocabulary_size() == 4


def test_vocabulary_with_leading_special_tokens_and_files(tmp_path):
    layer = layers.StringLookup(vocabulary=["", "[UNK]", "x", "y"], mask_token="")
    assert layer.get_vocabulary() == ["", "[UNK]", "x", "y"]
    path = tmp_path / "vocab.txt"
    path.write_text("red\ngreen\nblue\n", encoding="utf-8")
    from_file = layers.StringLookup(vocabulary=str(path))
    assert from_file.get_vocabulary() == ["[UNK]", "red", "green", "blue"]
    np.testing.assert_array_equal(np.asarray(from_file(np.array(["blue", "pink"]))), [3, 0])
    assert from_file.get_config()["vocabulary"] is None


def test_fingerprint64_and_siphash_known_values():
    # Values of TensorFlow's Fingerprint64 / SipHash-2-4 (to_hash_bucket_fast / _strong with 2**63-1 buckets).
    assert _farmhash.fingerprint64(b"") == 0x9AE16A3B2F90404F
    big = 2**63 - 1
    known = {  # string: (fast bucket, strong bucket with key [7, 11])
        b"a": (3694432073954588132, 3442210485099530380),
        b"hello world!": (4577883861590986596, 1171108621090963124),
        b"x" * 40: (7780224193200209045, 224033101440741811),
        b"x" * 70: (5457250325824655745, 737558194379393286),
    }
    for data, (fast, strong) in known.items():
        assert _farmhash.fingerprint64(data) % big == fast
        assert _farmhash.siphash_2_4(data, [7, 11]) % big == strong
    assert _farmhash.siphash_2_4(b"abc", [1, 2]) != _farmhash.siphash_2_4(b"abc", [1, 3])
    # SipHash-2-4 reference vector (Aumasson & Bernstein): key 00..0f, message 00..0e.
    key = [int.from_bytes(bytes(range(8)), "little"), int.from_bytes(bytes(range(8, 16)), "little")]
    assert _farmhash.siphash_2_4(bytes(range(15)), key) == 0xA129CA6149BE45E5


BAD = [
    (lambda: layers.Normalization(mean=1.0), ValueError, 'Layer "normalization.*" \\(Normalization\\).*variance'),
    (lambda: layers.Normalization(mean=[1.0, 2.0], variance=[1.0]), ValueError, "Normalization.*shape"),
    (lambda: layers.Normalization(axis="x"), TypeError, "Normalization.*axis"),
    (lambda: layers.Discretization(), ValueError, 'Layer "discretization.*" \\(Discretization\\).*num_bins'),
    (lambda: layers.Discretization(num_bins=2, bin_boundaries=[1.0]), ValueError, "Discretization.*both"),
    (lambda: layers.Discretization(num_bins=2, output_mode="x"), ValueError, "Discretization.*output_mode"),
    (lambda: layers.Discretization(bin_boundaries=[2.0, 1.0]), ValueError, "Discretization.*sorted"),
    (lambda: layers.Discretization(bin_boundaries=[1.0]).adapt([1.0]), ValueError, "Discretization.*num_bins"),
    (lambda: layers.CategoryEncoding(), ValueError, "CategoryEncoding.*num_tokens"),
    (lambda: layers.CategoryEncoding(0), ValueError, "CategoryEncoding.*num_tokens"),
    (lambda: layers.CategoryEncoding(3, sparse=True), ValueError, "CategoryEncoding.*sparse"),
    (lambda: layers.CategoryEncoding(3)(np.array([[1]]), count_weights=np.array([[1.0]])), ValueError,
     "CategoryEncoding.*count_weights"),
    (lambda: layers.IntegerLookup(max_tokens=1), ValueError, "IntegerLookup.*max_tokens"),
    (lambda: layers.IntegerLookup(num_oov_indices=-1), ValueError, "IntegerLookup.*num_oov_indices"),
    (lambda: layers.IntegerLookup(vocabulary_dtype="int32"), ValueError, "IntegerLookup.*int64"),
    (lambda: layers.IntegerLookup(invert=True, output_mode="count"), ValueError, "IntegerLookup.*invert"),
    (lambda: layers.IntegerLookup(salt=3), ValueError, "IntegerLookup.*farmhash"),
    (lambda: layers.IntegerLookup(vocabulary=[1, 2, 1]), ValueError, "IntegerLookup.*repeated"),
    (lambda: layers.IntegerLookup(vocabulary=[1, 2], mask_token=2), ValueError, "IntegerLookup.*mask token"),
    (lambda: layers.IntegerLookup(vocabulary=[1, 2]).adapt([1]), ValueError, "IntegerLookup.*fixed vocabulary"),
    (lambda: layers.IntegerLookup(vocabulary=[1, 2], num_oov_indices=0)(np.array([5])), ValueError,
     "IntegerLookup.*out-of-vocabulary"),
    (lambda: layers.StringLookup(output_mode="tf_idf", vocabulary=["a"]), ValueError, "StringLookup.*idf_weights"),
    (lambda: layers.StringLookup(output_mode="count")(np.array(["a"])), RuntimeError, "StringLookup.*vocabulary"),
    (lambda: layers.StringLookup(vocabulary=["a"])(np.array([1.0])), TypeError, "StringLookup.*string"),
    (lambda: layers.StringLookup(vocabulary=[]), ValueError, "StringLookup.*empty"),
    (lambda: layers.StringLookup(vocabulary="/no/such/file.txt"), ValueError, "StringLookup.*file"),
    (lambda: layers.StringLookup(max_tokens=2, vocabulary=["a", "b"]), ValueError, "StringLookup.*max_tokens"),
    (lambda: layers.Hashing(0), ValueError, 'Layer "hashing.*" \\(Hashing\\).*num_bins'),
    (lambda: layers.Hashing(3, salt="x"), ValueError, "Hashing.*salt"),
    (lambda: layers.Hashing(3, dtype="float32"), ValueError, "Hashing.*dtype"),
    (lambda: layers.TextVectorization(standardize="upper"), ValueError, "TextVectorization.*standardize"),
    (lambda: layers.TextVectorization(split="comma"), ValueError, "TextVectorization.*split"),
    (lambda: layers.TextVectorization(output_mode="count", output_sequence_length=3), ValueError,
     "TextVectorization.*output_sequence_length"),
    (lambda: layers.TextVectorization(ngrams="2"), ValueError, "TextVectorization.*ngrams"),
    (lambda: layers.TextVectorization(ragged=True), ValueError, "TextVectorization.*ragged"),
    (lambda: layers.TextVectorization(vocabulary=["a"])(np.array([["a b", "c"]])), ValueError,
     "TextVectorization.*rank"),
]


@pytest.mark.parametrize("index", range(len(BAD)))
def test_errors_name_the_layer(index):
    make, error, pattern = BAD[index]
    with pytest.raises(error, match=pattern):
        make()
