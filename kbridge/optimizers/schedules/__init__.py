"""`kbridge.optimizers.schedules`: learning-rate schedules as Keras 3 names them."""

from kbridge.optimizers.schedules.learning_rate_schedule import (
    ALL_OBJECTS_DICT,
    CosineDecay,
    CosineDecayRestarts,
    ExponentialDecay,
    InverseTimeDecay,
    LearningRateSchedule,
    PiecewiseConstantDecay,
    PolynomialDecay,
    deserialize,
    serialize,
)

__all__ = [
    "ALL_OBJECTS_DICT", "CosineDecay", "CosineDecayRestarts", "ExponentialDecay", "InverseTimeDecay",
    "LearningRateSchedule", "PiecewiseConstantDecay", "PolynomialDecay", "deserialize", "serialize",
]  # fmt: skip
