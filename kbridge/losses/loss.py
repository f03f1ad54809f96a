"""`Loss`, `LossFunctionWrapper` and the reductions shared by every loss (Keras 3 semantics).

A loss runs on the backend of its inputs: `Loss.__call__` (and every built-in loss
function) points `kbridge.ops` at that backend for the duration of the call, so NumPy
labels next to torch predictions become torch tensors instead of tensors of the
default backend.
"""

import functools

from kbridge import config, dtype_policies, ops
from kbridge.backend import dispatch
from kbridge.backend._state import state
from kbridge.saving import serialization_lib
from kbridge.symbolic.keras_tensor import KerasTensor
from kbridge.utils import naming, tree

REDUCTIONS = ("sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", "none", None)
_NUMBERS = (bool, int, float)


# -- backend scope -------------------------------------------------------------------------


def _backend_module(values):
    """The backend module a loss on `values` runs on, or None to leave dispatch as it is."""
    if state.ops is not dispatch.AUTO:
        # Inside a layer call or a symbolic scope: ops already go to one backend.
        return None
    leaves = tree.flatten(values)
    for leaf in leaves:
        if isinstance(leaf, KerasTensor):
            return None
    return dispatch.backend_for(leaves) or state.backend or dispatch.default_backend()


def run_on_backend(fn, values, *args, **kwargs):
    """Calls `fn(*args, **kwargs)` with `kbridge.ops` pointed at the backend of `values`."""
    module = _backend_module(values)
    if module is None:
        return fn(*args, **kwargs)
    saved = state.ops
    state.ops = module
    try:
        return fn(*args, **kwargs)
    finally:
        state.ops = saved


def loss_function(fn):
    """Decorator: runs a loss function `fn(y_true, y_pred, ...)` on its inputs' backend."""

    @functools.wraps(fn)
    def wrapper(y_true, y_pred, *args, **kwargs):
        if state.ops is not dispatch.AUTO:
            return fn(y_true, y_pred, *args, **kwargs)
        return run_on_backend(fn, (y_true, y_pred), y_true, y_pred, *args, **kwargs)

    return wrapper


# -- shapes and reductions -----------------------------------------------------------------


def standardize_reduction(reduction):
    """Returns `reduction` if Keras 3 knows it, else raises a `ValueError`."""
    if reduction not in REDUCTIONS:
        raise ValueError(
            f"Invalid value for argument `reduction`. Expected one of {set(REDUCTIONS)}. "
            f"Received: reduction={reduction}"
        )
    return reduction


def _is_one(dim):
    # Unknown sizes (tensors under tf.function) never count as 1.
    return isinstance(dim, int) and dim == 1


def squeeze_or_expand_to_same_rank(x1, x2, expand_rank_1=True):
    """Squeezes or expands the last axis of one tensor when the ranks differ by exactly one."""
    shape1, shape2 = ops.shape(x1), ops.shape(x2)
    rank1, rank2 = len(shape1), len(shape2)
    if rank1 == rank2 + 1 and _is_one(shape1[-1]):
        if rank2 == 1 and expand_rank_1:
            x2 = ops.expand_dims(x2, axis=-1)
        else:
            x1 = ops.squeeze(x1, axis=-1)
    elif rank2 == rank1 + 1 and _is_one(shape2[-1]):
        if rank1 == 1 and expand_rank_1:
            x1 = ops.expand_dims(x1, axis=-1)
        else:
            x2 = ops.squeeze(x2, axis=-1)
    return x1, x2


def _num_elements(x, dtype):
    """The number of entries of `x`: an int for static shapes, else a scalar tensor of `dtype`."""
    size = 1
    for dim in ops.shape(x):
        if not isinstance(dim, int):
            # Unknown sizes (tf.function, KerasTensors): count at run time.
            return ops.sum(ops.ones_like(x, dtype=dtype))
        size *= dim
    return size


def reduce_values(values, sample_weight=None, reduction="sum_over_batch_size"):
    """Reduces already weighted `values` as Keras 3 does (scalars and `(0,)` pass through)."""
    shape = tuple(ops.shape(values))
    empty = len(shape) == 1 and isinstance(shape[0], int) and shape[0] == 0
    if reduction is None or reduction == "none" or not shape or empty:
        return values
    loss = ops.sum(values)
    if reduction == "sum":
        return loss
    if reduction == "mean_with_sample_weight" and sample_weight is not None:
        divisor = ops.cast(ops.sum(sample_weight), ops.dtype(loss))
    else:
        divisor = _num_elements(values, ops.dtype(loss))
        if isinstance(divisor, int):
            return ops.divide(loss, float(divisor)) if divisor else ops.multiply(loss, 0.0)
    return ops.divide_no_nan(loss, divisor)


