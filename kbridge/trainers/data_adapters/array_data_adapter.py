"""Adapter for NumPy arrays and array-likes (framework tensors, DataFrames) in nested structures."""

import math

import numpy as np

from kbridge import config
from kbridge.trainers.data_adapters import data_adapter_utils as utils
from kbridge.trainers.data_adapters.data_adapter import DataAdapter
from kbridge.utils import tree

DEFAULT_BATCH_SIZE = 32


def can_convert_arrays(arrays):
    """Whether every leaf of `arrays` (nested lists/tuples/dicts) is `None` or array-like."""
    return all(leaf is None or utils.is_array_like(leaf) for leaf in tree.flatten(arrays))


def invalid_leaf_types(arrays):
    """Type names of the leaves of `arrays` that are neither `None` nor array-like."""
    return sorted({utils.type_name(leaf) for leaf in tree.flatten(arrays) if not can_convert_arrays(leaf)})


def _convert_leaf(value):
    array = utils.to_numpy(value)
    if array is None:
        return None
    if array.ndim == 0:
        raise ValueError(
            "Expected arrays of rank >= 1 (the first axis indexes samples). "
            f"Received: a scalar of type {utils.type_name(value)}"
        )
    # Keras 3 casts every float input to floatx (float64 NumPy data would otherwise
    # upcast the whole computation).
    if (array.dtype.kind == "f" or array.dtype.name == "bfloat16") and array.dtype.name != config.floatx():
        array = array.astype(config.floatx())
    return array


def _sizes(structure):
    return [int(leaf.shape[0]) for leaf in tree.flatten(structure) if leaf is not None]


def _check_cardinality(x, y, sample_weight):
    x_sizes, y_sizes, sw_sizes = _sizes(x), _sizes(y), _sizes(sample_weight)
    for name, sizes in (("x", x_sizes), ("y", y_sizes), ("sample_weight", sw_sizes)):
        if len(set(sizes)) > 1:
            raise ValueError(
                f"Data cardinality is ambiguous: all arrays of `{name}` must have the same number of samples. "
                f"Received: {name} sizes {sizes}"
            )
    if not x_sizes:
        raise ValueError("Expected `x` to contain at least one array. Received: only None")
    num_samples = x_sizes[0]
    if y_sizes and y_sizes[0] != num_samples:
        raise ValueError(
            "Data cardinality is ambiguous: `x` and `y` must have the same number of samples. "
            f"Received: x has {num_samples} samples, y has {y_sizes[0]} samples"
        )
    if sw_sizes and sw_sizes[0] != num_samples:
        raise ValueError(
            "Argument `sample_weight` must have one weight per sample of `x`. "
            f"Received: x has {num_samples} samples, sample_weight has {sw_sizes[0]}"
        )
    if num_samples == 0:
        raise ValueError("Expected `x` to contain at least one sample. Received: arrays with 0 samples")
    return num_samples


def _standardize_sample_weight(y, sample_weight):
    """Replicates a single per-sample weight array over the outputs of a nested `y`."""
    if sample_weight is None or not tree.is_nested(y):
        return sample_weight
    if tree.is_nested(sample_weight):
        if not _same_structure(y, sample_weight):
            raise ValueError(
                "Argument `sample_weight` should have one array per output in `y`, in the same structure. "
                f"Received: y with {len(tree.flatten(y))} arrays, sample_weight with "
                f"{len(tree.flatten(sample_weight))} arrays"
            )
        return sample_weight
    if not (sample_weight.ndim == 1 or (sample_weight.ndim == 2 and sample_weight.shape[1] == 1)):
        raise ValueError(
            "With several outputs in `y`, a single `sample_weight` array should hold one scalar per sample: "
            f"expected shape (num_samples,). Received: sample_weight of shape {sample_weight.shape}"
        )
    return tree.map_structure(lambda _: sample_weight, y)


def _same_structure(a, b):
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same_structure(i, j) for i, j in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return set(a) == set(b) and all(_same_structure(a[k], b[k]) for k in a)
    return not tree.is_nested(a) and not tree.is_nested(b)


def check_shuffle(shuffle):
    """Validates `shuffle`: a bool or the string "batch"."""
    if shuffle == "batch" or isinstance(shuffle, (bool, np.bool_)):
        return shuffle if shuffle == "batch" else bool(shuffle)
    raise ValueError(f'Argument `shuffle` should be a bool or "batch". Received: shuffle={shuffle!r}')


