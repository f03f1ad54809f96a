"""AUC: the area under the ROC or precision-recall curve, by a Riemann sum over thresholds."""

import numpy as np

from kbridge import config, ops
from kbridge.metrics import _confusion as cm
from kbridge.metrics._utils import static_shape
from kbridge.metrics.metric import Metric

_CURVES = {"roc": "ROC", "pr": "PR", "prgain": "PRGAIN"}
_SUMMATIONS = ("interpolation", "majoring", "minoring")


def _curve(key):
    value = _CURVES.get(key.lower()) if isinstance(key, str) and key in (key.lower(), key.upper()) else None
    if value is None:
        raise ValueError(f'Invalid AUC curve value: "{key}". Expected values are ["PR", "ROC", "PRGAIN"]')
    return value


def _summation(key):
    if not isinstance(key, str) or key.lower() not in _SUMMATIONS or key not in (key.lower(), key.capitalize()):
        raise ValueError(
            f'Invalid AUC summation method value: "{key}". '
            'Expected values are ["interpolation", "majoring", "minoring"]'
        )
    return key.lower()


class AUC(Metric):
    """The approximate area under the ROC or PR curve.

    Counts true/false positives/negatives at `num_thresholds` thresholds and sums
    the curve between them.

    Args:
        num_thresholds: how many thresholds (> 1) to count at (default 200).
        curve: "ROC", "PR" (precision-recall) or "PRGAIN".
        summation_method: "interpolation" (trapezoids; for PR the Davis-Goadrich
            interpolation), "minoring" or "majoring" (left or right Riemann sums).
        name: the metric's name.
        dtype: the dtype of the result.
        thresholds: explicit thresholds in [0, 1] (then `num_thresholds` is ignored).
        multi_label: treat each column of 2-D inputs as a separate label and
            average their AUCs (else all entries are pooled).
        num_labels: the number of labels with `multi_label` (otherwise found on first use).
        label_weights: per-label weights: of the labels' AUCs with `multi_label`,
            of the counts otherwise.
        from_logits: whether `y_pred` holds logits (a sigmoid is applied).
    """

    def __init__(
        self, num_thresholds=200, curve="ROC", summation_method="interpolation", name=None, dtype=None,
        thresholds=None, multi_label=False, num_labels=None, label_weights=None, from_logits=False,
    ):  # fmt: skip
        self._direction = "up"
        self._init_from_thresholds = thresholds is not None
        if thresholds is not None:
            self.num_thresholds = len(thresholds) + 2
            thresholds = sorted(thresholds)
            self._thresholds_distributed_evenly = cm.is_evenly_distributed_thresholds(
                np.array([0.0] + thresholds + [1.0])
            )
        else:
            if num_thresholds <= 1:
                raise ValueError(
                    f"Argument `num_thresholds` must be an integer > 1. Received: num_thresholds={num_thresholds}"
                )
            self.num_thresholds = num_thresholds
            thresholds = [(i + 1) * 1.0 / (num_thresholds - 1) for i in range(num_thresholds - 2)]
            self._thresholds_distributed_evenly = True
        # The ends are moved out by epsilon so predictions of exactly 0 and 1 are counted.
        self._thresholds = [0.0 - config.epsilon()] + list(thresholds) + [1.0 + config.epsilon()]
        self.curve = _curve(curve)
        self.summation_method = _summation(summation_method)
        super().__init__(name=name, dtype=dtype)
        self.multi_label = multi_label
        self.num_labels = num_labels
        self.label_weights = None if label_weights is None else [float(w) for w in np.asarray(label_weights).ravel()]
        self._from_logits = from_logits
        self._built = False
        if self.multi_label:
            if num_labels:
                self._build([None, num_labels])
        else:
            if num_labels:
                raise ValueError("`num_labels` is needed only when `multi_label` is True.")
            self._build(None)

    @property
    def thresholds(self):
        """The thresholds, including the two outer ones (-epsilon and 1 + epsilon)."""
        return list(self._thresholds)

    def _build(self, shape):
        if self.multi_label:
            if len(shape) != 2:
                raise ValueError(
                    f"`y_pred` must have rank 2 when `multi_label=True`. Found rank {len(shape)}. "
                    f"Full shape received for `y_pred`: {shape}"
                )
            self._num_labels = shape[1]
            variable_shape = (self.num_thresholds, self._num_labels)
        else:
            variable_shape = (self.num_thresholds,)
        self._build_input_shape = shape
        self.true_positives = self.add_variable(shape=variable_shape, initializer="zeros", name="true_positives")
        self.false_positives = self.add_variable(shape=variable_shape, initializer="zeros", name="false_positives")
        self.true_negatives = self.add_variable(shape=variable_shape, initializer="zeros", name="true_negatives")
        self.false_negatives = self.add_variable(shape=variable_shape, initializer="zeros", name="false_negatives")
        self._built = True

    def _label_weights(self):
        if self.label_weights is None:
            return None
        return ops.convert_to_tensor(self.label_weights, dtype=self.true_positives.dtype)

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Adds the batch's (weighted) counts at each threshold."""
        y_pred = ops.convert_to_tensor(y_pred)
        if not self._built:
            self._build(static_shape(y_pred))
        if self._from_logits:
            y_pred = ops.sigmoid(y_pred)
        cm.update_confusion_matrix_variables(
            {cm.TRUE_POSITIVES: self.true_positives, cm.TRUE_NEGATIVES: self.true_negatives,
             cm.FALSE_POSITIVES: self.false_positives, cm.FALSE_NEGATIVES: self.false_negatives},
            y_true, y_pred, self._thresholds, thresholds_distributed_evenly=self._thresholds_distributed_evenly,
            sample_weight=sample_weight, multi_label=self.multi_label,
            label_weights=None if self.multi_label else self._label_weights(),
        )  # fmt: skip

    def _reduce(self, terms):
        if not self.multi_label:
            return ops.sum(terms)
        by_label = ops.sum(terms, axis=0)
        weights = self._label_weights()
        if weights is None:
            return ops.mean(by_label)
        return ops.divide_no_nan(ops.sum(ops.multiply(by_label, weights)), ops.sum(weights))

    def interpolate_pr_auc(self):
        """The PR AUC with Davis & Goadrich (2006) interpolation between thresholds."""
        head, tail = _head_tail(self.num_thresholds)
        tp, fp, fn = self.true_positives.value, self.false_positives.value, self.false_negatives.value
        dtp = ops.subtract(head(tp), tail(tp))
        p = ops.add(tp, fp)
        dp = ops.subtract(head(p), tail(p))
        prec_slope = ops.divide_no_nan(dtp, ops.maximum(dp, 0.0))
        intercept = ops.subtract(tail(tp), ops.multiply(prec_slope, tail(p)))
        both_positive = ops.logical_and(ops.greater(head(p), 0.0), ops.greater(tail(p), 0.0))
        p_ratio = ops.divide_no_nan(head(p), ops.maximum(tail(p), 0.0))
        safe_p_ratio = ops.where(both_positive, p_ratio, ops.ones_like(tail(p)))
        increment = ops.divide_no_nan(
            ops.multiply(prec_slope, ops.add(dtp, ops.multiply(intercept, ops.log(safe_p_ratio)))),
            ops.maximum(ops.add(tail(tp), tail(fn)), 0.0),
        )
        return self._reduce(increment)

    def result(self):
        """The area under the curve (averaged over labels with `multi_label`)."""
        if not self._built:
            return ops.zeros((), dtype=self.dtype)
        if self.curve == "PR" and self.summation_method == "interpolation":
            return self.interpolate_pr_auc()
        tp, fp = self.true_positives.value, self.false_positives.value
        tn, fn = self.true_negatives.value, self.false_negatives.value
        recall = ops.divide_no_nan(tp, ops.add(tp, fn))
        if self.curve == "ROC":
            x, y = ops.divide_no_nan(fp, ops.add(fp, tn)), recall
        elif self.curve == "PR":
            x, y = recall, ops.divide_no_nan(tp, ops.add(tp, fp))
        else:
            scaling = ops.divide_no_nan(ops.add(tp, fn), ops.add(tn, fp))
            recall_gain = ops.subtract(1.0, ops.multiply(scaling, ops.divide_no_nan(fn, tp)))
            precision_gain = ops.subtract(1.0, ops.multiply(scaling, ops.divide_no_nan(fp, tp)))
            no_tp = ops.equal(tp, 0.0)
            x = ops.maximum(ops.where(no_tp, 0.0, recall_gain), 0.0)
            y = ops.where(no_tp, 1.0, precision_gain)
        head, tail = _head_tail(self.num_thresholds)
        if self.summation_method == "interpolation":
            heights = ops.divide(ops.add(head(y), tail(y)), 2.0)
        elif self.summation_method == "minoring":
            heights = ops.minimum(head(y), tail(y))
        else:
            heights = ops.maximum(head(y), tail(y))
        return self._reduce(ops.multiply(ops.subtract(head(x), tail(x)), heights))

    def reset_state(self):
        """Sets the counts back to zero."""
        for variable in self.variables:
            variable.assign(ops.zeros(variable.shape, dtype=variable.dtype))

    def get_config(self):
        """Returns the constructor arguments (Keras 3 keys)."""
        config = {
            "num_thresholds": self.num_thresholds,
            "curve": self.curve,
            "summation_method": self.summation_method,
            "multi_label": self.multi_label,
            "num_labels": self.num_labels,
            "label_weights": self.label_weights,
            "from_logits": self._from_logits,
        }
        if self._init_from_thresholds:
            config["thresholds"] = self.thresholds[1:-1]
        return {**super().get_config(), **config}


def _head_tail(num_thresholds):
    head_key, tail_key = slice(None, num_thresholds - 1), slice(1, None)
    return (lambda x: ops.getitem(x, head_key)), (lambda x: ops.getitem(x, tail_key))