def apply_mask(sample_weight, mask, dtype, reduction):
    """Merges a boolean `mask` of valid entries into `sample_weight`.

    For the averaging reductions the valid entries weigh `total / valid`, so that the
    average runs over valid entries only.
    """
    if mask is None:
        return sample_weight
    if reduction in ("mean", "sum_over_batch_size"):
        total = _num_elements(mask, dtype)
        valid = ops.sum(ops.cast(mask, dtype))
        weight = ops.divide_no_nan(ops.cast(total, dtype), valid)
        float_mask = ops.where(ops.cast(mask, "bool"), weight, ops.zeros_like(weight))
    else:
        float_mask = ops.cast(mask, dtype)
    if sample_weight is None:
        return float_mask
    sample_weight = ops.cast(sample_weight, dtype)
    float_mask, sample_weight = squeeze_or_expand_to_same_rank(float_mask, sample_weight)
    return ops.multiply(sample_weight, float_mask)


def _check_broadcast(name, values, sample_weight):
    shape_v, shape_w = tuple(ops.shape(values)), tuple(ops.shape(sample_weight))
    for dim_v, dim_w in zip(reversed(shape_v), reversed(shape_w)):
        if isinstance(dim_v, int) and isinstance(dim_w, int) and dim_v != dim_w and 1 not in (dim_v, dim_w):
            raise ValueError(
                f"Loss {name!r}: `sample_weight` of shape {shape_w} cannot weigh per-sample losses of shape "
                f"{shape_v}: it must broadcast to them (NumPy rules, after a size-1 last axis is squeezed or "
                "added). Pass a scalar or weights of the losses' shape."
            )


def reduce_weighted_values(values, sample_weight=None, mask=None, reduction="sum_over_batch_size", dtype=None,
                           name="loss"):  # fmt: skip
    """Weights `values` by `sample_weight` (and `mask`), then reduces them (Keras 3 rules)."""
    reduction = standardize_reduction(reduction)
    values = ops.convert_to_tensor(values, dtype=dtype)
    dtype = ops.dtype(values)
    if sample_weight is not None:
        sample_weight = ops.convert_to_tensor(sample_weight, dtype=dtype)
    sample_weight = apply_mask(sample_weight, mask, dtype, reduction)
    if sample_weight is not None:
        values, sample_weight = squeeze_or_expand_to_same_rank(values, sample_weight)
        _check_broadcast(name, values, sample_weight)
        values = ops.multiply(values, sample_weight)
    return reduce_values(values, sample_weight, reduction)


def _convert(value, dtype):
    if isinstance(value, (list, tuple)) and all(isinstance(leaf, _NUMBERS) for leaf in tree.flatten(value)):
        return ops.convert_to_tensor(value, dtype=dtype)
    return tree.map_structure(lambda x: ops.convert_to_tensor(x, dtype=dtype), value)


# -- classes -------------------------------------------------------------------------------


