"""Dropout masks shared by every timestep of one recurrent call (Keras's `DropoutRNNCell`)."""

from kbridge import ops
from kbridge import random as kb_random
from kbridge.random.seed_generator import make_default_seed


class DropoutRNNCell:
    """Mixin of the built-in cells: input and recurrent dropout masks.

    The `RNN` layer draws the masks once before its time loop (`_cache_dropout_masks`)
    so the loop body is pure and all timesteps share them; it clears them afterwards.
    A cell called on its own draws fresh masks. With `recurrent_dropout > 0` there is
    one mask per gate (Keras's `implementation=1`), else one mask for all gates.
    """

    _GATES = 1

    def _init_dropout(self, dropout, recurrent_dropout, seed):
        self.dropout = min(1.0, max(0.0, dropout))
        self.recurrent_dropout = min(1.0, max(0.0, recurrent_dropout))
        self.seed = seed
        self._generator_seed = seed if seed is not None else make_default_seed()
        self.seed_generator = None
        self._dropout_mask = None
        self._recurrent_dropout_mask = None

    def _build_dropout(self):
        if (self.dropout > 0 or self.recurrent_dropout > 0) and self.seed_generator is None:
            self.seed_generator = kb_random.SeedGenerator(self._generator_seed)

    def _mask_count(self):
        return self._GATES if self.recurrent_dropout > 0 and self._GATES > 1 else None

    def _draw(self, like, rate):
        ones = ops.ones_like(like)
        count = self._mask_count()
        if count is None:
            return kb_random.dropout(ones, rate, seed=self.seed_generator)
        return [kb_random.dropout(ones, rate, seed=self.seed_generator) for _ in range(count)]

    def get_dropout_mask(self, step_input):
        """The input dropout mask (a tensor, or one per gate), or None without dropout."""
        if self._dropout_mask is not None:
            return self._dropout_mask
        return self._draw(step_input, self.dropout) if 0.0 < self.dropout < 1.0 else None

    def get_recurrent_dropout_mask(self, state):
        """The recurrent dropout mask (a tensor, or one per gate), or None without dropout."""
        if self._recurrent_dropout_mask is not None:
            return self._recurrent_dropout_mask
        return self._draw(state, self.recurrent_dropout) if 0.0 < self.recurrent_dropout < 1.0 else None

    def _cache_dropout_masks(self, step_input, state):
        self._dropout_mask = self._recurrent_dropout_mask = None
        self._dropout_mask = self.get_dropout_mask(step_input)
        self._recurrent_dropout_mask = self.get_recurrent_dropout_mask(state)

    def reset_dropout_mask(self):
        """Forgets the cached input mask."""
        self._dropout_mask = None

    def reset_recurrent_dropout_mask(self):
        """Forgets the cached recurrent mask."""
        self._recurrent_dropout_mask = None


def gated_matmul(x, mask, kernel, gates):
    """`x @ kernel` with dropout: `mask` is None, one tensor, or one tensor per gate (kernel split by columns)."""
    if mask is None:
        return ops.matmul(x, kernel)
    if not isinstance(mask, (list, tuple)):
        return ops.matmul(ops.multiply(x, mask), kernel)
    parts = ops.split(kernel, gates, axis=-1)
    return ops.concatenate([ops.matmul(ops.multiply(x, m), k) for m, k in zip(mask, parts)], axis=-1)


def check_units(cls_name, units):
    """Raises ValueError unless `units` is a positive int."""
    if isinstance(units, bool) or not isinstance(units, int) or units <= 0:
        raise ValueError(
            f"{cls_name}: `units` must be a positive int; received {units!r}"
        )
    return units
