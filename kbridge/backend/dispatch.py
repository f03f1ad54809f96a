"""Top-level op dispatch and backend scopes.

Inside a layer call or a `use()` scope, `kbridge.ops.*` forwards straight to a
backend module. Outside them it forwards to `AUTO`, which picks the backend from
the arguments' types (a type-keyed dict look-up), so `ops.add(torch_tensor, 1)`
returns a torch tensor whatever the default backend is.
"""

import contextlib

from kbridge.backend import registry
from kbridge.backend._state import DEFAULTS as _state_defaults
from kbridge.backend._state import state


def _leaves(value, out):
    if isinstance(value, (list, tuple)):
        for item in value:
            _leaves(item, out)
    elif isinstance(value, dict):
        for item in value.values():
            _leaves(item, out)
    else:
        out.append(value)
    return out


def default_backend():
    """Returns the backend module named by `kbridge.config.backend()`."""
    from kbridge import config

    return registry.get(config.backend())


def backend_for(values):
    """Returns the backend of the framework tensors among `values` (nested), or None.

    NumPy arrays and Python scalars belong to no framework. Tensors of two
    frameworks at once raise a `ValueError`.
    """
    global _VARIABLE
    if _VARIABLE is None:
        from kbridge.variables import Variable as _VARIABLE  # noqa: N811 - late: variables imports us
    found = None
    for leaf in _leaves(values, []):
        leaf_type = type(leaf)
        if leaf_type in _NEUTRAL_TYPES:
            continue
        if isinstance(leaf, _VARIABLE):
            module = leaf._backend
        else:
            module = registry.backend_of_type(leaf_type)
            if module is None or module.NAME == "numpy":
                continue
        if found is None:
            found = module
        elif module is not found:
            raise ValueError(
                f"Received tensors of two backends at once: {found.NAME} and {module.NAME}. "
                "Convert one with `kbridge.ops.convert_to_numpy` or move the model with `model.to_backend(name)`."
            )
    return found


_NEUTRAL_TYPES = frozenset({int, float, bool, complex, str, type(None), slice, type(Ellipsis)})


def _is_symbolic(values):
    return any(isinstance(leaf, _keras_tensor_type()) for leaf in _leaves(values, []))


def _keras_tensor_type():
    # Imported late: kbridge.symbolic imports this module.
    global _KERAS_TENSOR
    if _KERAS_TENSOR is None:
        from kbridge.symbolic import KerasTensor

        _KERAS_TENSOR = KerasTensor
    return _KERAS_TENSOR


_KERAS_TENSOR = None
_VARIABLE = None


class _AutoDispatch:
    """Op namespace that picks the backend from the arguments (see module docstring)."""

    def __getattr__(self, name):
        def op(*args, **kwargs):
            values = (args, kwargs)
            if _is_symbolic(values):
                from kbridge.symbolic import symbolic_op

                return symbolic_op(name, args, kwargs)
            module = backend_for(values) or state.backend or default_backend()
            return getattr(module, name)(*args, **kwargs)

        op.__name__ = name
        setattr(self, name, op)
        return op


AUTO = _AutoDispatch()
_state_defaults["ops"] = AUTO  # for threads started from now on
state.ops = AUTO  # this thread's fields were set when `state` was created


@contextlib.contextmanager
def use(name):
    """Runs array-free ops and creates variables on backend `name` inside the `with` block (this thread only).

    Ops on framework tensors still follow the tensors' type, and ops on KerasTensors
    still build graph nodes.

    Example:
        >>> with kbridge.backend.use("torch"):
        ...     model = make_model()   # variables are torch tensors
    """
    module = registry.get(name)
    saved = state.backend
    state.backend = module
    try:
        yield module
    finally:
        state.backend = saved


def current_backend():
    """Returns the backend module new variables go to: the `use()` scope's, else the default."""
    return state.backend or default_backend()
