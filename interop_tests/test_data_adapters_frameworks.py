"""Data adapters fed with real framework objects: tf.data, torch DataLoader, jax/torch/tf tensors."""

import warnings

import numpy as np
import pytest

from kbridge.trainers.data_adapters import (
    ArrayDataAdapter,
    EpochIterator,
    GeneratorDataAdapter,
    TFDatasetAdapter,
    TorchDataLoaderAdapter,
    get_data_adapter,
    train_validation_split,
)

X = np.arange(20, dtype="float32").reshape(10, 2)
Y = np.array([0, 1, 2, 0, 1, 2, 0, 1, 2, 0])


def _numpy_leaves(batch):
    if isinstance(batch, (tuple, list)):
        return [leaf for item in batch for leaf in _numpy_leaves(item)]
    if isinstance(batch, dict):
        return [leaf for item in batch.values() for leaf in _numpy_leaves(item)]
    return [batch]


def _assert_xy_batches(batches, sizes=(4, 4, 2)):
    assert [b[0].shape[0] for b in batches] == list(sizes)
    assert all(type(leaf) is np.ndarray for b in batches for leaf in _numpy_leaves(b))
    np.testing.assert_array_equal(np.concatenate([b[0] for b in batches]), X)
    np.testing.assert_array_equal(np.concatenate([b[1] for b in batches]), Y)


# -- tf.data -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tf():
    return pytest.importorskip("tensorflow")


def test_tf_dataset_yields_numpy_batches(tf):
    dataset = tf.data.Dataset.from_tensor_slices((X, Y)).batch(4)
    adapter = get_data_adapter(dataset)
    assert isinstance(adapter, TFDatasetAdapter)
    assert (adapter.num_batches, adapter.batch_size) == (3, None)  # batch dim unknown without drop_remainder
    batches = list(adapter.get_numpy_iterator())
    _assert_xy_batches(batches)
    assert isinstance(batches[0], tuple) and batches[0][1].dtype == Y.dtype
    fixed = get_data_adapter(tf.data.Dataset.from_tensor_slices(X).batch(4, drop_remainder=True))
    assert (fixed.num_batches, fixed.batch_size) == (2, 4)
    assert isinstance(next(iter(fixed.get_numpy_iterator())), np.ndarray)  # x alone stays bare


def test_tf_dataset_dict_features_class_weight_and_infinite(tf):
    dataset = tf.data.Dataset.from_tensor_slices(({"a": X, "b": Y}, Y)).batch(5)
    batches = list(get_data_adapter(dataset, class_weight={1: 3.0}).get_numpy_iterator())
    x, y, sw = batches[0]
    np.testing.assert_array_equal(x["b"], Y[:5])
    np.testing.assert_allclose(sw, np.where(Y[:5] == 1, 3.0, 1.0))
    infinite = tf.data.Dataset.from_tensor_slices((X, Y)).batch(4).repeat()
    iterator = EpochIterator(infinite, steps_per_epoch=4)
    assert iterator.data_adapter.num_batches is None
    firsts = [[float(b[0][0, 0]) for _, b in iterator] for _ in range(2)]
    assert firsts == [[0.0, 8.0, 16.0, 0.0], [8.0, 16.0, 0.0, 8.0]]
    # Unknown cardinality: counted during the first epoch, and every epoch is a full pass.
    filtered = tf.data.Dataset.from_tensor_slices((X, Y)).filter(lambda x, y: y >= 0).batch(4)
    iterator = EpochIterator(filtered)
    assert iterator.num_batches is None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert [len(list(iterator)) for _ in range(2)] == [3, 3]
    assert iterator.num_batches == 3
    with pytest.raises(ValueError, match="`y` should not be passed"):
        get_data_adapter(dataset, y=Y)
    with pytest.raises(ValueError, match="`batch_size`"):
        get_data_adapter(dataset, batch_size=4)


# -- torch ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


def test_torch_dataloader_yields_numpy_batches(torch):
    from torch.utils.data import DataLoader, TensorDataset

    loader = DataLoader(TensorDataset(torch.from_numpy(X), torch.from_numpy(Y)), batch_size=4)
    adapter = get_data_adapter(loader)
    assert isinstance(adapter, TorchDataLoaderAdapter)
    assert (adapter.num_batches, adapter.batch_size, adapter.partial_batch_size) == (3, 4, 2)
    assert adapter.has_partial_batch
    batches = list(adapter.get_numpy_iterator())
    _assert_xy_batches(batches)
    assert isinstance(batches[0], tuple) and len(batches[0]) == 2  # torch collates tuples into lists
    epoch = [b for _, b in EpochIterator(loader)]
    _assert_xy_batches(epoch)
    with pytest.raises(ValueError, match="`class_weight` is not supported.*torch DataLoader"):
        get_data_adapter(loader, class_weight={0: 1.0})


def test_torch_tensors_as_arrays_including_requires_grad(torch):
    x = torch.from_numpy(X).requires_grad_(True)
    batches = list(get_data_adapter(x, torch.from_numpy(Y), batch_size=4).get_numpy_iterator())
    _assert_xy_batches(batches)
    assert batches[0][1].dtype == np.int64
    # validation_split slices natively: tensors stay tensors.
    (tx, ty), (vx, vy) = train_validation_split((x, torch.from_numpy(Y)), 0.2)
    assert isinstance(vx, torch.Tensor) and tuple(vx.shape) == (2, 2)
    np.testing.assert_array_equal(vy.numpy(), Y[8:])


def test_generator_of_torch_tensors(torch):
    def generator():
        for start in range(0, 10, 4):
            yield torch.from_numpy(X[start : start + 4]), torch.from_numpy(Y[start : start + 4])

    adapter = get_data_adapter(generator())
    assert isinstance(adapter, GeneratorDataAdapter)
    _assert_xy_batches(list(adapter.get_numpy_iterator()))


# -- jax and tf tensors as arrays ----------------------------------------------------------------


def test_jax_arrays_as_x_and_y():
    jnp = pytest.importorskip("jax.numpy")
    adapter = get_data_adapter({"features": jnp.asarray(X)}, jnp.asarray(Y), batch_size=4, class_weight={2: 0.5})
    assert isinstance(adapter, ArrayDataAdapter)
    batches = list(adapter.get_numpy_iterator())
    assert all(type(leaf) is np.ndarray for b in batches for leaf in _numpy_leaves(b))
    np.testing.assert_array_equal(np.concatenate([b[0]["features"] for b in batches]), X)
    np.testing.assert_allclose(np.concatenate([b[2] for b in batches]), np.where(Y == 2, 0.5, 1.0))


def test_tf_tensors_as_x_and_y(tf):
    x64 = tf.constant(X.astype("float64"))
    batches = list(get_data_adapter(x64, tf.constant(Y), batch_size=4).get_numpy_iterator())
    _assert_xy_batches(batches)
    assert batches[0][0].dtype == np.float32  # floats are cast to floatx, as in Keras
    with pytest.raises(ValueError, match="x has 10 samples, y has 9 samples"):
        get_data_adapter(x64, tf.constant(Y[:9]))