class Loss:
    """Base class of losses (Keras 3 `keras.losses.Loss`).

    Subclasses implement `call(y_true, y_pred)` returning per-sample losses; calling
    the loss weights them by `sample_weight` and reduces them.

    Args:
        name: the loss's name (default: snake_case of the class name, made unique).
        reduction: one of "sum_over_batch_size" (sum / number of elements), "sum",
            "mean" (as "sum_over_batch_size"), "mean_with_sample_weight" (sum / sum of
            the sample weights), "none" or None (no reduction).
        dtype: dtype name or `DTypePolicy` of the computation (default: `floatx()`).

    Example:
        >>> class MeanSquaredError(Loss):
        ...     def call(self, y_true, y_pred):
        ...         return ops.mean(ops.square(y_pred - y_true), axis=-1)
    """

    def __init__(self, name=None, reduction="sum_over_batch_size", dtype=None):
        self.name = name or naming.auto_name(type(self).__name__)
        self.reduction = standardize_reduction(reduction)
        self._dtype_arg = dtype
        self._dtype_policy = dtype_policies.get(dtype or config.floatx())
        self._dtype = self._dtype_policy.compute_dtype

    @property
    def dtype(self):
        """The dtype the loss computes in."""
        return self._dtype

    def __call__(self, y_true, y_pred, sample_weight=None):
        """Returns the weighted, reduced loss of predictions `y_pred` against targets `y_true`."""
        if state.ops is not dispatch.AUTO:
            return self._weighted_loss(y_true, y_pred, sample_weight)
        return run_on_backend(self._weighted_loss, (y_true, y_pred, sample_weight), y_true, y_pred, sample_weight)

    def _weighted_loss(self, y_true, y_pred, sample_weight):
        dtype = self._dtype
        y_pred = _convert(y_pred, dtype)
        y_true = _convert(y_true, dtype)
        losses, mask = self._losses_and_mask(y_true, y_pred)
        return reduce_weighted_values(
            losses, sample_weight=sample_weight, mask=mask, reduction=self.reduction, dtype=dtype, name=self.name
        )

    def _losses_and_mask(self, y_true, y_pred):
        # Per-sample losses and a boolean mask of the valid ones (None: all valid).
        return self.call(y_true, y_pred), None

    def call(self, y_true, y_pred):
        """Returns the per-sample losses (implemented by subclasses)."""
        raise NotImplementedError(f"Loss {type(self).__name__} does not implement call().")

    def get_config(self):
        """Returns the constructor arguments (Keras 3 keys; `dtype` only when one was given)."""
        config_ = {"name": self.name, "reduction": self.reduction}
        if self._dtype_arg is not None:
            arg = self._dtype_arg
            config_["dtype"] = arg if isinstance(arg, str) else dtype_policies.serialize(self._dtype_policy)
        return config_

    @classmethod
    def from_config(cls, config):
        """Creates a loss from `get_config()` output."""
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name!r} reduction={self.reduction!r}>"


class LossFunctionWrapper(Loss):
    """A `Loss` computing `fn(y_true, y_pred, **kwargs)` per sample.

    Args:
        fn: the loss function.
        reduction: see `Loss`.
        name: see `Loss`.
        dtype: see `Loss`.
        **kwargs: keyword arguments passed to `fn`.
    """

    def __init__(self, fn, reduction="sum_over_batch_size", name=None, dtype=None, **kwargs):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        if not callable(fn):
            raise TypeError(f"LossFunctionWrapper: `fn` must be callable, received {fn!r}")
        self.fn = fn
        self._fn_kwargs = kwargs

    def call(self, y_true, y_pred):
        """Returns `fn(y_true, y_pred, **kwargs)` after matching the ranks of each pair."""
        if tree.is_nested(y_true) or tree.is_nested(y_pred):
            pairs = [squeeze_or_expand_to_same_rank(t, p) for t, p in zip(tree.flatten(y_true), tree.flatten(y_pred))]
            y_true = tree.pack_sequence_as(y_true, [t for t, _ in pairs])
            y_pred = tree.pack_sequence_as(y_pred, [p for _, p in pairs])
        else:
            y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        return self.fn(y_true, y_pred, **self._fn_kwargs)

    def get_config(self):
        """Returns the config, with `fn` serialized and its keyword arguments inlined."""
        config_ = super().get_config()
        config_["fn"] = serialization_lib.serialize_keras_object(self.fn)
        config_.update(serialization_lib.serialize_keras_object(self._fn_kwargs))
        return config_

    @classmethod
    def from_config(cls, config):
        """Creates the wrapper, deserializing `fn`."""
        if "fn" in config:
            config = serialization_lib.deserialize_keras_object(config)
        return cls(**config)

    def __repr__(self):
        return f"<LossFunctionWrapper({self.fn}, kwargs={self._fn_kwargs})>"


class BuiltinLoss(LossFunctionWrapper):
    """Base of the built-in losses: the keyword arguments of `fn` are attributes and config keys."""

    def __init__(self, fn, reduction="sum_over_batch_size", name=None, dtype=None, **kwargs):
        super().__init__(fn, reduction=reduction, name=name, dtype=dtype, **kwargs)
        for key, value in kwargs.items():
            setattr(self, key, value)

    def get_config(self):
        """Returns `name`, `reduction` and the loss's own arguments (Keras 3 keys)."""
        config_ = Loss.get_config(self)
        config_.update(self._fn_kwargs)
        return config_
