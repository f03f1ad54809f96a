"""Adapter for `tf.data.Dataset`, recognised by duck typing (TensorFlow is never imported here)."""

from kbridge.trainers.data_adapters import data_adapter_utils as utils
from kbridge.trainers.data_adapters.data_adapter import DataAdapter
from kbridge.utils import tree


class TFDatasetAdapter(DataAdapter):
    """Reads a batched `tf.data.Dataset` as NumPy batches.

    Args:
        dataset: The dataset; each element is a batch `x`, `(x,)`, `(x, y)` or `(x, y, sw)`.
        class_weight: Optional dict class index -> weight applied to `(x, y)` batches.
    """

    def __init__(self, dataset, class_weight=None):
        if not utils.is_tf_dataset(dataset):
            raise ValueError(
                f"Expected argument `dataset` to be a tf.data.Dataset. Received: {utils.type_name(dataset)}"
            )
        self._dataset = dataset
        self._class_weight = None if class_weight is None else utils.validate_class_weight(class_weight)

    def _batches(self):
        if hasattr(self._dataset, "as_numpy_iterator"):
            return self._dataset.as_numpy_iterator()
        return iter(self._dataset)

    def get_numpy_iterator(self):
        return self._iterate()

    def _iterate(self):
        for batch in self._batches():
            x, y, sample_weight = utils.unpack_x_y_sample_weight(batch)
            x, y, sample_weight = (utils.structure_to_numpy(v) for v in (x, y, sample_weight))
            if self._class_weight is not None:
                utils.check_class_weight_targets(y, sample_weight)
                sample_weight = utils.class_weight_to_sample_weights(y, self._class_weight)
            yield utils.pack_x_y_sample_weight(x, y, sample_weight)

    @property
    def num_batches(self):
        cardinality = getattr(self._dataset, "cardinality", None)
        if cardinality is None:
            return None
        if callable(cardinality):
            cardinality = cardinality()
        cardinality = int(utils.to_numpy(cardinality))
        # tf.data uses -1 for infinite and -2 for unknown.
        return cardinality if cardinality >= 0 else None

    @property
    def batch_size(self):
        specs = [spec for spec in tree.flatten(self._dataset.element_spec) if spec is not None]
        shape = getattr(specs[0], "shape", None) if specs else None
        if shape is None or len(shape) == 0:
            return None
        size = shape[0]
        return None if size is None else int(size)
