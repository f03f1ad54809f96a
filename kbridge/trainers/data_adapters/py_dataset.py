"""`PyDataset`: a dataset of batches written in Python, read in parallel by `fit`.

Re-exported as `kbridge.utils.PyDataset` (Keras 3's `keras.utils.PyDataset`).
"""

import itertools
import warnings


class PyDataset:
    """Base class of datasets of whole batches, fetched in parallel by the trainer.

    Subclasses implement `__getitem__(index)` (the batch at `index`, as a tuple
    `(x,)`, `(x, y)` or `(x, y, sample_weight)`) and `__len__` (the number of batches),
    or a `num_batches` property returning `None` for an infinite dataset. They may
    override `on_epoch_begin` / `on_epoch_end` (e.g. to reshuffle their samples).

    Args:
        workers: Number of workers fetching batches in parallel during `fit`; with 1
            (and no multiprocessing) batches are fetched in the training thread.
        use_multiprocessing: Fetch in worker processes instead of threads. The dataset is
            then pickled into each worker (once per epoch), so it must be picklable and its
            class importable; scripts need an `if __name__ == "__main__":` guard.
        max_queue_size: Number of batches fetched ahead of the training loop.

    Manual iteration (`for batch in dataset`) is sequential; the parallelism only applies
    when the trainer reads the dataset.

    Example:

    ```python
    class Batches(kbridge.utils.PyDataset):
        def __init__(self, x, y, batch_size, **kwargs):
            super().__init__(**kwargs)
            self.x, self.y, self.batch_size = x, y, batch_size

        def __len__(self):
            return math.ceil(len(self.x) / self.batch_size)

        def __getitem__(self, index):
            window = slice(index * self.batch_size, (index + 1) * self.batch_size)
            return self.x[window], self.y[window]
    ```
    """

    def __init__(self, workers=1, use_multiprocessing=False, max_queue_size=10):
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 0:
            raise ValueError(f"Argument `workers` should be an integer >= 0. Received: workers={workers!r}")
        if isinstance(max_queue_size, bool) or not isinstance(max_queue_size, int) or max_queue_size < 1:
            raise ValueError(
                f"Argument `max_queue_size` should be an integer >= 1. Received: max_queue_size={max_queue_size!r}"
            )
        self._workers = workers
        self._use_multiprocessing = bool(use_multiprocessing)
        self._max_queue_size = max_queue_size

    def _check_super_init(self):
        if not hasattr(self, "_workers"):
            self._workers, self._use_multiprocessing, self._max_queue_size = 1, False, 10
            warnings.warn(
                f"{type(self).__name__} should call `super().__init__(**kwargs)` in its constructor, "
                "with `workers`, `use_multiprocessing` and `max_queue_size` among the kwargs. "
                "Using workers=1, use_multiprocessing=False, max_queue_size=10.",
                stacklevel=3,
            )

    @property
    def workers(self):
        """Number of parallel workers used by the trainer."""
        self._check_super_init()
        return self._workers

    @workers.setter
    def workers(self, value):
        self._workers = value

    @property
    def use_multiprocessing(self):
        """Whether the workers are processes (`True`) or threads."""
        self._check_super_init()
        return self._use_multiprocessing

    @use_multiprocessing.setter
    def use_multiprocessing(self, value):
        self._use_multiprocessing = value

    @property
    def max_queue_size(self):
        """Number of batches fetched ahead."""
        self._check_super_init()
        return self._max_queue_size

    @max_queue_size.setter
    def max_queue_size(self, value):
        self._max_queue_size = value

    def __getitem__(self, index):
        """Returns the batch at position `index`."""
        raise NotImplementedError(f"{type(self).__name__} must implement `__getitem__(self, index)`")

    @property
    def num_batches(self):
        """Number of batches, or `None` for an infinite dataset (defaults to `len(self)`)."""
        if hasattr(self, "__len__"):
            return len(self)
        raise NotImplementedError(
            f"{type(self).__name__} must implement `__len__` or a `num_batches` property (None when infinite)"
        )

    def __iter__(self):
        num_batches = self.num_batches
        indices = itertools.count() if num_batches is None else range(num_batches)
        for index in indices:
            yield self[index]

    def on_epoch_begin(self):
        """Called at the beginning of every epoch."""

    def on_epoch_end(self):
        """Called at the end of every epoch."""
