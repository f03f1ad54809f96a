"""Adapter for Python generators and iterators yielding whole batches."""

import itertools

from kbridge.trainers.data_adapters import data_adapter_utils as utils
from kbridge.trainers.data_adapters.data_adapter import DataAdapter


def _check_batch(batch):
    if isinstance(batch, list):
        raise ValueError(
            "A Python generator given as `x` must yield tuples `(x,)`, `(x, y)` or `(x, y, sample_weight)`. "
            "Received: a list (ambiguous between several inputs and `(x, y)`; yield a tuple)"
        )
    if isinstance(batch, tuple) and not 1 <= len(batch) <= 3:
        raise ValueError(
            "A Python generator given as `x` must yield tuples `(x,)`, `(x, y)` or `(x, y, sample_weight)`. "
            f"Received: a tuple of {len(batch)} elements"
        )


class GeneratorDataAdapter(DataAdapter):
    """Reads batches from a Python generator or iterator.

    The generator is consumed once across all epochs: an epoch ends when it is exhausted,
    or after `steps_per_epoch` batches (handled by `EpochIterator`), the next epoch going
    on from there. Its first batch is read eagerly to validate its format. Each batch is a
    tuple `(x,)`, `(x, y)` or `(x, y, sample_weight)` (a lone array or dict is taken as `x`);
    leaves may be NumPy arrays or framework tensors.

    Args:
        generator: The generator or iterator.
    """

    def __init__(self, generator):
        self._generator = iter(generator)
        try:
            first = next(self._generator)
        except StopIteration:
            raise ValueError(
                "A Python generator given as `x` must yield at least one batch. Received: an empty generator"
            ) from None
        _check_batch(first)
        self._peeked = [first]

    def get_numpy_iterator(self):
        return self._iterate()

    def _iterate(self):
        peeked, self._peeked = self._peeked, []
        for batch in itertools.chain(peeked, self._generator):
            _check_batch(batch)
            yield utils.standardize_batch(batch)

    @property
    def num_batches(self):
        return None

    @property
    def batch_size(self):
        return None
