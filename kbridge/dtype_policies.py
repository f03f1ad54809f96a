"""Dtype policies: the dtype a layer computes in and the dtype its variables are stored in."""

from kbridge.backend.dtypes import standardize_dtype

_MIXED = {"mixed_float16": "float16", "mixed_bfloat16": "bfloat16"}
_global_policy = None


class DTypePolicy:
    """A layer's dtypes. `"mixed_float16"` computes in float16 with float32 variables.

    Args:
        name: a dtype name ("float32") or "mixed_float16" / "mixed_bfloat16";
            None means the global policy (`kbridge.config.floatx()` by default).
    """

    def __init__(self, name=None):
        if name is None:
            from kbridge import config

            name = config.floatx()
        if not isinstance(name, str):
            raise TypeError(f"DTypePolicy name must be a string, received {type(name).__name__}: {name!r}")
        if name in _MIXED:
            self._compute, self._variable = _MIXED[name], "float32"
        else:
            self._compute = self._variable = standardize_dtype(name)
        self._name = name

    @property
    def name(self):
        """The policy's name."""
        return self._name

    @property
    def compute_dtype(self):
        """The dtype layer computations run in."""
        return self._compute

    @property
    def variable_dtype(self):
        """The dtype variables are stored in."""
        return self._variable

    def get_config(self):
        """Returns {"name": ...}."""
        return {"name": self._name}

    @classmethod
    def from_config(cls, config):
        """Creates a policy from `get_config()` output."""
        return cls(**config)

    def __eq__(self, other):
        return isinstance(other, DTypePolicy) and other.name == self.name

    def __hash__(self):
        return hash(self._name)

    def __repr__(self):
        return f'<DTypePolicy "{self._name}">'


def get(identifier):
    """Returns a DTypePolicy from None (global policy), a name, a dtype, a config dict or a policy."""
    if identifier is None:
        return _global_policy or DTypePolicy()
    if isinstance(identifier, DTypePolicy):
        return identifier
    if isinstance(identifier, dict):
        config = identifier.get("config", identifier)
        return DTypePolicy(config["name"])
    if isinstance(identifier, str):
        return DTypePolicy(identifier)
    return DTypePolicy(standardize_dtype(identifier))


def set_dtype_policy(policy):
    """Sets the policy used by layers created without `dtype=`."""
    global _global_policy
    _global_policy = None if policy is None else get(policy)


def dtype_policy():
    """Returns the global policy."""
    return get(None)


def serialize(policy):
    """Keras 3's serialized form of a policy."""
    return {"module": "keras", "class_name": "DTypePolicy", "config": policy.get_config(), "registered_name": None}
