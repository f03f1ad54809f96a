"""Shape and weighting helpers shared by the metrics (private)."""

from kbridge import ops


def static_shape(x):
    """The shape of `x` with every size unknown while tracing as None."""
    return tuple(d if type(d) is int else None for d in ops.shape(x))


def squeeze_or_expand_to_same_rank(x1, x2, expand_rank_1=True):
    """Squeezes (or, for rank 1, expands) a trailing size-1 axis so `x1` and `x2` have one rank."""
    shape1, shape2 = static_shape(x1), static_shape(x2)
    if len(shape1) == len(shape2) + 1 and shape1[-1] == 1:
        if len(shape2) == 1 and expand_rank_1:
            x2 = ops.expand_dims(x2, axis=-1)
        else:
            x1 = ops.squeeze(x1, axis=-1)
    elif len(shape2) == len(shape1) + 1 and shape2[-1] == 1:
        if len(shape1) == 1 and expand_rank_1:
            x1 = ops.expand_dims(x1, axis=-1)
        else:
            x2 = ops.squeeze(x2, axis=-1)
    return x1, x2


def reduce_to_samplewise_values(values, sample_weight, reduce_fn, dtype):
    """Reduces `values` to one value per sample, weighted by `sample_weight`.

    Returns:
        `(values, sample_weight)`: values of rank <= 1 already multiplied by the
        weight, and the weight reduced the same way (None when not given).
    """
    values = ops.cast(ops.convert_to_tensor(values), dtype)
    if sample_weight is not None:
        sample_weight = ops.cast(ops.convert_to_tensor(sample_weight), dtype)
        values, sample_weight = squeeze_or_expand_to_same_rank(values, sample_weight)
        weight_ndim = len(static_shape(sample_weight))
        values_ndim = len(static_shape(values))
        if values_ndim > weight_ndim:
            values = reduce_fn(values, axis=tuple(range(weight_ndim, values_ndim)))
        # Broadcasting changes the weight's own reduction below, not the product.
        sample_weight = ops.broadcast_to(sample_weight, ops.shape(values))
        values = ops.multiply(values, sample_weight)
        if weight_ndim > 1:
            sample_weight = reduce_fn(sample_weight, axis=tuple(range(1, weight_ndim)))
    values_ndim = len(static_shape(values))
    if values_ndim > 1:
        values = reduce_fn(values, axis=tuple(range(1, values_ndim)))
    return values, sample_weight


def apply_mask(sample_weight, mask, dtype):
    """Multiplies `sample_weight` (or ones) by a boolean `mask` (entries outside it weigh 0)."""
    mask = ops.cast(mask, dtype)
    if sample_weight is None:
        return mask
    sample_weight = ops.cast(ops.convert_to_tensor(sample_weight), dtype)
    mask, sample_weight = squeeze_or_expand_to_same_rank(mask, sample_weight)
    return ops.multiply(sample_weight, mask)


def to_list(x):
    """`x` as a list (a scalar becomes a one-element list)."""
    if isinstance(x, (list, tuple)):
        return list(x)
    return [x]
