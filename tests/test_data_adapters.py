"""Data adapters and EpochIterator: arrays, generators, PyDataset (no framework needed)."""

import os
import subprocess
import sys
import threading
import warnings

import numpy as np
import pytest

from kbridge.trainers.data_adapters import (
    ArrayDataAdapter,
    EpochIterator,
    GeneratorDataAdapter,
    PyDataset,
    PyDatasetAdapter,
    get_data_adapter,
    pack_x_y_sample_weight,
    train_validation_split,
    unpack_x_y_sample_weight,
)


def _batches(adapter):
    return list(adapter.get_numpy_iterator())


def _epoch(epoch_iterator):
    return [(step, batch) for step, batch in epoch_iterator]


# -- arrays --------------------------------------------------------------------------------------


def test_single_array_batches_with_partial_batch():
    x = np.arange(20, dtype="float64").reshape(10, 2)
    adapter = get_data_adapter(x, batch_size=4)
    assert isinstance(adapter, ArrayDataAdapter)
    assert (adapter.num_batches, adapter.batch_size) == (3, 4)
    assert adapter.has_partial_batch and adapter.partial_batch_size == 2
    batches = _batches(adapter)
    # x alone is yielded bare (not wrapped in a tuple), floats cast to floatx.
    assert all(isinstance(b, np.ndarray) and b.dtype == np.float32 for b in batches)
    assert [b.shape[0] for b in batches] == [4, 4, 2]
    np.testing.assert_array_equal(np.concatenate(batches), x.astype("float32"))


def test_full_batches_and_defaults():
    adapter = get_data_adapter(np.zeros((8, 1)), np.zeros(8, "int64"), batch_size=4)
    assert not adapter.has_partial_batch and adapter.partial_batch_size is None
    assert get_data_adapter(np.zeros((70, 1))).batch_size == 32
    # Without batch_size, steps_per_epoch derives it: ceil(10 / 3) = 4.
    derived = get_data_adapter(np.zeros((10, 1)), steps_per_epoch=3)
    assert (derived.batch_size, derived.num_batches) == (4, 3)


def test_x_y_sample_weight_packing_and_int_dtype_kept():
    x, y, sw = np.arange(6.0).reshape(6, 1), np.arange(6), np.linspace(0, 1, 6)
    xy = _batches(get_data_adapter(x, y, batch_size=4))
    assert isinstance(xy[0], tuple) and len(xy[0]) == 2
    np.testing.assert_array_equal(xy[1][1], [4, 5])
    assert xy[0][1].dtype == y.dtype
    xyw = _batches(get_data_adapter(x, y, sample_weight=sw, batch_size=4))
    assert len(xyw[0]) == 3
    np.testing.assert_allclose(xyw[1][2], sw[4:].astype("float32"))


def test_nested_dict_and_list_structures():
    x = {"image": np.ones((5, 2, 2)), "id": np.arange(5)}
    y = [np.arange(5), np.arange(5) * 10.0]
    batch = _batches(get_data_adapter(x, y, batch_size=3))[1]
    bx, by = batch
    assert set(bx) == {"image", "id"} and bx["image"].shape == (2, 2, 2)
    np.testing.assert_array_equal(bx["id"], [3, 4])
    assert isinstance(by, list) and len(by) == 2
    np.testing.assert_array_equal(by[1], [30.0, 40.0])


def test_list_x_alone_is_wrapped_to_stay_unambiguous():
    batch = _batches(get_data_adapter([np.ones((3, 1)), np.zeros((3, 2))], batch_size=3))[0]
    assert isinstance(batch, tuple) and len(batch) == 1 and len(batch[0]) == 2
    x, y, sw = unpack_x_y_sample_weight(batch)
    assert y is None and sw is None and isinstance(x, list)


def test_array_like_with___array___is_accepted():
    class ArrayLike:
        def __array__(self, dtype=None, copy=None):
            return np.arange(6).reshape(3, 2)

    batch = _batches(get_data_adapter(ArrayLike(), batch_size=2))[0]
    np.testing.assert_array_equal(batch, [[0, 1], [2, 3]])


def test_single_sample_weight_is_replicated_over_outputs():
    y = {"a": np.zeros(4), "b": np.ones(4)}
    sw = np.array([1.0, 2.0, 3.0, 4.0])
    _, _, bsw = _batches(get_data_adapter(np.zeros((4, 1)), y, sample_weight=sw, batch_size=4))[0]
    assert set(bsw) == {"a", "b"}
    np.testing.assert_array_equal(bsw["b"], sw)


