"""Adapter for `PyDataset`, with ordered prefetching in a thread or process pool."""

import collections
import itertools
import multiprocessing
import pickle
from concurrent import futures

import numpy as np

from kbridge.trainers.data_adapters import data_adapter_utils as utils
from kbridge.trainers.data_adapters.array_data_adapter import check_shuffle
from kbridge.trainers.data_adapters.data_adapter import DataAdapter

# The dataset a worker process reads from, set once by the pool initializer.
_WORKER_DATASET = None


def _init_worker(dataset):
    global _WORKER_DATASET
    _WORKER_DATASET = dataset


def _worker_getitem(index):
    return _WORKER_DATASET[index]


def _process_context():
    # Forking is unsafe once JAX, torch or TF have started threads in this process.
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")


class OrderedPrefetcher:
    """Fetches `dataset[i]` for a stream of indices in a pool, `max_queue_size` ahead, in order.

    The pool starts lazily and `stop()` shuts it down (the trainer does so at each epoch
    end, so worker processes see the dataset as `on_epoch_end` left it). An iteration
    interrupted by `stop()` goes on afterwards, resubmitting the batches it lost.

    Args:
        dataset: The `PyDataset`.
        workers: Pool size.
        use_multiprocessing: Processes (the dataset is pickled into each) instead of threads.
        max_queue_size: Batches requested ahead of the consumer.
    """

    def __init__(self, dataset, workers, use_multiprocessing, max_queue_size):
        self._dataset = dataset
        self._workers = max(1, workers)
        self._use_multiprocessing = use_multiprocessing
        self._max_queue_size = max(1, max_queue_size)
        self._pool = None
        self._fetch = None
        self._generation = 0
        self._picklable = False

    @property
    def running(self):
        """Whether a pool is alive."""
        return self._pool is not None

    def _ensure_pool(self):
        if self._pool is None:
            if self._use_multiprocessing:
                self._check_picklable()
                self._pool = futures.ProcessPoolExecutor(
                    self._workers, mp_context=_process_context(), initializer=_init_worker, initargs=(self._dataset,)
                )
                self._fetch = _worker_getitem
            else:
                self._pool = futures.ThreadPoolExecutor(self._workers, thread_name_prefix="kbridge_py_dataset")
                self._fetch = self._dataset.__getitem__
            self._generation += 1
        return self._pool

    def _check_picklable(self):
        if self._picklable:
            return
        try:
            pickle.dumps(self._dataset)
        except Exception as error:
            raise ValueError(
                "A PyDataset with use_multiprocessing=True is pickled into its worker processes: it must be "
                "picklable and its class defined at the top level of an importable module (or of a script "
                "guarded by `if __name__ == \"__main__\":`). Use threads (use_multiprocessing=False) otherwise. "
                f"Received: {type(self._dataset).__qualname__}, which fails to pickle: {error}"
            ) from error
        self._picklable = True

    def stop(self, wait=True):
        """Shuts the pool down, cancelling batches not started yet."""
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=wait, cancel_futures=True)

    def iterate(self, indices):
        """Yields `dataset[i]` for each `i` in `indices`, in order."""
        indices = iter(indices)
        pending = collections.deque()
        generation = None
        exhausted = False
        try:
            while True:
                pool = self._ensure_pool()
                if generation != self._generation:
                    generation = self._generation
                    pending = collections.deque(
                        (i, f if f.done() and not f.cancelled() else pool.submit(self._fetch, i)) for i, f in pending
                    )
                while not exhausted and len(pending) < self._max_queue_size:
                    index = next(indices, None)
                    if index is None:
                        exhausted = True
                    else:
                        pending.append((index, pool.submit(self._fetch, index)))
                if not pending:
                    return
                _, future = pending.popleft()
                yield future.result()
        finally:
            for _, future in pending:
                future.cancel()


