"""Confusion-matrix metrics: counts, precision, recall, and one rate at a fixed other rate."""

from kbridge import ops
from kbridge.metrics import _confusion as cm
from kbridge.metrics.metric import Metric


def _first_or_all(values, thresholds):
    # A copy: torch and tf assign in place, so a returned view would follow later updates.
    return ops.copy(ops.getitem(values, 0) if len(thresholds) == 1 else values)


class _ConfusionMatrixConditionCount(Metric):
    """The (weighted) count of one confusion-matrix condition at each threshold."""

    _CONDITION = None

    def __init__(self, thresholds=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.init_thresholds = thresholds
        self.thresholds = cm.parse_init_thresholds(thresholds, default_threshold=0.5)
        self._thresholds_distributed_evenly = cm.is_evenly_distributed_thresholds(self.thresholds)
        self.accumulator = self.add_variable(shape=(len(self.thresholds),), initializer="zeros", name="accumulator")

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Adds the batch's (weighted) count at each threshold."""
        cm.update_confusion_matrix_variables(
            {self._CONDITION: self.accumulator}, y_true, y_pred, thresholds=self.thresholds,
            thresholds_distributed_evenly=self._thresholds_distributed_evenly, sample_weight=sample_weight,
        )  # fmt: skip

    def result(self):
        """The count (a scalar for one threshold, else one per threshold)."""
        return _first_or_all(self.accumulator.value, self.thresholds)

    def get_config(self):
        """Returns {"name", "dtype", "thresholds"}."""
        return {**super().get_config(), "thresholds": self.init_thresholds}


class TruePositives(_ConfusionMatrixConditionCount):
    """The (weighted) number of true positives: label 1 and `y_pred > threshold`.

    Args:
        thresholds: a float or list of floats in [0, 1] (default 0.5); one count per threshold.
        name: the metric's name.
        dtype: the dtype of the result.
    """

    _CONDITION = cm.TRUE_POSITIVES

    def __init__(self, thresholds=None, name=None, dtype=None):
        super().__init__(thresholds=thresholds, name=name, dtype=dtype)


class FalsePositives(_ConfusionMatrixConditionCount):
    """The (weighted) number of false positives: label 0 and `y_pred > threshold`.

    Args:
        thresholds: a float or list of floats in [0, 1] (default 0.5); one count per threshold.
        name: the metric's name.
        dtype: the dtype of the result.
    """

    _CONDITION = cm.FALSE_POSITIVES

    def __init__(self, thresholds=None, name=None, dtype=None):
        super().__init__(thresholds=thresholds, name=name, dtype=dtype)


class TrueNegatives(_ConfusionMatrixConditionCount):
    """The (weighted) number of true negatives: label 0 and `y_pred <= threshold`.

    Args:
        thresholds: a float or list of floats in [0, 1] (default 0.5); one count per threshold.
        name: the metric's name.
        dtype: the dtype of the result.
    """

    _CONDITION = cm.TRUE_NEGATIVES

    def __init__(self, thresholds=None, name=None, dtype=None):
        super().__init__(thresholds=thresholds, name=name, dtype=dtype)


class FalseNegatives(_ConfusionMatrixConditionCount):
    """The (weighted) number of false negatives: label 1 and `y_pred <= threshold`.

    Args:
        thresholds: a float or list of floats in [0, 1] (default 0.5); one count per threshold.
        name: the metric's name.
        dtype: the dtype of the result.
    """

    _CONDITION = cm.FALSE_NEGATIVES

    def __init__(self, thresholds=None, name=None, dtype=None):
        super().__init__(thresholds=thresholds, name=name, dtype=dtype)


class _PrecisionRecall(Metric):
    """Shared body of Precision and Recall: TP and one other count per threshold."""

    _OTHER = None

    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        self._direction = "up"
        self.init_thresholds = thresholds
        self.top_k = top_k
        self.class_id = class_id
        default_threshold = 0.5 if top_k is None else cm.NEG_INF
        self.thresholds = cm.parse_init_thresholds(thresholds, default_threshold=default_threshold)
        self._thresholds_distributed_evenly = cm.is_evenly_distributed_thresholds(self.thresholds)
        shape = (len(self.thresholds),)
        self.true_positives = self.add_variable(shape=shape, initializer="zeros", name="true_positives")
        other = "false_positives" if self._OTHER == cm.FALSE_POSITIVES else "false_negatives"
        setattr(self, other, self.add_variable(shape=shape, initializer="zeros", name=other))
        self._other = getattr(self, other)

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Adds the batch's (weighted) counts at each threshold."""
        cm.update_confusion_matrix_variables(
            {cm.TRUE_POSITIVES: self.true_positives, self._OTHER: self._other}, y_true, y_pred,
            thresholds=self.thresholds, thresholds_distributed_evenly=self._thresholds_distributed_evenly,
            top_k=self.top_k, class_id=self.class_id, sample_weight=sample_weight,
        )  # fmt: skip

    def result(self):
        """`tp / (tp + other)` (0 where undefined), a scalar for one threshold."""
        tp = self.true_positives.value
        return _first_or_all(ops.divide_no_nan(tp, ops.add(tp, self._other.value)), self.thresholds)

    def get_config(self):
        """Returns {"name", "dtype", "thresholds", "top_k", "class_id"}."""
        config = {"thresholds": self.init_thresholds, "top_k": self.top_k, "class_id": self.class_id}
        return {**super().get_config(), **config}


class Precision(_PrecisionRecall):
    """The precision `tp / (tp + fp)` of the predictions with respect to the labels.

    Args:
        thresholds: a float or list of floats in [0, 1]; predictions above count as
            positive (default 0.5, or all of the `top_k` with `top_k`).
        top_k: only the `top_k` largest predictions of each sample count as positive.
        class_id: compute the metric for this class only.
        name: the metric's name.
        dtype: the dtype of the result.
    """

    _OTHER = cm.FALSE_POSITIVES

    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None, dtype=None):
        super().__init__(thresholds=thresholds, top_k=top_k, class_id=class_id, name=name, dtype=dtype)


