"""Metric-learning losses on embeddings: Circle loss."""

from kbridge import ops
from kbridge.losses.loss import BuiltinLoss, loss_function


def _pos_neg_masks(query_labels, key_labels, remove_diagonal):
    if len(ops.shape(query_labels)) == 1:
        query_labels = ops.reshape(query_labels, (-1, 1))
    if len(ops.shape(key_labels)) == 1:
        key_labels = ops.reshape(key_labels, (-1, 1))
    positive = ops.equal(query_labels, ops.transpose(key_labels))
    negative = ops.logical_not(positive)
    if remove_diagonal:
        rows, cols = ops.shape(positive)
        positive = ops.logical_and(positive, ops.logical_not(ops.eye(rows, cols, dtype="bool")))
    return positive, negative


@loss_function
def circle(y_true, y_pred, ref_labels=None, ref_embeddings=None, remove_diagonal=True, gamma=80, margin=0.4):
    """Circle loss of L2-normalized embeddings `y_pred` with integer labels `y_true`.

    Pairs with equal labels are pulled together and others pushed apart, each weighted by
    how far it is from its optimum (Sun et al., 2020).

    Args:
        y_true: integer labels, shape `(batch,)`.
        y_pred: embeddings, shape `(batch, dim)`, L2-normalized.
        ref_labels: labels of the reference embeddings (default: `y_true`).
        ref_embeddings: reference embeddings (default: `y_pred`).
        remove_diagonal: leave each sample's pair with itself out of the positives.
        gamma: the scale factor.
        margin: the relaxation factor.
    """
    y_pred = ops.convert_to_tensor(y_pred)
    y_true = ops.cast(y_true, "int32")
    ref_embeddings = y_pred if ref_embeddings is None else ops.convert_to_tensor(ref_embeddings)
    ref_labels = y_true if ref_labels is None else ops.cast(ref_labels, "int32")
    distances = ops.maximum(ops.subtract(1.0, ops.matmul(y_pred, ops.transpose(ref_embeddings))), 0.0)
    positive, negative = _pos_neg_masks(y_true, ref_labels, remove_diagonal)
    dtype = ops.dtype(distances)
    pos_weights = ops.maximum(ops.multiply(ops.add(distances, margin), ops.cast(positive, dtype)), 0.0)
    neg_weights = ops.maximum(ops.multiply(ops.subtract(1.0 + margin, distances), ops.cast(negative, dtype)), 0.0)
    pos_logits = ops.multiply(ops.multiply(pos_weights, ops.subtract(margin, distances)), -float(gamma))
    neg_logits = ops.multiply(ops.multiply(neg_weights, ops.subtract(1.0 - margin, distances)), float(gamma))
    minus_inf = ops.full_like(distances, float("-inf"))
    p_loss = ops.logsumexp(ops.where(positive, pos_logits, minus_inf), axis=1)
    n_loss = ops.logsumexp(ops.where(negative, neg_logits, minus_inf), axis=1)
    return ops.softplus(ops.add(p_loss, n_loss))


class Circle(BuiltinLoss):
    """Circle loss for metric learning; the average runs over the samples with a positive loss.

    Args:
        gamma: the scale factor.
        margin: the relaxation factor.
        remove_diagonal: leave each sample's pair with itself out of the positives.
        reduction: see `Loss`.
        name: the loss's name.
        dtype: the dtype of the computation.
    """

    def __init__(self, gamma=80.0, margin=0.4, remove_diagonal=True, reduction="sum_over_batch_size", name="circle",
                 dtype=None):  # fmt: skip
        super().__init__(circle, name=name, reduction=reduction, dtype=dtype, gamma=gamma, margin=margin,
                         remove_diagonal=remove_diagonal)  # fmt: skip

    def _losses_and_mask(self, y_true, y_pred):
        losses = self.call(y_true, y_pred)
        return losses, ops.greater(losses, 0.0)