class PyDatasetAdapter(DataAdapter):
    """Reads a `PyDataset`, in parallel when it asks for workers.

    Args:
        x: The `PyDataset`.
        class_weight: Optional dict class index -> weight applied to `(x, y)` batches.
        shuffle: Visit the batches in a random order each epoch (finite datasets only;
            NumPy's global RNG). `"batch"` counts as `True`.
    """

    def __init__(self, x, class_weight=None, shuffle=False):
        self._dataset = x
        self._class_weight = None if class_weight is None else utils.validate_class_weight(class_weight)
        self._shuffle = bool(check_shuffle(shuffle))
        num_batches = self.num_batches
        if num_batches is not None and (not isinstance(num_batches, (int, np.integer)) or num_batches < 1):
            raise ValueError(
                f"Expected the PyDataset `x` ({utils.type_name(x)}) to have at least one batch, "
                f"or num_batches=None if infinite. Received: num_batches={num_batches!r}"
            )
        workers, use_multiprocessing = x.workers, x.use_multiprocessing
        self._prefetcher = None
        if workers > 1 or (workers > 0 and use_multiprocessing):
            self._prefetcher = OrderedPrefetcher(x, workers, use_multiprocessing, x.max_queue_size)
        # Infinite datasets resume where the previous epoch stopped.
        self._next_index = 0

    def _indices(self, num_batches):
        if num_batches is None:
            return itertools.count(self._next_index)
        if self._shuffle:
            return [int(i) for i in np.random.permutation(num_batches)]
        return range(num_batches)

    def get_numpy_iterator(self):
        """Returns an iterator over one epoch; a shuffled epoch draws its order now."""
        num_batches = self.num_batches
        return self._iterate(self._indices(num_batches), infinite=num_batches is None)

    def _iterate(self, indices, infinite):
        if self._prefetcher is None:
            source = (self._dataset[index] for index in indices)
        else:
            source = self._prefetcher.iterate(indices)
        for batch in source:
            if infinite:
                self._next_index += 1
            yield self._standardize(batch)

    def _standardize(self, batch):
        if isinstance(batch, list):
            batch = tuple(batch)
        elif isinstance(batch, dict) or (not isinstance(batch, tuple) and utils.is_array_like(batch)):
            batch = (batch,)
        if not isinstance(batch, tuple) or not 1 <= len(batch) <= 3:
            what = f"a tuple of {len(batch)} elements" if isinstance(batch, tuple) else utils.type_name(batch)
            raise ValueError(
                f"{type(self._dataset).__name__}.__getitem__ must return `(x,)`, `(x, y)` or "
                f"`(x, y, sample_weight)` (or a lone array or dict as x). Received: {what}"
            )
        x, y, sample_weight = utils.unpack_x_y_sample_weight(batch)
        x, y, sample_weight = (utils.structure_to_numpy(v) for v in (x, y, sample_weight))
        if self._class_weight is not None:
            utils.check_class_weight_targets(y, sample_weight)
            sample_weight = utils.class_weight_to_sample_weights(y, self._class_weight)
        return utils.pack_x_y_sample_weight(x, y, sample_weight)

    def on_epoch_begin(self):
        self._dataset.on_epoch_begin()

    def on_epoch_end(self):
        # Stop the workers first: threads must not read while on_epoch_end mutates the
        # dataset, and worker processes hold a copy that is stale afterwards.
        if self._prefetcher is not None:
            self._prefetcher.stop()
        self._dataset.on_epoch_end()

    def close(self):
        """Shuts down the worker pool, if any (it restarts on the next iteration)."""
        if self._prefetcher is not None:
            self._prefetcher.stop()

    def __del__(self):
        prefetcher = getattr(self, "_prefetcher", None)
        if prefetcher is not None:
            prefetcher.stop(wait=False)

    @property
    def num_batches(self):
        try:
            return self._dataset.num_batches
        except NotImplementedError as error:
            raise ValueError(str(error)) from None

    @property
    def batch_size(self):
        return None