class Recall(_PrecisionRecall):
    """The recall `tp / (tp + fn)` of the predictions with respect to the labels.

    Args:
        thresholds: a float or list of floats in [0, 1]; predictions above count as
            positive (default 0.5, or all of the `top_k` with `top_k`).
        top_k: only the `top_k` largest predictions of each sample count as positive.
        class_id: compute the metric for this class only.
        name: the metric's name.
        dtype: the dtype of the result.
    """

    _OTHER = cm.FALSE_NEGATIVES

    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None, dtype=None):
        super().__init__(thresholds=thresholds, top_k=top_k, class_id=class_id, name=name, dtype=dtype)


def _check_unit(name, value):
    if value < 0 or value > 1:
        raise ValueError(f"Argument `{name}` must be in the range [0, 1]. Received: {name}={value}")


class SensitivitySpecificityBase(Metric):
    """Base of the metrics giving one rate at the best threshold where another rate
    reaches `value`; keeps all four counts at `num_thresholds` thresholds."""

    def __init__(self, value, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        self._direction = "up"
        if num_thresholds <= 0:
            raise ValueError(
                f"Argument `num_thresholds` must be an integer > 0. Received: num_thresholds={num_thresholds}"
            )
        self.value = value
        self.class_id = class_id
        if num_thresholds == 1:
            self.thresholds = [0.5]
            self._thresholds_distributed_evenly = False
        else:
            inner = [(i + 1) * 1.0 / (num_thresholds - 1) for i in range(num_thresholds - 2)]
            self.thresholds = [0.0] + inner + [1.0]
            self._thresholds_distributed_evenly = True
        shape = (len(self.thresholds),)
        self.true_positives = self.add_variable(shape=shape, initializer="zeros", name="true_positives")
        self.false_positives = self.add_variable(shape=shape, initializer="zeros", name="false_positives")
        self.true_negatives = self.add_variable(shape=shape, initializer="zeros", name="true_negatives")
        self.false_negatives = self.add_variable(shape=shape, initializer="zeros", name="false_negatives")

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Adds the batch's (weighted) counts at each threshold."""
        cm.update_confusion_matrix_variables(
            {cm.TRUE_POSITIVES: self.true_positives, cm.TRUE_NEGATIVES: self.true_negatives,
             cm.FALSE_POSITIVES: self.false_positives, cm.FALSE_NEGATIVES: self.false_negatives},
            y_true, y_pred, thresholds=self.thresholds,
            thresholds_distributed_evenly=self._thresholds_distributed_evenly, class_id=self.class_id,
            sample_weight=sample_weight,
        )  # fmt: skip

    def _rates(self):
        tp, fp = self.true_positives.value, self.false_positives.value
        tn, fn = self.true_negatives.value, self.false_negatives.value
        return {
            "sensitivity": ops.divide_no_nan(tp, ops.add(tp, fn)),  # = recall
            "specificity": ops.divide_no_nan(tn, ops.add(tn, fp)),
            "precision": ops.divide_no_nan(tp, ops.add(tp, fp)),
        }

    def _find_max_under_constraint(self, constrained, dependent):
        feasible = ops.greater_equal(constrained, self.value)
        return ops.max(ops.where(feasible, dependent, 0.0), initial=0)

    def get_config(self):
        """Returns {"name", "dtype", "class_id"} (subclasses add theirs)."""
        return {**super().get_config(), "class_id": self.class_id}


class SensitivityAtSpecificity(SensitivitySpecificityBase):
    """The best sensitivity (recall) among thresholds where specificity >= `specificity`.

    Args:
        specificity: in [0, 1].
        num_thresholds: how many thresholds to evaluate (default 200).
        class_id: compute the metric for this class only.
        name: the metric's name.
        dtype: the dtype of the result.
    """

    def __init__(self, specificity, num_thresholds=200, class_id=None, name=None, dtype=None):
        _check_unit("specificity", specificity)
        self.specificity = specificity
        self.num_thresholds = num_thresholds
        super().__init__(specificity, num_thresholds=num_thresholds, class_id=class_id, name=name, dtype=dtype)

    def result(self):
        """The best sensitivity under the specificity constraint."""
        rates = self._rates()
        return self._find_max_under_constraint(rates["specificity"], rates["sensitivity"])

    def get_config(self):
        """Returns {"name", "dtype", "class_id", "num_thresholds", "specificity"}."""
        return {**super().get_config(), "num_thresholds": self.num_thresholds, "specificity": self.specificity}


class SpecificityAtSensitivity(SensitivitySpecificityBase):
    """The best specificity among thresholds where sensitivity >= `sensitivity`.

    Args:
        sensitivity: in [0, 1].
        num_thresholds: how many thresholds to evaluate (default 200).
        class_id: compute the metric for this class only.
        name: the metric's name.
        dtype: the dtype of the result.
    """

    def __init__(self, sensitivity, num_thresholds=200, class_id=None, name=None, dtype=None):
        _check_unit("sensitivity", sensitivity)
        self.sensitivity = sensitivity
        self.num_thresholds = num_thresholds
        super().__init__(sensitivity, num_thresholds=num_thresholds, class_id=class_id, name=name, dtype=dtype)

    def result(self):
        """The best specificity under the sensitivity constraint."""
        rates = self._rates()
        return self._find_max_under_constraint(rates["sensitivity"], rates["specificity"])

    def get_config(self):
        """Returns {"name", "dtype", "class_id", "num_thresholds", "sensitivity"}."""
        return {**super().get_config(), "num_thresholds": self.num_thresholds, "sensitivity": self.sensitivity}


class PrecisionAtRecall(SensitivitySpecificityBase):
    """The best precision among thresholds where recall >= `recall`.

    Args:
        recall: in [0, 1].
        num_thresholds: how many thresholds to evaluate (default 200).
        class_id: compute the metric for this class only.
        name: the metric's name.
        dtype: the dtype of the result.
    """

    def __init__(self, recall, num_thresholds=200, class_id=None, name=None, dtype=None):
        _check_unit("recall", recall)
        self.recall = recall
        self.num_thresholds = num_thresholds
        super().__init__(value=recall, num_thresholds=num_thresholds, class_id=class_id, name=name, dtype=dtype)

    def result(self):
        """The best precision under the recall constraint."""
        rates = self._rates()
        return self._find_max_under_constraint(rates["sensitivity"], rates["precision"])

    def get_config(self):
        """Returns {"name", "dtype", "class_id", "num_thresholds", "recall"}."""
        return {**super().get_config(), "num_thresholds": self.num_thresholds, "recall": self.recall}


class RecallAtPrecision(SensitivitySpecificityBase):
    """The best recall among thresholds where precision >= `precision`.

    Args:
        precision: in [0, 1].
        num_thresholds: how many thresholds to evaluate (default 200).
        class_id: compute the metric for this class only.
        name: the metric's name.
        dtype: the dtype of the result.
    """

    def __init__(self, precision, num_thresholds=200, class_id=None, name=None, dtype=None):
        _check_unit("precision", precision)
        self.precision = precision
        self.num_thresholds = num_thresholds
        super().__init__(value=precision, num_thresholds=num_thresholds, class_id=class_id, name=name, dtype=dtype)

    def result(self):
        """The best recall under the precision constraint."""
        rates = self._rates()
        return self._find_max_under_constraint(rates["precision"], rates["sensitivity"])

    def get_config(self):
        """Returns {"name", "dtype", "class_id", "num_thresholds", "precision"}."""
        return {**super().get_config(), "num_thresholds": self.num_thresholds, "precision": self.precision}