def test_shuffle_is_a_fresh_permutation_each_epoch_and_seeded():
    x = np.arange(12)

    def epoch_orders(seed):
        np.random.seed(seed)
        adapter = get_data_adapter(x, batch_size=5, shuffle=True)
        return [np.concatenate(_batches(adapter)) for _ in range(2)]

    first, second = epoch_orders(0)
    for order in (first, second):
        assert sorted(order) == list(range(12)) and not np.array_equal(order, x)
    assert not np.array_equal(first, second)
    again = epoch_orders(0)
    np.testing.assert_array_equal(again[0], first)
    np.testing.assert_array_equal(again[1], second)
    # x, y and sample_weight stay aligned after shuffling.
    bx, by = _batches(get_data_adapter(x, x * 10, batch_size=5, shuffle=True))[0]
    np.testing.assert_array_equal(by, bx * 10)


def test_batch_shuffle_only_permutes_within_batches():
    np.random.seed(1)
    batches = _batches(get_data_adapter(np.arange(10), batch_size=4, shuffle="batch"))
    assert [sorted(b) for b in batches] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert any(list(b) != sorted(b) for b in batches)


@pytest.mark.parametrize(
    "y",
    [np.array([0, 1, 2, 1]), np.array([[0], [1], [2], [1]]), np.eye(3)[[0, 1, 2, 1]]],
    ids=["int", "column", "one_hot"],
)
def test_class_weight_becomes_sample_weight(y):
    batch = _batches(get_data_adapter(np.zeros((4, 1)), y, batch_size=4, class_weight={1: 5.0, 2: 0.5}))[0]
    assert len(batch) == 3
    np.testing.assert_allclose(batch[2], [1.0, 5.0, 0.5, 5.0])  # class 0 is missing: weight 1
    assert batch[2].dtype == np.float32


def test_train_validation_split_takes_the_last_fraction():
    x, y = np.arange(10), np.arange(10) * 2
    (tx, ty, tsw), (vx, vy, vsw) = train_validation_split((x, y, None), validation_split=0.2)
    np.testing.assert_array_equal(tx, np.arange(8))
    np.testing.assert_array_equal(vy, [16, 18])
    assert tsw is None and vsw is None
    (tdict,), (vdict,) = train_validation_split(({"a": x},), 0.5)
    np.testing.assert_array_equal(vdict["a"], [5, 6, 7, 8, 9])


# -- generators ----------------------------------------------------------------------------------


def _counting_generator(count=None, size=2):
    index = 0
    while count is None or index < count:
        yield np.full((size, 1), index, dtype="float32"), np.full((size,), index)
        index += 1


def test_generator_batches_are_numpy_and_repacked():
    adapter = get_data_adapter(_counting_generator(3))
    assert isinstance(adapter, GeneratorDataAdapter) and adapter.num_batches is None and adapter.batch_size is None
    batches = _batches(adapter)
    assert [int(b[1][0]) for b in batches] == [0, 1, 2]  # the peeked first batch is not lost
    single = _batches(get_data_adapter(iter([(np.ones(2),), (np.zeros(2),)])))
    assert isinstance(single[0], np.ndarray)  # (x,) comes back as x alone


def test_finite_generator_without_steps_is_one_epoch_then_warns():
    iterator = EpochIterator(_counting_generator(3))
    assert iterator.num_batches is None
    assert [step for step, _ in _epoch(iterator)] == [0, 1, 2]
    assert iterator.num_batches == 3 and not iterator.ran_out_of_data
    with pytest.warns(UserWarning, match="ran out of data"):
        assert _epoch(iterator) == []
    assert iterator.ran_out_of_data


def test_infinite_generator_with_steps_per_epoch_continues_across_epochs():
    iterator = EpochIterator(_counting_generator(), steps_per_epoch=3)
    assert iterator.num_batches == 3
    seen = []
    for _ in range(2):
        epoch = _epoch(iterator)
        assert [step for step, _ in epoch] == [0, 1, 2]
        seen += [int(batch[1][0]) for _, batch in epoch]
    assert seen == [0, 1, 2, 3, 4, 5]


