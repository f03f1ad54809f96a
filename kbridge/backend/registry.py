"""Backend names, lazy loading, and the map from a tensor's type to its backend.

A backend is a module `kbridge.adapters.<pkg>.backend` that implements the whole
op set of `kbridge.ops` plus the hooks listed in `kbridge/backend/README.md`.
Backends are imported on first use, so `import kbridge` imports no framework.
"""

import importlib
import importlib.util

import numpy as np

# Canonical names follow Keras 3 (`keras.backend.backend()` returns "tensorflow").
_PACKAGES = {"numpy": "numpy", "jax": "jax", "torch": "torch", "tensorflow": "tf"}
_ALIASES = {"tf": "tensorflow", "np": "numpy", "pytorch": "torch"}
_FRAMEWORK_MODULE = {"numpy": "numpy", "jax": "jax", "torch": "torch", "tensorflow": "tensorflow"}

# When nothing is configured: JAX first (compiled, pure, fastest `fit` on CPU),
# then PyTorch, then TensorFlow (slowest to import), then NumPy (always present,
# inference only).
DEFAULT_ORDER = ("jax", "torch", "tensorflow", "numpy")

NAMES = tuple(_PACKAGES)
_FROM_ROOT_MODULE = {"jax": "jax", "jaxlib": "jax", "torch": "torch", "tensorflow": "tensorflow", "numpy": "numpy"}

_loaded = {}
# type -> backend module, filled by each backend's TENSOR_TYPES and lazily by
# subclasses (jax tracers, torch FakeTensors, tf symbolic tensors).
_type_to_backend = {}


def canonical_name(name):
    """Returns the canonical backend name for `name` (accepts "tf", "np")."""
    if not isinstance(name, str):
        raise TypeError(f"backend name must be a string, received {type(name).__name__}: {name!r}")
    key = name.lower()
    key = _ALIASES.get(key, key)
    if key not in _PACKAGES:
        raise ValueError(f"Unknown backend {name!r}. Expected one of {sorted(NAMES)} (or 'tf', 'np').")
    return key


def is_installed(name):
    """Whether the framework behind backend `name` can be imported (without importing it)."""
    return importlib.util.find_spec(_FRAMEWORK_MODULE[canonical_name(name)]) is not None


def get(name):
    """Returns the backend module for `name`, importing it on first use."""
    key = canonical_name(name)
    module = _loaded.get(key)
    if module is None:
        if not is_installed(key):
            raise ImportError(
                f"The {key!r} backend needs the {_FRAMEWORK_MODULE[key]!r} package, which is not installed. "
                f"Install it with: pip install 'kbridge[{_PACKAGES[key]}]'"
            )
        # Importing a framework must not move NumPy's global RNG (importing jax draws from it):
        # a seed set before the first use then gives every backend the same shuffles.
        rng_state = np.random.get_state()
        try:
            module = importlib.import_module(f"kbridge.adapters.{_PACKAGES[key]}.backend")
        finally:
            np.random.set_state(rng_state)
        _loaded[key] = module
        for tensor_type in module.TENSOR_TYPES:
            _type_to_backend[tensor_type] = module
    return module


def loaded():
    """The backend modules imported so far, by name."""
    return dict(_loaded)


def backend_of_type(tensor_type):
    """Returns the loaded backend whose tensors have type `tensor_type`, or None."""
    module = _type_to_backend.get(tensor_type, _UNKNOWN)
    if module is _UNKNOWN:
        module = _find_backend(tensor_type)
        # Negative answers are cached too (None), but only once every backend that
        # could own the type is loaded: a later import must still be seen.
        if module is not None or len(_loaded) == len(_PACKAGES):
            _type_to_backend[tensor_type] = module
    return module


_UNKNOWN = object()


def _find_backend(tensor_type):
    # A framework's tensor seen before its backend was loaded: load it.
    root = tensor_type.__module__.partition(".")[0]
    name = _FROM_ROOT_MODULE.get(root)
    if name is not None and name not in _loaded:
        get(name)
    for candidate in list(_loaded.values()):
        if issubclass(tensor_type, candidate.TENSOR_TYPES):
            return candidate
    return None


def adapter_module(name, module):
    """Imports `kbridge.adapters.<pkg>.<module>` for backend `name` (e.g. its trainer hooks)."""
    return importlib.import_module(f"kbridge.adapters.{_PACKAGES[canonical_name(name)]}.{module}")
