"""The `DataAdapter` interface: one way to iterate over every kind of input data."""


class DataAdapter:
    """Base class of input data adapters.

    An adapter turns user data (arrays, generators, `PyDataset`, `tf.data.Dataset`,
    torch `DataLoader`) into batches of nested NumPy arrays packed as `x`, `(x, y)` or
    `(x, y, sample_weight)`. Each framework's trainer converts those batches to its
    own tensors, so the core stays framework-free.
    """

    def get_numpy_iterator(self):
        """Returns an iterator over one epoch of batches as nested NumPy structures."""
        raise NotImplementedError

    @property
    def num_batches(self):
        """Number of batches per epoch, or `None` if unknown (generators, infinite data)."""
        raise NotImplementedError

    @property
    def batch_size(self):
        """Size of a full batch, or `None` if unknown."""
        raise NotImplementedError

    @property
    def has_partial_batch(self):
        """Whether the last batch is smaller than `batch_size` (`None` if unknown)."""
        return None

    @property
    def partial_batch_size(self):
        """Size of the last, partial batch; `None` if there is none or it is unknown."""
        return None

    def on_epoch_begin(self):
        """Hook called before each epoch."""

    def on_epoch_end(self):
        """Hook called after each epoch."""