def test_generator_running_out_before_steps_per_epoch_warns_and_stops():
    iterator = EpochIterator(_counting_generator(5), steps_per_epoch=3)
    assert len(_epoch(iterator)) == 3
    with pytest.warns(UserWarning, match="steps_per_epoch \\* epochs"):
        assert len(_epoch(iterator)) == 2
    assert iterator.ran_out_of_data


def test_epoch_iterator_steps_per_epoch_on_arrays_follows_keras():
    # 4 batches, 3 steps per epoch: the second epoch finishes the data (1 step, with a
    # warning) and the third restarts it, as in Keras 3.
    iterator = EpochIterator(np.arange(8), batch_size=2, steps_per_epoch=3)
    first = [int(b[0]) for _, b in _epoch(iterator)]
    with pytest.warns(UserWarning, match="ran out of data"):
        second = [int(b[0]) for _, b in _epoch(iterator)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        third = [int(b[0]) for _, b in _epoch(iterator)]
    assert (first, second, third) == ([0, 2, 4], [6], [0, 2, 4])
    with pytest.warns(UserWarning, match="ran out of data"):
        assert len(_epoch(iterator)) == 1
    iterator.reset()
    assert [int(b[0]) for _, b in _epoch(iterator)] == [0, 2, 4]


def test_epoch_iterator_steps_per_execution_groups_batches():
    iterator = EpochIterator(np.arange(10), batch_size=2, steps_per_execution=2)
    groups = list(iterator.enumerate_epoch())
    assert [(begin, end, len(batches)) for begin, end, batches in groups] == [(0, 1, 2), (2, 3, 2), (4, 4, 1)]
    steps = [(step, len(batches)) for step, batches in iterator]
    assert steps == [(0, 2), (2, 2), (4, 1)]
    np.testing.assert_array_equal(groups[2][2][0], [8, 9])
    # A plain epoch is repeatable and yields single batches.
    plain = EpochIterator(np.arange(10), batch_size=4)
    assert [len(b) for _, b in _epoch(plain)] == [4, 4, 2] == [len(b) for _, b in _epoch(plain)]


# -- PyDataset -----------------------------------------------------------------------------------


class RangeDataset(PyDataset):
    """Batch i holds samples [i * size, (i + 1) * size); records thread names and pids."""

    def __init__(self, count=4, size=2, offset=0, **kwargs):
        super().__init__(**kwargs)
        self.count, self.size, self.offset = count, size, offset
        self.threads = []
        self.events = []

    def __len__(self):
        return self.count

    def __getitem__(self, index):
        if not 0 <= index < self.count:
            raise IndexError(index)
        self.threads.append(threading.current_thread().name)
        x = np.arange(index * self.size, (index + 1) * self.size) + self.offset
        return x.astype("float32").reshape(-1, 1), x % 3, np.full((self.size,), os.getpid())

    def on_epoch_begin(self):
        self.events.append("begin")

    def on_epoch_end(self):
        self.events.append("end")
        self.offset += 1000


def _first_values(batches):
    return [int(b[0][0, 0]) for b in batches]


def test_py_dataset_sequential_and_epoch_hooks():
    dataset = RangeDataset()
    iterator = EpochIterator(dataset)
    assert isinstance(iterator.data_adapter, PyDatasetAdapter) and iterator.num_batches == 4
    assert _first_values(b for _, b in _epoch(iterator)) == [0, 2, 4, 6]
    assert dataset.events == ["begin", "end"]
    assert _first_values(b for _, b in _epoch(iterator)) == [1000, 1002, 1004, 1006]
    assert set(dataset.threads) == {threading.current_thread().name}


def test_py_dataset_with_two_worker_threads_keeps_order():
    dataset = RangeDataset(count=6, workers=2, max_queue_size=3)
    iterator = EpochIterator(dataset)
    assert _first_values(b for _, b in _epoch(iterator)) == [0, 2, 4, 6, 8, 10]
    assert dataset.threads and all(name.startswith("kbridge_py_dataset") for name in dataset.threads)
    # The pool is stopped at the epoch end, before on_epoch_end mutates the dataset.
    assert not iterator.data_adapter._prefetcher.running
    assert _first_values(b for _, b in _epoch(iterator)) == [1000, 1002, 1004, 1006, 1008, 1010]


def test_py_dataset_with_multiprocessing_uses_worker_processes():
    dataset = RangeDataset(count=3, workers=2, use_multiprocessing=True, max_queue_size=2)
    iterator = EpochIterator(dataset)
    batches = [b for _, b in _epoch(iterator)]
    assert _first_values(batches) == [0, 2, 4]
    pids = {int(b[2][0]) for b in batches}
    assert os.getpid() not in pids
    # Workers get the dataset as on_epoch_end left it (it is re-sent every epoch).
    assert _first_values(b for _, b in _epoch(iterator)) == [1000, 1002, 1004]


def test_py_dataset_shuffle_class_weight_and_errors_from_workers():
    class Pairs(RangeDataset):
        def __getitem__(self, index):
            return super().__getitem__(index)[:2]

    np.random.seed(3)
    adapter = get_data_adapter(Pairs(count=6), shuffle=True, class_weight={0: 0.0, 2: 2.0})
    batches = _batches(adapter)
    firsts = _first_values(batches)
    assert sorted(firsts) == [0, 2, 4, 6, 8, 10] and firsts != sorted(firsts)
    for batch in batches:
        assert len(batch) == 3
        np.testing.assert_array_equal(batch[2], np.array([0.0, 1.0, 2.0])[batch[1]])

    class Broken(RangeDataset):
        def __getitem__(self, index):
            if index == 2:
                raise RuntimeError("bad batch 2")
            return super().__getitem__(index)

    with pytest.raises(RuntimeError, match="bad batch 2"):
        _epoch(EpochIterator(Broken(workers=2)))


def test_infinite_py_dataset_resumes_with_steps_per_epoch():
    class Endless(PyDataset):
        num_batches = None

        def __getitem__(self, index):
            return (np.array([[index]]),)

    iterator = EpochIterator(Endless(workers=2), steps_per_epoch=2)
    assert [int(b[0, 0]) for _, b in _epoch(iterator)] == [0, 1]
    assert [int(b[0, 0]) for _, b in _epoch(iterator)] == [2, 3]


def test_py_dataset_without_super_init_warns():
    class NoInit(PyDataset):
        def __init__(self):
            pass

        def __len__(self):
            return 1

        def __getitem__(self, index):
            return np.ones((1, 1)), np.ones(1)

    with pytest.warns(UserWarning, match="super\\(\\).__init__"):
        adapter = get_data_adapter(NoInit())
    assert len(_batches(adapter)) == 1


# -- helpers and errors --------------------------------------------------------------------------


def test_pack_and_unpack():
    x = np.ones(2)
    assert pack_x_y_sample_weight(x) is x
    assert pack_x_y_sample_weight([x]) == ([x],)
    assert unpack_x_y_sample_weight((x,)) == (x, None, None)
    assert unpack_x_y_sample_weight([x, 1]) == (x, 1, None)
    assert unpack_x_y_sample_weight((x, 1, 2)) == (x, 1, 2)
    with pytest.raises(ValueError, match="Received: a tuple of 4 elements"):
        unpack_x_y_sample_weight((x, 1, 2, 3))


def test_custom_data_adapter_is_returned_as_is():
    adapter = ArrayDataAdapter(np.ones((2, 1)))
    assert get_data_adapter(adapter) is adapter


ERRORS = [
    (lambda: get_data_adapter(np.ones((10, 1)), np.ones(8)), "x has 10 samples, y has 8 samples"),
    (lambda: get_data_adapter([np.ones(10), np.ones(9)]), r"x sizes \[10, 9\]"),
    (lambda: get_data_adapter(np.ones(10), np.ones(10), sample_weight=np.ones(7)), "sample_weight has 7"),
    (lambda: get_data_adapter("some text"), "Unrecognized data type for `x`.*Received: x of type str"),
    (lambda: get_data_adapter({"a": np.ones(2), "b": 3}), "x of type dict containing int"),
    (lambda: get_data_adapter(np.ones(3), [0, 1, 2]), "Expected `y` to be NumPy arrays.*containing int"),
    (lambda: get_data_adapter(_counting_generator(2), batch_size=8), "`batch_size`.*Received: batch_size=8"),
    (lambda: get_data_adapter(RangeDataset(), batch_size=2), "`batch_size`.*PyDataset"),
    (lambda: get_data_adapter(_counting_generator(2), y=np.ones(2)), "`y` should not be passed"),
    (lambda: get_data_adapter(_counting_generator(2), class_weight={0: 1.0}), "`class_weight` is not supported"),
    (lambda: get_data_adapter(RangeDataset(), sample_weight=np.ones(2)), "`sample_weight` should not be passed"),
    (
        lambda: get_data_adapter(np.ones((2, 1)), [np.zeros(2), np.zeros(2)], class_weight={0: 2.0}),
        "single output.*with 2 arrays",
    ),
    (
        lambda: get_data_adapter(np.ones((2, 1)), np.zeros(2), sample_weight=np.ones(2), class_weight={0: 2.0}),
        "both `class_weight` and `sample_weight`",
    ),
    (lambda: get_data_adapter(np.ones(2), np.zeros(2), class_weight=[1.0, 2.0]), "should be a dict.*list"),
    (lambda: get_data_adapter(np.ones(2), np.zeros(2), class_weight={"a": 1.0}), "integer class indices"),
    (lambda: get_data_adapter(np.ones(2), np.zeros((2, 2, 2)), class_weight={0: 1.0}), r"y of shape \(2, 2, 2\)"),
    (lambda: get_data_adapter(np.ones(2), shuffle="yes"), "`shuffle`.*Received: shuffle='yes'"),
    (lambda: get_data_adapter(np.ones(2), batch_size=0), "`batch_size`.*Received: batch_size=0"),
    (lambda: get_data_adapter(np.float32(1.0)), "rank >= 1"),
    (lambda: get_data_adapter(np.ones((0, 2))), "0 samples"),
    (lambda: get_data_adapter(iter([])), "empty generator"),
    (lambda: get_data_adapter(iter([[np.ones(1), np.ones(1)]])), "Received: a list"),
    (lambda: _batches(get_data_adapter(iter([(np.ones(1),)] * 2 + [(1, 2, 3, 4)]))), "a tuple of 4 elements"),
    (lambda: train_validation_split((_counting_generator(2), None), 0.2), "`validation_split`.*generator"),
    (lambda: train_validation_split((np.ones(10),), 1.5), "between 0 and 1.*1.5"),
    (lambda: train_validation_split((np.ones(3),), 0.9), "3 samples, which is not sufficient"),
    (lambda: EpochIterator(np.ones(2), steps_per_execution=0), "`steps_per_execution`"),
    (lambda: RangeDataset(workers=-1), "`workers`.*Received: workers=-1"),
]


@pytest.mark.parametrize("make, message", ERRORS, ids=[f"error{i}" for i in range(len(ERRORS))])
def test_errors_name_argument_expected_and_received(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_py_dataset_bad_batch_and_empty_dataset():
    class Bad(RangeDataset):
        def __getitem__(self, index):
            return "not a batch"

    with pytest.raises(ValueError, match="must return.*Received: str"):
        _batches(get_data_adapter(Bad()))
    with pytest.raises(ValueError, match="at least one batch.*num_batches=0"):
        get_data_adapter(RangeDataset(count=0))

    class NoLength(PyDataset):
        def __getitem__(self, index):
            return np.ones((1, 1))

    with pytest.raises(ValueError, match="must implement `__len__` or a `num_batches` property"):
        get_data_adapter(NoLength())

    class Local(RangeDataset):
        pass

    # Checked before any process starts: the class is not importable by worker processes.
    with pytest.raises(ValueError, match="use_multiprocessing=True.*must be picklable.*Local"):
        _batches(get_data_adapter(Local(workers=2, use_multiprocessing=True)))


def test_ignored_shuffle_warns_only_when_asked_for_explicitly():
    # shuffle=True is fit's default: data that shuffles itself takes it silently, as in Keras 3.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        get_data_adapter(_counting_generator(1), shuffle=True)
    with pytest.warns(UserWarning, match="`shuffle='batch'` is ignored.*Python generator"):
        get_data_adapter(_counting_generator(1), shuffle="batch")

    class Endless(PyDataset):
        num_batches = None

    with pytest.warns(UserWarning, match="`shuffle='batch'` is ignored.*infinite PyDataset"):
        get_data_adapter(Endless(), shuffle="batch")


def test_importing_data_adapters_loads_no_framework():
    code = (
        "import sys, kbridge.trainers.data_adapters\n"
        "print(sorted(m for m in sys.modules if m.partition('.')[0] in ('torch', 'jax', 'tensorflow')))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
