"""Structural variable paths: how a layer tree names its variables.

A path joins, with ".", the attribute names (list indices, dict keys) leading from
the root object to a variable, then the variable's own name: `encoder.kernel`,
`layers.0.kernel`, `blocks.2.norm.gamma`. It depends only on structure, never on
process-global name counters, so every build of one architecture in one process
(or another) gets the same paths. These strings are the torch `state_dict` keys,
the JAX pytree keys and the checkpoint keys.
"""


class Trackable:
    """Base of objects that own variables: layers, seed generators, metrics, optimizers."""

    # Attribute names the default child walk ignores (subclasses extend).
    _TRACKING_EXCLUDE = frozenset()
    # Whether this object's variables count as model weights (seed and metric state do not).
    _HOLDS_WEIGHTS = True
    # Whether a parent's `variables` include this object's (metrics and optimizers keep
    # their own state apart, as in Keras: `model.variables` has neither).
    _IN_PARENT_VARIABLES = True

    def _own_variables(self):
        """This object's own variables, in order (subclasses override)."""
        return []

    def _named_children(self):
        """(name, child) pairs for tracked children: attributes holding trackables,
        or lists/tuples/dicts of them, in attribute assignment order."""
        from kbridge.variables import Variable

        out = []
        for name, value in vars(self).items():
            if name in self._TRACKING_EXCLUDE or isinstance(value, Variable):
                continue
            _collect(name, value, out)
        return out

    def _attribute_variables(self):
        """Variables assigned directly as attributes (not through `add_weight`)."""
        from kbridge.variables import Variable

        return [v for k, v in vars(self).items() if isinstance(v, Variable) and k not in self._TRACKING_EXCLUDE]

    def named_variables(self, prefix="", weights_only=False, include_all=False, _seen=None):
        """Returns [(path, variable)] for every variable reachable from this object.

        Args:
            prefix: prepended to every path (with a ".").
            weights_only: skip seed-generator and metric state.
            include_all: also include the state of attached metrics and optimizers.
        """
        seen = set() if _seen is None else _seen
        out = []
        if id(self) in seen:  # a child reachable twice, or a cycle back to a parent
            return out
        seen.add(id(self))
        used = {}
        for variable in self._own_variables() + self._attribute_variables():
            if id(variable) in seen:
                continue
            seen.add(id(variable))
            count = used.get(variable.name, 0)
            used[variable.name] = count + 1
            leaf = variable.name if count == 0 else f"{variable.name}_{count}"
            out.append((prefix + leaf, variable))
        for name, child in self._named_children():
            if (weights_only and not child._HOLDS_WEIGHTS) or not (include_all or child._IN_PARENT_VARIABLES):
                continue
            out.extend(child.named_variables(prefix + name + ".", weights_only, include_all, seen))
        return out


def _collect(name, value, out):
    if isinstance(value, Trackable):
        out.append((name, value))
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            _collect(f"{name}.{index}", item, out)
    elif isinstance(value, dict):
        for key, item in value.items():
            _collect(f"{name}.{str(key).replace('.', '_')}", item, out)
