"""`kbridge.Variable`: a named, typed piece of model state holding one backend's array."""

import numpy as np

from kbridge.backend import dispatch, registry
from kbridge.backend._state import state
from kbridge.backend.dtypes import standardize_dtype
from kbridge.backend.operators import TensorOperators

# Bumped whenever any variable is created or has its `trainable` flag set, so a trainer
# can keep its variable lists until one of them may have changed.
_trainable_flag_changes = 0


def trainable_flag_changes():
    """A counter that changes whenever a variable is created or its `trainable` flag is set."""
    return _trainable_flag_changes


class Variable(TensorOperators):
    """A model variable whose value is a native array of one backend (DESIGN.md invariant 5).

    Args:
        initializer: an initial value (array-like) or an initializer (object, or
            string name such as "glorot_uniform") called with `shape` and `dtype`.
        shape: required when `initializer` is callable.
        dtype: dtype name; defaults to the value's dtype or `kbridge.config.floatx()`.
        trainable: whether optimizers update it.
        autocast: whether mixed-precision layers may read it in their compute dtype.
        aggregation, synchronization: accepted for Keras compatibility
            (used by distribution strategies).
        name: the variable's name within its layer, e.g. "kernel".

    Attributes:
        path: the structural path within the model that built it last
            (e.g. "layers.1.kernel"); identical for every build of one architecture.
    """

    def __init__(
        self,
        initializer,
        shape=None,
        dtype=None,
        trainable=True,
        autocast=True,
        aggregation="none",
        synchronization="auto",
        name=None,
    ):
        name = name or "variable"
        if not isinstance(name, str) or "." in name or "/" in name:
            raise ValueError(f"Variable name must be a string without '.' or '/', received {name!r}")
        self.name = name
        self.path = name
        self.trainable = trainable
        self.autocast = autocast
        self.aggregation = aggregation
        self.synchronization = synchronization
        self.constraint = None
        self.regularizer = None
        self._backend = backend = dispatch.current_backend()
        value = self._initial_value(initializer, shape, dtype, backend)
        self._value = backend.variable_storage(value, self.trainable)
        self._shape = tuple(int(d) for d in backend.shape(self._value))

    @property
    def trainable(self):
        """Whether optimizers update this variable."""
        return self._trainable

    @trainable.setter
    def trainable(self, value):
        global _trainable_flag_changes
        self._trainable = bool(value)
        _trainable_flag_changes += 1

    def _initial_value(self, initializer, shape, dtype, backend):
        saved = state.ops, state.scope
        state.ops, state.scope = backend, None
        try:
            if isinstance(initializer, str) or (callable(initializer) and not _is_array_like(initializer)):
                if shape is None:
                    raise ValueError(f"Variable {self.name!r}: `shape` is required with a callable initializer.")
                if isinstance(initializer, str):
                    from kbridge import initializers

                    initializer = initializers.get(initializer)
                dtype = standardize_dtype(dtype)
                # Initial values are computed with NumPy: kbridge.random gives the same
                # numbers on every backend, and eager JAX would compile each op per shape.
                numpy_backend = registry.get("numpy")
                state.ops = numpy_backend
                value = initializer(tuple(_as_int(d, self.name) for d in shape), dtype=dtype)
                state.ops = backend
                owner = registry.backend_of_type(type(value))
                if owner is not None and owner is not backend and owner is not numpy_backend:
                    value = owner.convert_to_numpy(value)
                value = backend.convert_to_tensor(value, dtype=dtype)
            else:
                if dtype is None:
                    dtype = _default_value_dtype(initializer)
                value = backend.convert_to_tensor(initializer, dtype=None if dtype is None else standardize_dtype(dtype))
                if shape is not None and tuple(backend.shape(value)) != tuple(shape):
                    raise ValueError(
                        f"Variable {self.name!r}: initial value has shape {tuple(backend.shape(value))}, "
                        f"expected {tuple(shape)}"
                    )
        finally:
            state.ops, state.scope = saved
        return value

    # -- reading ---------------------------------------------------------------------------

    @property
    def value(self):
        """The current value: the native array (or its override inside a stateless call)."""
        scope = state.scope
        if scope is None:
            return self._value
        value = scope.get(self)
        return state.scope_fallback(self) if value is None else value

    def _as_operand(self):
        return self.value

    def numpy(self):
        """Returns a copy of the value as a NumPy array (never a view of live storage)."""
        # torch and tf assign in place: a view would change under the caller's feet.
        return np.array(self._backend.convert_to_numpy(self._value), copy=True)

    def __array__(self, dtype=None, copy=None):
        array = self.numpy()
        return array if dtype is None else array.astype(dtype)

    @property
    def shape(self):
        """The shape as a tuple of ints."""
        return self._shape

    @property
    def dtype(self):
        """The dtype name, e.g. "float32"."""
        return self._backend.dtype(self._value)

    @property
    def ndim(self):
        """The number of dimensions."""
        return len(self.shape)

    @property
    def backend(self):
        """The name of the backend the value lives on."""
        return self._backend.NAME

    # -- writing ---------------------------------------------------------------------------

    def assign(self, value):
        """Sets the value; inside a stateless call the new value is recorded there instead."""
        scope = state.scope
        if scope is not None:
            scope[self] = value
            return value
        # Native dtypes compared first: the standard names cost a look-up each.
        if not self._backend.is_tensor(value) or value.dtype != self._value.dtype:
            value = self._backend.convert_to_tensor(value, dtype=self.dtype)
        shape = tuple(self._backend.shape(value))
        # Only static shapes are compared: a traced dim (tf.function) cannot be tested in Python.
        if all(type(d) is int for d in shape) and shape != self._shape:
            raise ValueError(f"Variable {self.path}: cannot assign a value of shape {shape} to a variable of shape {self._shape}.")
        self._value = self._backend.variable_assign(self._value, value)
        return value

    def assign_add(self, value):
        """Adds `value` to the variable."""
        add_in_place = getattr(self._backend, "variable_assign_add", None)  # optional backend hook
        if add_in_place is not None and state.scope is None and self._adds_in_place(value):
            self._value = add_in_place(self._value, value)
            return self._value
        self._check_addable(value)
        return self.assign(self._add(self.value, value))

    def _check_addable(self, value):
        """Raises a `ValueError` when `value`'s static shape cannot broadcast to the variable's."""
        shape = getattr(value, "shape", None)
        if shape is None or not all(type(d) is int for d in tuple(shape)):
            return
        shape = tuple(shape)
        if len(shape) > len(self._shape) or any(
            d not in (1, own) for d, own in zip(reversed(shape), reversed(self._shape))
        ):
            raise ValueError(
                f"Variable {self.path}: cannot add a value of shape {shape} to a variable of shape {self._shape}."
            )

    def _adds_in_place(self, value):
        """Whether `value` adds to the storage without changing its dtype or shape."""
        if type(value) in (int, float):
            return self.dtype.startswith("float")
        return self._backend.is_tensor(value) and value.dtype == self._value.dtype and tuple(value.shape) == self._shape

    def assign_sub(self, value):
        """Subtracts `value` from the variable."""
        self._check_addable(value)
        return self.assign(self._add(self.value, self._backend.negative(value)))

    def _add(self, a, b):
        return (state.ops if state.scope is not None else self._backend).add(a, b)

    def to_backend(self, name):
        """Moves the value to backend `name` (exact, through NumPy). Returns self."""
        target = registry.get(name)
        if target is not self._backend:
            array = self.numpy()
            self._backend = target
            self._value = target.variable_storage(target.convert_to_tensor(array), self.trainable)
        return self

    def __repr__(self):
        return f"<Variable path={self.path} shape={self.shape} dtype={self.dtype} backend={self.backend}>"

    # Variables are hashed by identity: they key stateless-call scopes. A Python-level
    # __hash__ (not object.__hash__, a C slot) is what torch.compile can trace.
    def __hash__(self):
        return id(self)

    def __int__(self):
        return int(self.numpy())

    def __float__(self):
        return float(self.numpy())

    def __bool__(self):
        return bool(self.numpy())

    def __eq__(self, other):
        return self is other


def _default_value_dtype(value):
    """Keras 3's dtype for an initial value given without `dtype`: float64 -> floatx, int64 -> int32."""
    from kbridge import config

    if isinstance(value, bool) or getattr(value, "dtype", None) == np.bool_:
        return None
    if isinstance(value, float) or getattr(value, "dtype", None) == np.float64:
        return config.floatx()
    if isinstance(value, int) or getattr(value, "dtype", None) == np.int64:
        return "int32"
    if isinstance(value, (list, tuple)):
        return _default_value_dtype(np.asarray(value))
    return None


def _is_array_like(value):
    return hasattr(value, "shape") and hasattr(value, "dtype")


def _as_int(dim, name):
    if dim is None:
        raise ValueError(f"Variable {name!r}: shape must be fully defined, received a None dimension.")
    return int(dim)
