"""Turns what `adapt()` accepts into a stream of NumPy batches."""

import itertools

from kbridge.layers.preprocessing._categorical import host_array, layer_error


def iter_batches(layer, data, batch_size=None, steps=None):
    """Yields the batches of `data` as NumPy arrays.

    `data` is an array, a tensor of any backend, a list of values, a list of arrays, or any
    other iterable of batches (a batch may be an `(x, y)` tuple; `x` is used). An array is one
    batch, or is split into `batch_size` rows. `steps` caps the number of batches.
    """
    if data is None:
        raise layer_error(layer, "adapt() expects data: an array, a list or an iterable of batches. Received: None")
    if isinstance(data, (str, bytes)):
        data = [data]
    if isinstance(data, (list, tuple)) and data and all(_is_batch(x) for x in data):
        batches = iter(data)
    elif isinstance(data, (list, tuple)) or _is_array(data):
        array = host_array(data)
        if batch_size:
            batches = (array[i : i + batch_size] for i in range(0, max(len(array), 1), batch_size))
        else:
            batches = iter([array])
    elif hasattr(data, "__iter__"):
        batches = iter(data)
    else:
        raise layer_error(
            layer, f"adapt() expects an array, a list or an iterable of batches. Received: {type(data).__name__}",
            TypeError,
        )  # fmt: skip
    if steps is not None:
        batches = itertools.islice(batches, steps)
    empty = True
    for batch in batches:
        if isinstance(batch, tuple):
            batch = batch[0]
        empty = False
        yield host_array(batch)
    if empty:
        raise layer_error(layer, "adapt() received no data (an empty iterable). Pass at least one batch.")


def _is_batch(x):
    return _is_array(x) or (isinstance(x, tuple) and bool(x) and _is_array(x[0]))


def _is_array(x):
    return hasattr(x, "shape") and hasattr(x, "dtype")
