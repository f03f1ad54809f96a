"""Probabilistic and hinge metrics: crossentropies, KL divergence, Poisson, hinges."""

from kbridge.metrics import _loss_functions as fns
from kbridge.metrics.reduction_metrics import FixedFunctionMean, MeanMetricWrapper


class KLDivergence(FixedFunctionMean):
    """The mean Kullback-Leibler divergence `sum(y_true * log(y_true / y_pred), axis=-1)`.

    Args:
        name: the metric's name.
        dtype: the dtype of the result.
    """

    _FN = staticmethod(fns.kl_divergence)
    _DIRECTION = None

    def __init__(self, name="kl_divergence", dtype=None):
        super().__init__(name=name, dtype=dtype)


class Poisson(FixedFunctionMean):
    """The mean Poisson loss `mean(y_pred - y_true * log(y_pred), axis=-1)`.

    Args:
        name: the metric's name.
        dtype: the dtype of the result.
    """

    _FN = staticmethod(fns.poisson)
    _DIRECTION = None

    def __init__(self, name="poisson", dtype=None):
        super().__init__(name=name, dtype=dtype)


class Hinge(FixedFunctionMean):
    """The mean hinge loss `mean(max(1 - y_true * y_pred, 0), axis=-1)`.

    Labels are -1 or 1; labels given as 0/1 are converted.

    Args:
        name: the metric's name.
        dtype: the dtype of the result.
    """

    _FN = staticmethod(fns.hinge)

    def __init__(self, name="hinge", dtype=None):
        super().__init__(name=name, dtype=dtype)


class SquaredHinge(FixedFunctionMean):
    """The mean squared hinge loss `mean(max(1 - y_true * y_pred, 0) ** 2, axis=-1)`.

    Args:
        name: the metric's name.
        dtype: the dtype of the result.
    """

    _FN = staticmethod(fns.squared_hinge)

    def __init__(self, name="squared_hinge", dtype=None):
        super().__init__(name=name, dtype=dtype)


class CategoricalHinge(FixedFunctionMean):
    """The mean categorical hinge loss `max(max(neg) - pos + 1, 0)` for one-hot labels.

    Args:
        name: the metric's name.
        dtype: the dtype of the result.
    """

    _FN = staticmethod(fns.categorical_hinge)

    def __init__(self, name="categorical_hinge", dtype=None):
        super().__init__(name=name, dtype=dtype)


class BinaryCrossentropy(MeanMetricWrapper):
    """The mean binary crossentropy between labels and predicted probabilities.

    Args:
        name: the metric's name.
        dtype: the dtype of the result.
        from_logits: whether `y_pred` holds logits instead of probabilities.
        label_smoothing: in [0, 1]; labels are moved this far towards 0.5.
    """

    def __init__(self, name="binary_crossentropy", dtype=None, from_logits=False, label_smoothing=0):
        super().__init__(
            fns.binary_crossentropy, name, dtype=dtype, from_logits=from_logits, label_smoothing=label_smoothing
        )
        self.from_logits = from_logits
        self.label_smoothing = label_smoothing
        self._direction = "down"

    def get_config(self):
        """Returns {"name", "dtype", "from_logits", "label_smoothing"}."""
        return {"name": self.name, "dtype": self.dtype, "from_logits": self.from_logits,
                "label_smoothing": self.label_smoothing}  # fmt: skip


class CategoricalCrossentropy(MeanMetricWrapper):
    """The mean crossentropy between one-hot labels and predictions.

    Args:
        name: the metric's name.
        dtype: the dtype of the result.
        from_logits: whether `y_pred` holds logits instead of probabilities.
        label_smoothing: in [0, 1]; labels are mixed this much with the uniform distribution.
        axis: the class axis.
    """

    def __init__(self, name="categorical_crossentropy", dtype=None, from_logits=False, label_smoothing=0, axis=-1):
        super().__init__(
            fns.categorical_crossentropy, name, dtype=dtype, from_logits=from_logits,
            label_smoothing=label_smoothing, axis=axis,
        )  # fmt: skip
        self.from_logits = from_logits
        self.label_smoothing = label_smoothing
        self.axis = axis
        self._direction = "down"

    def get_config(self):
        """Returns {"name", "dtype", "from_logits", "label_smoothing", "axis"}."""
        return {"name": self.name, "dtype": self.dtype, "from_logits": self.from_logits,
                "label_smoothing": self.label_smoothing, "axis": self.axis}  # fmt: skip


class SparseCategoricalCrossentropy(MeanMetricWrapper):
    """The mean crossentropy between integer labels and predictions.

    Args:
        name: the metric's name.
        dtype: the dtype of the result.
        from_logits: whether `y_pred` holds logits instead of probabilities.
        ignore_class: a label value left out of the mean (e.g. padding), or None.
        axis: the class axis.
    """

    def __init__(self, name="sparse_categorical_crossentropy", dtype=None, from_logits=False, ignore_class=None,
                 axis=-1):  # fmt: skip
        super().__init__(
            fns.sparse_categorical_crossentropy, name=name, dtype=dtype, from_logits=from_logits,
            ignore_class=ignore_class, axis=axis,
        )  # fmt: skip
        self.from_logits = from_logits
        self.ignore_class = ignore_class
        self.axis = axis
        self._direction = "down"

    def _mask(self, y_true, y_pred):
        if self.ignore_class is None:
            return None
        y_true = fns.sparse_labels(y_true, y_pred, self.axis)
        return fns.sparse_valid_mask(y_true, self.ignore_class)

    def get_config(self):
        """Returns {"name", "dtype", "from_logits", "ignore_class", "axis"}."""
        return {"name": self.name, "dtype": self.dtype, "from_logits": self.from_logits,
                "ignore_class": self.ignore_class, "axis": self.axis}  # fmt: skip
