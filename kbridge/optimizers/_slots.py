"""`SlotTracker`: how an optimizer creates and names its variables (paths in `optimizer.py`'s docstring)."""

from kbridge.backend import registry
from kbridge.backend._state import state
from kbridge.optimizers._helpers import floatx
from kbridge.tracking import Trackable
from kbridge.variables import Variable


class SlotTracker(Trackable):
    """Base of `Optimizer`: an ordered list of non-trainable variables with structural paths.

    Subclasses call `_init_tracking(backend)` (the backend new variables are created on)
    before creating variables.
    """

    # Optimizer state is neither a model weight nor in a parent's `variables` (as Keras 3).
    _HOLDS_WEIGHTS = False
    _IN_PARENT_VARIABLES = False

    def _init_tracking(self, backend):
        self._variables = []
        self._paths = []
        self._taken_paths = set()
        self._backend = backend

    def add_variable(self, shape, initializer="zeros", dtype=None, aggregation="none", layout=None, name=None):
        """Creates an optimizer variable (not trainable) at path `name` and returns it.

        Args:
            shape: the shape.
            initializer: initializer name or object, or an initial value.
            dtype: default `floatx()`.
            aggregation: accepted for Keras compatibility.
            layout: accepted for Keras compatibility.
            name: the variable's name and path.
        """
        return self._track(name or "variable", name or "variable", initializer, shape, dtype, aggregation)

    def add_variable_from_reference(self, reference_variable, name=None, initializer="zeros"):
        """Creates a slot shaped like `reference_variable`, at path `<name>.<reference path>`."""
        name = name or "var"
        path = f"{name}.{getattr(reference_variable, 'path', None) or reference_variable.name}"
        return self._track(
            name, path, initializer, tuple(reference_variable.shape), reference_variable.dtype, "none"
        )  # fmt: skip

    def add_optimizer_variables(self, trainable_variables, name, initializer="zeros"):
        """Creates slots for every variable (interleaved per variable, as Keras 3).

        Args:
            trainable_variables: the model variables.
            name: a slot name, or a list of them.
            initializer: one initializer, or one per name.

        Returns:
            A list of slots (None for `overwrite_with_gradient` variables), or a tuple
            of such lists when `name` is a list.
        """
        names = [name] if isinstance(name, str) else list(name)
        inits = initializer if isinstance(initializer, (list, tuple)) else [initializer] * len(names)
        if len(names) != len(inits):
            raise ValueError(
                f"The number of provided names must match the number of provided initializers. "
                f"Received name='{name}', initializer='{initializer}'"
            )
        lists = tuple([] for _ in names)
        for variable in trainable_variables:
            skip = getattr(variable, "overwrite_with_gradient", False)
            for out, slot_name, init in zip(lists, names, inits):
                out.append(None if skip else self.add_variable_from_reference(variable, slot_name, init))
        return lists[0] if isinstance(name, str) else lists

    def _track(self, name, path, initializer, shape, dtype, aggregation):
        if path in self._taken_paths:
            count = 1
            while f"{path}_{count}" in self._taken_paths:
                count += 1
            path = f"{path}_{count}"
        shape = tuple(shape)
        saved = state.backend
        state.backend = self._backend
        try:
            if isinstance(initializer, (int, float)) and not isinstance(initializer, bool) and shape != ():
                from kbridge import initializers

                initializer = initializers.Constant(initializer)
            variable = Variable(
                initializer, shape=shape, dtype=dtype or floatx(), trainable=False, aggregation=aggregation, name=name
            )  # fmt: skip
        finally:
            state.backend = saved
        variable.path = path
        self._variables.append(variable)
        self._paths.append(path)
        self._taken_paths.add(path)
        return variable

    def _untrack_variable(self, variable):
        for index, tracked in enumerate(self._variables):
            if tracked is variable:
                self._taken_paths.discard(self._paths[index])
                del self._variables[index], self._paths[index]
                return

    @property
    def variables(self):
        """All optimizer state (`iteration`, `learning_rate`, slots), in creation order."""
        return self._variables[:]

    def named_variables(self, prefix="", weights_only=False, include_all=False, _seen=None):
        """Returns [(path, variable)] for the optimizer's variables (none when `weights_only`)."""
        if weights_only:
            return []
        seen = set() if _seen is None else _seen
        out = []
        for path, variable in zip(self._paths, self._variables):
            if id(variable) not in seen:
                seen.add(id(variable))
                out.append((prefix + path, variable))
        return out

    def to_backend(self, name):
        """Moves every optimizer variable to backend `name` (exactly, through NumPy). Returns self."""
        self._backend = registry.get(name)
        for variable in self._variables:
            variable.to_backend(self._backend.NAME)
        return self
