"""Sum, Mean and MeanMetricWrapper: reductions over everything seen since the last reset."""

from kbridge import ops
from kbridge.metrics._utils import apply_mask, reduce_to_samplewise_values
from kbridge.metrics.metric import Metric


class Sum(Metric):
    """The (weighted) sum of the given values.

    Args:
        name: the metric's name.
        dtype: the dtype of the state and result.

    Example:
        >>> m = Sum()
        >>> m.update_state([1, 3, 5, 7], sample_weight=[1, 1, 0, 0])
        >>> float(m.result())
        4.0
    """

    def __init__(self, name="sum", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.total = self.add_variable(shape=(), initializer="zeros", dtype=self.dtype, name="total")

    def update_state(self, values, sample_weight=None):
        """Adds the (weighted) values to the total."""
        values, _ = reduce_to_samplewise_values(values, sample_weight, reduce_fn=ops.sum, dtype=self.dtype)
        self.total.assign(ops.add(self.total.value, ops.sum(values)))

    def result(self):
        """The total."""
        # A copy: torch and tf assign in place, which would change a returned alias.
        return ops.copy(ops.cast(self.total.value, self.dtype))


class Mean(Metric):
    """The (weighted) mean of the given values: `total / count`.

    Values of rank > 1 are first averaged over all but the first axis (one value
    per sample); `sample_weight` weighs the samples.

    Args:
        name: the metric's name.
        dtype: the dtype of the state and result.

    Example:
        >>> m = Mean()
        >>> m.update_state([1, 3, 5, 7], sample_weight=[1, 1, 0, 0])
        >>> float(m.result())
        2.0
    """

    def __init__(self, name="mean", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.total = self.add_variable(shape=(), initializer="zeros", dtype=self.dtype, name="total")
        self.count = self.add_variable(shape=(), initializer="zeros", dtype=self.dtype, name="count")

    def update_state(self, values, sample_weight=None):
        """Adds the (weighted) values to the total and their weight to the count."""
        if type(sample_weight) is int and type(self) is Mean:
            # The trainer's loss tracker: a scalar loss weighted by the batch size, once per step.
            values = ops.cast(values, self.dtype)
            if not ops.shape(values):
                self.total.assign_add(ops.multiply(values, sample_weight))
                self.count.assign_add(float(sample_weight))
                return
        values, sample_weight = reduce_to_samplewise_values(values, sample_weight, reduce_fn=ops.mean, dtype=self.dtype)
        if sample_weight is None:
            # Counting ones, not reading the shape: the batch size may be unknown while tracing.
            num_samples = ops.sum(ops.ones_like(values))
        else:
            num_samples = ops.sum(sample_weight)
        self.total.assign(ops.add(self.total.value, ops.sum(values)))
        self.count.assign(ops.add(self.count.value, ops.cast(num_samples, self.dtype)))

    def result(self):
        """`total / count`, or 0 before any sample."""
        return ops.divide_no_nan(self.total.value, ops.cast(self.count.value, self.dtype))


class MeanMetricWrapper(Mean):
    """The mean of a per-sample function `fn(y_true, y_pred, **kwargs)`.

    Args:
        fn: the function, returning one value per sample (or per element).
        name: the metric's name.
        dtype: the dtype of the state and result.
        **kwargs: keyword arguments passed on to `fn`.

    Example:
        >>> m = MeanMetricWrapper(fn=kbridge.metrics.mean_squared_error)
    """

    def __init__(self, fn, name=None, dtype=None, **kwargs):
        if not callable(fn):
            raise TypeError(f"MeanMetricWrapper: `fn` must be callable, received {type(fn).__name__}: {fn!r}")
        super().__init__(name=name, dtype=dtype)
        self._fn = fn
        self._fn_kwargs = kwargs

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Adds `fn(y_true, y_pred)` (weighted) to the mean."""
        values = self._fn(y_true, y_pred, **self._fn_kwargs)
        mask = self._mask(y_true, y_pred)
        if mask is not None:
            sample_weight = apply_mask(sample_weight, mask, self.dtype)
        return super().update_state(values, sample_weight=sample_weight)

    def _mask(self, y_true, y_pred):
        """Entries to leave out of the mean, as a boolean tensor (None: keep all)."""
        return None

    def get_config(self):
        """Returns {"name", "dtype", "fn", **fn_kwargs}."""
        from kbridge.saving import serialization_lib

        config = {"name": self.name, "dtype": self.dtype, "fn": serialization_lib.serialize_keras_object(self._fn)}
        config.update(serialization_lib.serialize_keras_object(self._fn_kwargs))
        return config

    @classmethod
    def from_config(cls, config):
        """Creates the wrapper from `get_config()` output (the function by registered name)."""
        from kbridge.saving import serialization_lib

        if "fn" in config:
            config = dict(config)
            config["fn"] = _builtin_function(config["fn"]) or serialization_lib.deserialize_keras_object(config["fn"])
        return cls(**config)


def _builtin_function(config):
    """The `kbridge.metrics` function a config names, else None.

    Looked up here because the generic lookup also knows each class by its snake_case
    name, and "binary_accuracy" would find the class `BinaryAccuracy`.
    """
    if not isinstance(config, dict) or config.get("class_name") != "function":
        return None
    import types

    from kbridge import metrics

    found = vars(metrics).get(config.get("config"))
    return found if isinstance(found, types.FunctionType) and not found.__name__.startswith("_") else None


class FixedFunctionMean(MeanMetricWrapper):
    """Base of the loss-metrics: the mean of the class's `_FN`; config is only name and dtype."""

    _FN = None
    # "down": smaller is better (callbacks monitoring the metric in mode "auto" read it).
    _DIRECTION = "down"

    def __init__(self, name, dtype=None):
        super().__init__(type(self)._FN, name=name, dtype=dtype)
        if self._DIRECTION is not None:
            self._direction = self._DIRECTION

    def get_config(self):
        """Returns {"name", "dtype"}."""
        return {"name": self.name, "dtype": self.dtype}
