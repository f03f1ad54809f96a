"""Adapter for `torch.utils.data.DataLoader`, recognised by duck typing (torch is never imported here)."""

from kbridge.trainers.data_adapters import data_adapter_utils as utils
from kbridge.trainers.data_adapters.data_adapter import DataAdapter


class TorchDataLoaderAdapter(DataAdapter):
    """Reads a `torch.utils.data.DataLoader` as NumPy batches.

    Tensors are detached and moved to the CPU before conversion, so loaders yielding
    tensors that require grad or live on an accelerator work too.

    Args:
        dataloader: The data loader; each batch is `x`, `(x,)`, `(x, y)` or `(x, y, sw)`.
    """

    def __init__(self, dataloader):
        if not utils.is_torch_dataloader(dataloader):
            raise ValueError(
                "Expected argument `dataloader` to be a torch.utils.data.DataLoader. "
                f"Received: {utils.type_name(dataloader)}"
            )
        self._dataloader = dataloader
        self._batch_size = getattr(dataloader, "batch_size", None)
        self._num_batches = None
        self._partial_batch_size = None
        try:
            num_samples = len(dataloader.dataset)
            self._num_batches = len(dataloader)
        except TypeError:  # an IterableDataset without __len__
            return
        if self._batch_size and not getattr(dataloader, "drop_last", False):
            self._partial_batch_size = num_samples % self._batch_size or None

    @property
    def rank_local(self):
        """True when the loader's sampler already shards the data per process (a `DistributedSampler`)."""
        sampler = getattr(self._dataloader, "sampler", None)
        return hasattr(sampler, "num_replicas") and hasattr(sampler, "rank")

    def get_numpy_iterator(self):
        return (utils.standardize_batch(batch) for batch in self._dataloader)

    @property
    def num_batches(self):
        return self._num_batches

    @property
    def batch_size(self):
        return self._batch_size

    @property
    def has_partial_batch(self):
        if self._num_batches is None or not self._batch_size:
            return None
        return self._partial_batch_size is not None

    @property
    def partial_batch_size(self):
        return self._partial_batch_size