def check_positive_int(name, value):
    """Validates an optional positive integer argument (`batch_size`, `steps_per_epoch`)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"Argument `{name}` should be a positive integer or None. Received: {name}={value!r}")
    return int(value)


class ArrayDataAdapter(DataAdapter):
    """Batches in-memory arrays, optionally shuffled each epoch.

    Args:
        x: Array-like or nested list/tuple/dict of array-likes (inputs).
        y: Targets, same kinds as `x`, or `None`.
        sample_weight: Per-sample weights (one array, or one per output of `y`), or `None`.
        batch_size: Samples per batch; defaults to `ceil(n / steps)` when `steps` is given, else 32.
        steps: Optional number of batches per epoch, used only to derive `batch_size`.
        shuffle: `True` for a fresh permutation of all samples each epoch, `"batch"` to shuffle
            within each batch, `False` for the original order. Uses NumPy's global RNG.
        class_weight: Optional dict class index -> weight, turned into `sample_weight`.
    """

    def __init__(self, x, y=None, sample_weight=None, batch_size=None, steps=None, shuffle=False, class_weight=None):
        for name, value in (("x", x), ("y", y), ("sample_weight", sample_weight)):
            if not can_convert_arrays(value):
                raise ValueError(
                    f"Expected `{name}` to be NumPy arrays or array-likes (possibly nested in lists, tuples or "
                    f"dicts). Received: {name} containing {', '.join(invalid_leaf_types(value))}"
                )
        self._shuffle = check_shuffle(shuffle)
        batch_size = check_positive_int("batch_size", batch_size)
        steps = check_positive_int("steps_per_epoch", steps)
        x, y, sample_weight = (tree.map_structure(_convert_leaf, v) for v in (x, y, sample_weight))
        if class_weight is not None:
            class_weight = utils.validate_class_weight(class_weight)
            utils.check_class_weight_targets(y, sample_weight)
        num_samples = _check_cardinality(x, y, sample_weight)
        sample_weight = _standardize_sample_weight(y, sample_weight)
        if class_weight is not None:
            sample_weight = utils.class_weight_to_sample_weights(y, class_weight)
        self._inputs = utils.pack_x_y_sample_weight(x, y, sample_weight)
        self._num_samples = num_samples
        if batch_size is None:
            batch_size = math.ceil(num_samples / steps) if steps else DEFAULT_BATCH_SIZE
        self._batch_size = batch_size
        self._num_batches = math.ceil(num_samples / batch_size)
        self._partial_batch_size = num_samples % batch_size

    def get_numpy_iterator(self):
        """Returns an iterator over one epoch; a shuffled epoch draws its permutation now."""
        order = None
        if self._shuffle is True:
            order = np.random.permutation(self._num_samples)
        return self._iterate(order)

    def _iterate(self, order):
        for index in range(self._num_batches):
            start = index * self._batch_size
            stop = min(start + self._batch_size, self._num_samples)
            if order is not None:
                selection = order[start:stop]
            elif self._shuffle == "batch":
                selection = start + np.random.permutation(stop - start)
            else:
                selection = slice(start, stop)
            yield tree.map_structure(lambda a, s=selection: None if a is None else a[s], self._inputs)

    @property
    def num_samples(self):
        """Number of samples in the data."""
        return self._num_samples

    @property
    def num_batches(self):
        return self._num_batches

    @property
    def batch_size(self):
        return self._batch_size

    @property
    def has_partial_batch(self):
        return self._partial_batch_size > 0

    @property
    def partial_batch_size(self):
        return self._partial_batch_size or None


def train_validation_split(arrays, validation_split):
    """Splits arrays into training and validation parts; the last fraction is validation.

    No shuffling happens, as in Keras: shuffle the data first if its order matters.

    Args:
        arrays: Array-likes nested in lists/tuples/dicts (typically `(x, y, sample_weight)`);
            `None` leaves stay `None`. Leaves are sliced natively (tensors stay tensors).
        validation_split: Float strictly between 0 and 1.

    Returns:
        `(train_arrays, validation_arrays)` with the structure of `arrays`.
    """
    if not can_convert_arrays(arrays):
        raise ValueError(
            "Argument `validation_split` is only supported for NumPy arrays and array-likes (tensors). "
            f"Received: data containing {', '.join(invalid_leaf_types(arrays))}"
        )
    if isinstance(validation_split, bool) or not isinstance(validation_split, (int, float, np.floating)):
        raise ValueError(f"Argument `validation_split` should be a float. Received: {validation_split!r}")
    if not 0.0 < validation_split < 1.0:
        raise ValueError(
            f"Argument `validation_split` should be between 0 and 1 (exclusive). Received: {validation_split!r}"
        )
    leaves = [leaf for leaf in tree.flatten(arrays) if leaf is not None]
    if not leaves:
        return arrays, arrays
    sizes = sorted({int(_num_rows(leaf)) for leaf in leaves})
    if len(sizes) > 1:
        raise ValueError(
            "Data cardinality is ambiguous: all arrays must have the same number of samples to be split. "
            f"Received: sizes {sizes}"
        )
    num_samples = sizes[0]
    split_at = int(math.floor(num_samples * (1.0 - validation_split)))
    if split_at in (0, num_samples):
        raise ValueError(
            f"Training data contains {num_samples} samples, which is not sufficient to split it into a "
            f"validation and training set as specified by `validation_split={validation_split}`. "
            "Expected at least one sample in each part."
        )

    def part(start, stop):
        return tree.map_structure(lambda a: None if a is None else _rows(a, start, stop), arrays)

    return part(0, split_at), part(split_at, num_samples)


def _num_rows(array):
    shape = getattr(array, "shape", None)
    if shape is None:
        shape = np.shape(np.asarray(array))
    if len(shape) == 0:
        raise ValueError(f"Expected arrays of rank >= 1. Received: a scalar of type {utils.type_name(array)}")
    return shape[0]


def _rows(array, start, stop):
    try:
        return array[start:stop]
    except (TypeError, KeyError, IndexError):
        # DataFrames index columns with [], and some array-likes do not slice at all.
        return np.asarray(array)[start:stop]
