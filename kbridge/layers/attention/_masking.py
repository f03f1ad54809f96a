"""Mask helpers shared by the attention layers (boolean masks: True = attend)."""

from kbridge import ops
from kbridge.backend.dtypes import standardize_dtype

# Keras's `Softmax` layer adds this to masked scores, then zeroes them after the softmax.
_ADDED_NEGATIVE = {"float16": -3e4}
# Keras's `dot_product_attention` replaces masked scores with this (no zeroing after).
_REPLACED_NEGATIVE = {"float16": -0.7 * 65504.0}


def check_int_arg(layer, name, value, allow_none=False):
    """Raises ValueError naming `layer` unless `value` is a positive int (or None if allowed)."""
    if allow_none and value is None:
        return value
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        expected = "a positive integer or `None`" if allow_none else "a positive integer"
        raise ValueError(
            f"{layer}: Received an invalid value for argument `{name}`, expected {expected}. "
            f"Received: {name}={value}"
        )
    return value


def as_bool(mask):
    """`mask` as a boolean tensor (None stays None)."""
    return None if mask is None else ops.cast(ops.convert_to_tensor(mask), "bool")


def and_masks(first, second):
    """Logical AND of two optional masks."""
    if first is None:
        return second
    return first if second is None else ops.logical_and(first, second)


def causal_mask(query_length, value_length):
    """Boolean `(1, T, S)` lower-triangular mask: query i sees keys j <= i."""
    rows = ops.reshape(ops.arange(query_length, dtype="int32"), (1, query_length, 1))
    cols = ops.reshape(ops.arange(value_length, dtype="int32"), (1, 1, value_length))
    return ops.greater_equal(rows, cols)


def sliding_window_mask(query_length, value_length, window):
    """Boolean `(1, T, S)` band: `|i - j| < window`."""
    rows = ops.reshape(ops.arange(query_length, dtype="int32"), (1, query_length, 1))
    cols = ops.reshape(ops.arange(value_length, dtype="int32"), (1, 1, value_length))
    return ops.less(ops.abs(ops.subtract(rows, cols)), window)


def combine_masks(query, value, query_mask, value_mask, key_mask, attention_mask, use_causal_mask, window=None):
    """The `(B, T, S)` boolean attention mask from the padding, causal and explicit masks, or None."""
    auto = None
    if query_mask is not None:
        auto = ops.expand_dims(as_bool(query_mask), -1)
    for mask in (value_mask, key_mask):
        if mask is not None:
            auto = and_masks(auto, ops.expand_dims(as_bool(mask), -2))
    if use_causal_mask or window is not None:
        q_len, v_len = ops.shape(query)[1], ops.shape(value)[1]
        if use_causal_mask:
            auto = and_masks(auto, causal_mask(q_len, v_len))
        if window is not None:
            auto = and_masks(auto, sliding_window_mask(q_len, v_len, window))
    return and_masks(as_bool(attention_mask), auto)


def mask_or_causal_flag(fused, query, value, query_mask, value_mask, key_mask, attention_mask, use_causal_mask,
                        window=None):  # fmt: skip
    """`(mask, is_causal)`: on the fused path a causal mask alone is not built but passed as
    `is_causal=True` to the backend's kernel (as Keras 3 does); otherwise the combined mask."""
    if fused and use_causal_mask and window is None and all(
        m is None for m in (query_mask, value_mask, key_mask, attention_mask)
    ):
        return None, True
    return combine_masks(query, value, query_mask, value_mask, key_mask, attention_mask, use_causal_mask, window), False


def expand_mask(mask, scores_rank, axis):
    """Inserts axes at `axis` until `mask` has `scores_rank` dims."""
    for _ in range(scores_rank - len(mask.shape)):
        mask = ops.expand_dims(mask, axis)
    return mask


def masked_softmax(scores, mask, axes, zero_masked):
    """Softmax over `axes` with masked positions left out.

    Args:
        scores: the attention logits.
        mask: boolean mask broadcastable to `scores`, or None.
        axes: tuple of the normalized axes.
        zero_masked: True: Keras's `Softmax` layer (masked scores get -1e9 added, and
            are zeroed after, so a fully masked row is all zeros); False: Keras's
            `dot_product_attention` (masked scores are replaced by a huge negative
            number, so a fully masked row is uniform).
    """
    dtype = standardize_dtype(ops.dtype(scores))
    if mask is not None:
        if zero_masked:
            adder = ops.multiply(ops.subtract(1.0, ops.cast(mask, dtype)), _ADDED_NEGATIVE.get(dtype, -1e9))
            scores = ops.add(scores, adder)
        else:
            scores = ops.where(mask, scores, _REPLACED_NEGATIVE.get(dtype, -0.7 * 3.4028234663852886e38))
    if len(axes) > 1:
        probs = ops.exp(ops.subtract(scores, ops.logsumexp(scores, axis=axes, keepdims=True)))
    else:
        probs = ops.softmax(scores, axis=axes[0])
    if mask is not None and zero_masked:
        probs = ops.multiply(probs, ops.cast(mask, dtype))
    return probs
