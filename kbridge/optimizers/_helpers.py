"""Argument checks and gradient math shared by the optimizers."""

import warnings

from kbridge import ops


def check_arguments(
    kwargs, gradient_accumulation_steps, use_ema, ema_momentum, ema_overwrite_frequency, clipnorm, clipvalue,
    global_clipnorm,
):  # fmt: skip
    """Validates the base `Optimizer` arguments with Keras 3's messages."""
    if kwargs.pop("decay", None) is not None:
        warnings.warn("Argument `decay` is no longer supported and will be ignored.", stacklevel=4)
    if kwargs:
        raise ValueError(f"Argument(s) not recognized: {kwargs}")
    if gradient_accumulation_steps is not None and (
        not isinstance(gradient_accumulation_steps, int) or gradient_accumulation_steps < 2
    ):
        raise ValueError(
            "`gradient_accumulation_steps` must be an integer >= 2. "
            f"Received: gradient_accumulation_steps={gradient_accumulation_steps}"
        )
    if use_ema:
        if not 0 <= ema_momentum <= 1:
            raise ValueError(f"`ema_momentum` must be in the range [0, 1]. Received: ema_momentum={ema_momentum}")
        if ema_overwrite_frequency and (not isinstance(ema_overwrite_frequency, int) or ema_overwrite_frequency < 1):
            raise ValueError(
                "`ema_overwrite_frequency` must be an integer >= 1 or None. "
                f"Received: ema_overwrite_frequency={ema_overwrite_frequency}"
            )
    if sum(a is not None for a in (clipnorm, clipvalue, global_clipnorm)) > 1:
        raise ValueError(
            "Only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be set. Received: "
            f"clipnorm={clipnorm}, clipvalue={clipvalue}, global_clipnorm={global_clipnorm}"
        )


def clip_by_norm(values, clipnorm):
    """Scales `values` so that its L2 norm is at most `clipnorm`."""
    l2sum = ops.sum(ops.square(values), keepdims=True)
    positive = ops.greater(l2sum, 0)
    # Two wheres keep the gradient of sqrt finite at zero (as Keras 3).
    l2norm = ops.where(positive, ops.sqrt(ops.where(positive, l2sum, ops.ones_like(l2sum))), l2sum)
    return ops.divide(ops.multiply(values, clipnorm), ops.maximum(l2norm, clipnorm))


class PerDtype(dict):
    """Per-step constants computed once per dtype (most models have one)."""

    def __init__(self, compute):
        super().__init__()
        self._compute = compute

    def __missing__(self, dtype):
        value = self[dtype] = self._compute(dtype)
        return value


def global_norm(value_list):
    """The L2 norm of all tensors in `value_list` together (None entries skipped)."""
    return ops.sqrt(ops.sum(ops.stack([ops.sum(ops.square(v)) for v in value_list if v is not None])))


def clip_by_global_norm(value_list, clip_norm):
    """Scales `value_list` so that its global norm is at most `clip_norm` (NaN if the norm is not finite)."""
    norm = global_norm(value_list)
    scale = ops.multiply(clip_norm, ops.minimum(ops.divide(1.0, norm), 1.0 / clip_norm))
    # Adding (norm - norm) turns the scale into NaN when the norm is inf or NaN, as Keras 3.
    scale = ops.add(scale, ops.subtract(norm, norm))
    return [v if v is None else ops.multiply(v, scale) for v in value_list]


def floatx():
    from kbridge import config

    return config.floatx()


def float_rate(learning_rate):
    # Python and NumPy numbers, and 0-d arrays; Keras 3 takes Python floats only.
    is_number = isinstance(learning_rate, (int, float)) or getattr(learning_rate, "shape", None) == ()
    if isinstance(learning_rate, bool) or not is_number:
        raise ValueError(
            "Argument `learning_rate` should be float, or an instance of LearningRateSchedule, or a callable (that "
            "takes in the current iteration value and returns the corresponding learning rate value). "
            f"Received instead: learning_rate={learning_rate}"
        )
    return float(learning_rate)
