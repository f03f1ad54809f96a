"""`EpochIterator`: the per-epoch step loop shared by `fit`, `evaluate` and `predict`."""

import warnings

from kbridge.trainers import data_adapters
from kbridge.trainers.data_adapters.array_data_adapter import check_positive_int

_RAN_OUT = (
    "Your input ran out of data; interrupting the epoch. Make sure that your dataset or generator can "
    "generate at least `steps_per_epoch * epochs` batches. You may need to use the `.repeat()` function "
    "when building your dataset."
)


class EpochIterator:
    """Iterates over the data one epoch at a time, with Keras 3's `steps_per_epoch` rules.

    - Without `steps_per_epoch`, an epoch is one full pass over the data.
    - With `steps_per_epoch`, an epoch is that many steps, and the next epoch goes on from where
      this one stopped; a finite source is restarted once it has delivered all its batches. When
      the data runs out before `steps_per_epoch` steps, the epoch ends early with a warning
      and `ran_out_of_data` becomes `True` (the trainer may then stop training).

    Iterating (`for step, batch in epoch_iterator`) runs one epoch. With `steps_per_execution`
    above 1, each item is `(first_step, batches)`, a list of up to `steps_per_execution` batches;
    `enumerate_epoch()` yields `(begin_step, end_step, batches)` in every case.

    Args:
        x, y, sample_weight, batch_size, steps_per_epoch, shuffle, class_weight: As for
            `get_data_adapter`.
        steps_per_execution: Batches handed to each compiled step.
    """

    def __init__(
        self,
        x,
        y=None,
        sample_weight=None,
        batch_size=None,
        steps_per_epoch=None,
        shuffle=False,
        class_weight=None,
        steps_per_execution=1,
    ):
        self.steps_per_epoch = check_positive_int("steps_per_epoch", steps_per_epoch)
        self.steps_per_execution = check_positive_int("steps_per_execution", steps_per_execution)
        if self.steps_per_execution is None:
            raise ValueError("Argument `steps_per_execution` should be a positive integer. Received: None")
        self.data_adapter = data_adapters.get_data_adapter(
            x,
            y=y,
            sample_weight=sample_weight,
            batch_size=batch_size,
            steps_per_epoch=steps_per_epoch,
            shuffle=shuffle,
            class_weight=class_weight,
        )
        self._num_batches = self.data_adapter.num_batches
        self._inferred_num_batches = None
        self._iterator = None
        self._steps_seen = 0
        self.ran_out_of_data = False

    @property
    def rank_local(self):
        """Whether each process already receives its own share of the data (a torch
        `DataLoader` with a `DistributedSampler`), so multi-process training must not split it."""
        return bool(getattr(self.data_adapter, "rank_local", False))

    @property
    def num_batches(self):
        """Steps per epoch, or `None` while unknown.

        That is `steps_per_epoch`, else the data's batch count (for a source of unknown size,
        counted during the first full epoch).
        """
        return self.steps_per_epoch or self._num_batches or self._inferred_num_batches

    def reset(self):
        """Forgets the position in the data; the next epoch starts from the beginning."""
        self._close_iterator()
        self._num_batches = self.data_adapter.num_batches
        self._inferred_num_batches = None
        self._steps_seen = 0
        self.ran_out_of_data = False

    def _close_iterator(self):
        iterator, self._iterator = self._iterator, None
        if hasattr(iterator, "close"):
            iterator.close()

    def _ran_out(self):
        self.ran_out_of_data = True
        self._close_iterator()
        warnings.warn(_RAN_OUT, stacklevel=4)

    def _take(self, count):
        """Up to `count` batches; fewer (maybe none) when the data runs out."""
        batches = []
        for _ in range(count):
            try:
                batches.append(next(self._iterator))
            except StopIteration:
                return batches, True
        return batches, False

    def enumerate_epoch(self):
        """Runs one epoch, yielding `(begin_step, end_step, batches)`."""
        self.ran_out_of_data = False
        self.data_adapter.on_epoch_begin()
        try:
            yield from self._steps()
        finally:
            self.data_adapter.on_epoch_end()

    def _steps(self):
        known = self._num_batches
        total = self.steps_per_epoch or known
        if self._iterator is None or not self.steps_per_epoch:
            self._close_iterator()
            self._iterator = iter(self.data_adapter.get_numpy_iterator())
            self._steps_seen = 0
        step = 0
        while total is None or step < total:
            if known is not None and self._steps_seen >= known:
                # The source delivered all its batches: it restarts next epoch.
                if self.steps_per_epoch:
                    self._ran_out()
                break
            count = self.steps_per_execution if total is None else min(self.steps_per_execution, total - step)
            batches, exhausted = self._take(count)
            self._steps_seen += len(batches)
            if batches:
                yield step, step + len(batches) - 1, batches
                step += len(batches)
            if exhausted:
                # Exhausting a source of unknown size ends a normal epoch, unless it was empty
                # or `steps_per_epoch` asked for more.
                if self.steps_per_epoch or step == 0:
                    self._ran_out()
                else:
                    self._inferred_num_batches = self._steps_seen
                    self._close_iterator()
                break
        if known is not None and self._steps_seen >= known:
            self._close_iterator()

    def __iter__(self):
        for begin_step, _, batches in self.enumerate_epoch():
            yield (begin_step, batches[0]) if self.steps_per_execution == 1 else (begin_step, batches)
