"""Data adapters: every supported kind of input data as NumPy batches for the shared trainer.

`get_data_adapter` picks the adapter from the type of `x`; `EpochIterator` runs the
per-epoch step loop on top of it. Framework objects (tensors, `tf.data.Dataset`,
torch `DataLoader`) are recognised by duck typing: nothing here imports a framework.
"""

import types
import warnings

from kbridge.trainers.data_adapters import data_adapter_utils as _utils
from kbridge.trainers.data_adapters.array_data_adapter import (
    ArrayDataAdapter,
    can_convert_arrays,
    invalid_leaf_types,
    train_validation_split,
)
from kbridge.trainers.data_adapters.data_adapter import DataAdapter
from kbridge.trainers.data_adapters.data_adapter_utils import (
    class_weight_to_sample_weights,
    pack_x_y_sample_weight,
    unpack_x_y_sample_weight,
)
from kbridge.trainers.data_adapters.epoch_iterator import EpochIterator
from kbridge.trainers.data_adapters.generator_data_adapter import GeneratorDataAdapter
from kbridge.trainers.data_adapters.py_dataset import PyDataset
from kbridge.trainers.data_adapters.py_dataset_adapter import PyDatasetAdapter
from kbridge.trainers.data_adapters.tf_dataset_adapter import TFDatasetAdapter
from kbridge.trainers.data_adapters.torch_data_loader_adapter import TorchDataLoaderAdapter

_SUPPORTED = (
    "NumPy arrays or array-likes such as framework tensors (possibly nested in lists, tuples or dicts), "
    "a Python generator or iterator, a kbridge.utils.PyDataset, a tf.data.Dataset or a torch.utils.data.DataLoader"
)


def _check_self_contained(kind, y, sample_weight, batch_size):
    """Data that yields whole batches carries its own targets, weights and batch size."""
    for name, value, what in (("y", y, "the targets"), ("sample_weight", sample_weight, "the sample weights")):
        if value is not None:
            raise ValueError(
                f"When providing `x` as a {kind}, `{name}` should not be passed: {what} should be part of the "
                f"{kind}'s batches. Expected: {name}=None. Received: {name} of type {_utils.type_name(value)}"
            )
    if batch_size is not None:
        raise ValueError(
            f"Do not specify `batch_size` when `x` is a {kind}: it generates batches itself. "
            f"Expected: batch_size=None. Received: batch_size={batch_size!r}"
        )


def _warn_shuffle(shuffle, kind):
    # `shuffle=True` is fit's default, so only the explicit "batch" request is worth a warning.
    if shuffle == "batch":
        warnings.warn(
            f"`shuffle={shuffle!r}` is ignored because `x` is a {kind}, which is expected to shuffle its own data.",
            stacklevel=3,
        )


def _no_class_weight(class_weight, kind):
    if class_weight is not None:
        raise ValueError(
            f"Argument `class_weight` is not supported when `x` is a {kind}: include per-sample weights in "
            f"its batches as `(x, y, sample_weight)`. Received: class_weight={class_weight!r}"
        )


def _is_iterator(x):
    return isinstance(x, types.GeneratorType) or (hasattr(x, "__next__") and hasattr(x, "__iter__"))


def get_data_adapter(
    x,
    y=None,
    sample_weight=None,
    batch_size=None,
    steps_per_epoch=None,
    shuffle=False,
    class_weight=None,
):
    """Returns the `DataAdapter` for `x`, chosen by its type.

    Args:
        x: Input data: arrays / array-likes (nested lists, tuples, dicts), a Python generator or
            iterator, a `PyDataset`, a `tf.data.Dataset`, a torch `DataLoader`, or a `DataAdapter`
            (returned as is).
        y: Targets; only with array `x`.
        sample_weight: Per-sample weights; only with array `x`.
        batch_size: Batch size for array `x` (default 32); must be `None` for data that batches itself.
        steps_per_epoch: For arrays without `batch_size`, derives it as `ceil(n / steps_per_epoch)`;
            otherwise enforced by `EpochIterator`.
        shuffle: `True`, `False` or `"batch"` (arrays); a random batch order for a finite `PyDataset`;
            ignored, with a warning, for generators, tf.data and torch loaders.
        class_weight: Dict class index -> weight, turned into per-sample weights (arrays, `PyDataset`,
            tf.data); `y` must be a single array of class indices or one-hot rows.

    Returns:
        A `DataAdapter` whose `get_numpy_iterator()` yields NumPy batches.
    """
    if isinstance(x, DataAdapter):
        return x
    if can_convert_arrays(x):
        return ArrayDataAdapter(
            x,
            y,
            sample_weight=sample_weight,
            batch_size=batch_size,
            steps=steps_per_epoch,
            shuffle=shuffle,
            class_weight=class_weight,
        )
    if isinstance(x, PyDataset):
        kind = "PyDataset"
        _check_self_contained(kind, y, sample_weight, batch_size)
        adapter = PyDatasetAdapter(x, class_weight=class_weight, shuffle=shuffle)
        if adapter.num_batches is None:
            _warn_shuffle(shuffle, "infinite PyDataset")
        return adapter
    if _utils.is_torch_dataloader(x):
        kind = "torch DataLoader"
        _check_self_contained(kind, y, sample_weight, batch_size)
        _no_class_weight(class_weight, kind)
        _warn_shuffle(shuffle, kind)
        return TorchDataLoaderAdapter(x)
    if _utils.is_tf_dataset(x):
        kind = "tf.data.Dataset"
        _check_self_contained(kind, y, sample_weight, batch_size)
        _warn_shuffle(shuffle, kind)
        return TFDatasetAdapter(x, class_weight=class_weight)
    if _is_iterator(x):
        kind = "Python generator"
        _check_self_contained(kind, y, sample_weight, batch_size)
        _no_class_weight(class_weight, kind)
        _warn_shuffle(shuffle, kind)
        return GeneratorDataAdapter(x)
    if isinstance(x, (list, tuple, dict)):
        received = f"x of type {type(x).__name__} containing {', '.join(invalid_leaf_types(x))}"
    else:
        received = f"x of type {_utils.type_name(x)}"
    raise ValueError(f"Unrecognized data type for `x`. Expected {_SUPPORTED}. Received: {received}")


__all__ = [
    "ArrayDataAdapter",
    "DataAdapter",
    "EpochIterator",
    "GeneratorDataAdapter",
    "PyDataset",
    "PyDatasetAdapter",
    "TFDatasetAdapter",
    "TorchDataLoaderAdapter",
    "class_weight_to_sample_weights",
    "get_data_adapter",
    "pack_x_y_sample_weight",
    "train_validation_split",
    "unpack_x_y_sample_weight",
]
