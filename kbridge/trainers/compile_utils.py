"""What `compile` turns its `loss` and `metrics` arguments into, for one or many outputs."""

from kbridge import losses as losses_module
from kbridge import metrics as metrics_module
from kbridge import ops
from kbridge.utils import tree


def _flat_outputs(structure, output_names):
    """Returns outputs as a list aligned with `output_names` (dicts looked up by name)."""
    if isinstance(structure, dict):
        return [structure[name] for name in output_names]
    return tree.flatten(structure)


def _per_output(argument, output_names, what):
    """Spreads a compile argument over the outputs: one entry per output (None if absent).

    A dict is keyed by output name (unknown names raise); a list/tuple gives one entry
    per output; anything else applies to the single output.
    """
    count = len(output_names)
    if isinstance(argument, dict):
        unknown = sorted(set(argument) - set(output_names))
        if unknown:
            raise ValueError(
                f"compile: `{what}` names output(s) {unknown} that the model does not have. "
                f"The model's outputs are {output_names}."
            )
        return [argument.get(name) for name in output_names]
    if isinstance(argument, (list, tuple)) and count > 1:
        if len(argument) != count:
            raise ValueError(
                f"compile: `{what}` has {len(argument)} entries but the model has {count} outputs {output_names}."
            )
        return list(argument)
    if count > 1 and argument is not None and what == "loss":
        return [argument] * count
    return [argument] + [None] * (count - 1)


def _per_output_weights(sample_weight, output_names):
    """Sample weights as one entry per output: a list/tuple as is, a dict by output name,
    anything else (one array, or None) shared by every output."""
    if isinstance(sample_weight, dict):
        return [sample_weight.get(name) for name in output_names]
    if isinstance(sample_weight, (list, tuple)):
        return list(sample_weight)
    return [sample_weight] * len(output_names)


def _as_loss(identifier):
    loss = losses_module.get(identifier)
    if isinstance(loss, losses_module.Loss):
        return loss
    # A loss function (what `get("mse")` returns, as in Keras): averaged over the batch.
    return losses_module.LossFunctionWrapper(loss, name=getattr(loss, "__name__", None))


class CompileLoss:
    """The total loss of `compile(loss=..., loss_weights=...)`: a weighted sum over outputs."""

    def __init__(self, loss, loss_weights, output_names):
        self.output_names = list(output_names)
        entries = _per_output(loss, self.output_names, "loss")
        weights = _per_output(loss_weights, self.output_names, "loss_weights") if loss_weights is not None else None
        self.losses = [None if entry is None else _as_loss(entry) for entry in entries]
        self.weights = [1.0 if w is None else float(w) for w in weights] if weights else [1.0] * len(entries)
        if all(entry is None for entry in self.losses):
            raise ValueError("compile: `loss` resolves to no loss for any output.")

    def __call__(self, y_true, y_pred, sample_weight=None):
        """Returns (total, per-output losses dict) for batch targets and predictions."""
        names = self.output_names
        trues = _flat_outputs(y_true, names) if len(names) > 1 else [y_true]
        preds = _flat_outputs(y_pred, names) if len(names) > 1 else [y_pred]
        weights = _per_output_weights(sample_weight, names)
        total = None
        parts = {}
        for name, loss, weight, true, pred, sw in zip(names, self.losses, self.weights, trues, preds, weights):
            if loss is None:
                continue
            value = loss(true, pred, sample_weight=sw)
            parts[name] = value
            scaled = value if weight == 1.0 else ops.multiply(value, weight)
            total = scaled if total is None else ops.add(total, scaled)
        return total, parts


class CompileMetrics:
    """The metrics of `compile(metrics=..., weighted_metrics=...)`, built on the first batch.

    String shortcuts ("accuracy", "mae", ...) resolve as Keras does, from the loss
    and the target/prediction shapes, which are known only once data is seen.
    """

    def __init__(self, metrics, weighted_metrics, output_names, losses):
        self.output_names = list(output_names)
        self._metrics_arg = metrics
        self._weighted_arg = weighted_metrics
        self._losses = losses
        self.built = False
        self.metrics = []  # (output index, metric, weighted)

    def build(self, y_true, y_pred):
        """Creates the metric objects for targets/predictions shaped like `y_true`/`y_pred`."""
        names = self.output_names
        trues = _flat_outputs(y_true, names) if len(names) > 1 else [y_true]
        preds = _flat_outputs(y_pred, names) if len(names) > 1 else [y_pred]
        for argument, weighted in ((self._metrics_arg, False), (self._weighted_arg, True)):
            if argument is None:
                continue
            what = "weighted_metrics" if weighted else "metrics"
            if len(names) > 1 and not isinstance(argument, (dict, list, tuple)):
                argument = [argument]
            per_output = _per_output(argument, names, what) if len(names) > 1 else [argument]
            for index, entry in enumerate(per_output):
                for item in ([] if entry is None else entry if isinstance(entry, (list, tuple)) else [entry]):
                    metric = metrics_module.shortcuts.resolve_metric(
                        item, loss=self._losses[index] if index < len(self._losses) else None,
                        y_true=trues[index], y_pred=preds[index],
                    )  # fmt: skip
                    if len(names) > 1:
                        metric.name = f"{names[index]}_{metric.name}"
                    self.metrics.append((index, metric, weighted))
        self.built = True

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Updates every metric with one batch."""
        names = self.output_names
        trues = _flat_outputs(y_true, names) if len(names) > 1 else [y_true]
        preds = _flat_outputs(y_pred, names) if len(names) > 1 else [y_pred]
        weights = _per_output_weights(sample_weight, names)
        for index, metric, weighted in self.metrics:
            metric.update_state(trues[index], preds[index], sample_weight=weights[index] if weighted else None)
