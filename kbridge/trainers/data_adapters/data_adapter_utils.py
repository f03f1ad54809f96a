"""Helpers shared by the data adapters: packing, NumPy conversion, class weights, checks.

Framework objects are recognised by duck typing (DESIGN.md invariant 1): this module
never imports torch, jax or tensorflow.
"""

import numpy as np

from kbridge import config
from kbridge.utils import tree

_SCALARS = (bool, int, float, complex, str, bytes, np.generic)


def unpack_x_y_sample_weight(data):
    """Unpacks `x`, `(x,)`, `(x, y)` or `(x, y, sample_weight)` into a 3-tuple.

    Args:
        data: A batch; a list is read as a tuple (as Keras does).

    Returns:
        `(x, y, sample_weight)`, with `None` for the missing parts.
    """
    if isinstance(data, list):
        data = tuple(data)
    if not isinstance(data, tuple):
        return data, None, None
    if len(data) == 1:
        return data[0], None, None
    if len(data) == 2:
        return data[0], data[1], None
    if len(data) == 3:
        return data[0], data[1], data[2]
    raise ValueError(
        "Data is expected to be in format `x`, `(x,)`, `(x, y)`, or `(x, y, sample_weight)`. "
        f"Received: a tuple of {len(data)} elements"
    )


def pack_x_y_sample_weight(x, y=None, sample_weight=None):
    """Packs data the way `fit` consumes it: `x`, `(x,)`, `(x, y)` or `(x, y, sample_weight)`.

    A lone `x` stays unwrapped unless it is itself a list or tuple, which would be
    ambiguous with `(x, y)`; then it becomes `(x,)`.
    """
    if y is None:
        if isinstance(x, (list, tuple)):
            return (x,)
        return x
    if sample_weight is None:
        return (x, y)
    return (x, y, sample_weight)


def type_name(value):
    """`module.QualName` of `value`'s type, for error messages."""
    cls = type(value)
    module = cls.__module__
    return cls.__qualname__ if module == "builtins" else f"{module}.{cls.__qualname__}"


def _mro_matches(value, names, module_prefix):
    return any(
        klass.__name__ in names and str(klass.__module__).startswith(module_prefix) for klass in type(value).__mro__
    )


def is_torch_tensor(value):
    """Whether `value` is a `torch.Tensor` (duck typed by class name and module)."""
    return _mro_matches(value, ("Tensor",), "torch")


def is_tf_dataset(value):
    """Whether `value` looks like a `tf.data.Dataset`."""
    if _mro_matches(value, ("DatasetV2", "Dataset"), "tensorflow."):
        return True
    return hasattr(value, "element_spec") and (hasattr(value, "as_numpy_iterator") or hasattr(value, "__iter__"))


def is_torch_dataloader(value):
    """Whether `value` is a `torch.utils.data.DataLoader` (or a subclass)."""
    return _mro_matches(value, ("DataLoader",), "torch.utils.data")


def is_array_like(value):
    """Whether `value` is a NumPy array or converts to one with `np.asarray` (tensors, DataFrames)."""
    return isinstance(value, np.ndarray) or (hasattr(value, "__array__") and not isinstance(value, type))


def to_numpy(value):
    """Converts one leaf to NumPy: arrays as they are, tensors and scalars via `np.asarray`.

    `None` and objects that are not array-like are returned unchanged.
    """
    if value is None or isinstance(value, np.ndarray):
        return value
    if isinstance(value, _SCALARS):
        return np.asarray(value)
    # torch refuses `__array__` on tensors that require grad or live on an accelerator.
    if is_torch_tensor(value):
        value = value.detach().cpu()
    if hasattr(value, "__array__"):
        return np.asarray(value)
    if hasattr(value, "numpy"):
        return np.asarray(value.numpy())
    return value


def structure_to_numpy(structure):
    """Applies `to_numpy` to every leaf of a nested list/tuple/dict structure."""
    return tree.map_structure(to_numpy, structure)


def standardize_batch(batch):
    """Converts a batch to NumPy and repacks it as `x`, `(x,)`, `(x, y)` or `(x, y, sw)`."""
    x, y, sample_weight = unpack_x_y_sample_weight(batch)
    return pack_x_y_sample_weight(structure_to_numpy(x), structure_to_numpy(y), structure_to_numpy(sample_weight))


def validate_class_weight(class_weight):
    """Checks that `class_weight` maps integer class indices to numbers; returns it as a dict."""
    if not isinstance(class_weight, dict):
        raise ValueError(
            "Argument `class_weight` should be a dict mapping class indices (ints) to weights (floats). "
            f"Received: class_weight of type {type_name(class_weight)}"
        )
    for key, weight in class_weight.items():
        if isinstance(key, bool) or not isinstance(key, (int, np.integer)):
            raise ValueError(
                "Argument `class_weight` should have integer class indices as keys. "
                f"Received: key {key!r} of type {type_name(key)}"
            )
        if not isinstance(weight, (int, float, np.integer, np.floating)) or isinstance(weight, bool):
            raise ValueError(
                "Argument `class_weight` should have numbers as weights. "
                f"Received: class_weight[{key!r}] = {weight!r}"
            )
    return {int(key): float(weight) for key, weight in class_weight.items()}


def check_class_weight_targets(y, sample_weight=None):
    """Raises if `class_weight` cannot apply: `y` nested (multi-output), missing, or with `sample_weight`."""
    if sample_weight is not None:
        raise ValueError(
            "You cannot pass both `class_weight` and `sample_weight`. "
            "Expected one of them. Received: both"
        )
    if y is None:
        raise ValueError("Argument `class_weight` needs targets `y`. Received: y=None")
    if tree.is_nested(y):
        raise ValueError(
            "Argument `class_weight` is only supported for models with a single output. "
            f"Expected `y` to be a single array. Received: y of type {type_name(y)} "
            f"with {len(tree.flatten(y))} arrays"
        )


def class_weight_to_sample_weights(y, class_weight):
    """Turns `class_weight` into one weight per sample of `y`.

    Args:
        y: Targets: class indices of shape `(n,)` or `(n, 1)`, or one-hot / probabilities
            of shape `(n, num_classes)` (the class is the argmax).
        class_weight: Dict class index -> weight; missing classes weigh 1.

    Returns:
        A float array of shape `(n,)` in `kbridge.config.floatx()`.
    """
    y = np.asarray(to_numpy(y))
    if y.ndim == 0 or y.ndim > 2:
        raise ValueError(
            "Argument `class_weight` expects `y` of shape (num_samples,), (num_samples, 1) or "
            f"(num_samples, num_classes). Received: y of shape {y.shape}"
        )
    if y.ndim == 2:
        y = np.argmax(y, axis=-1) if y.shape[-1] > 1 else y[:, 0]
    classes = np.round(y).astype("int64")
    weights = np.ones(classes.shape[0], dtype=config.floatx())
    for label, weight in class_weight.items():
        weights[classes == label] = weight
    return weights
