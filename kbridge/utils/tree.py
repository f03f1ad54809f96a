"""Minimal nested-structure helpers (lists, tuples, dicts) used by layers and models."""


def flatten(structure):
    """Returns the leaves of nested lists/tuples/dicts (dicts in insertion order); None counts as a leaf."""
    out = []
    _flatten_into(structure, out)
    return out


def _flatten_into(structure, out):
    if isinstance(structure, (list, tuple)):
        for item in structure:
            _flatten_into(item, out)
    elif isinstance(structure, dict):
        for item in structure.values():
            _flatten_into(item, out)
    else:
        out.append(structure)


def map_structure(fn, structure):
    """Applies `fn` to every leaf, keeping the structure (tuple subclasses are rebuilt as tuples)."""
    if isinstance(structure, list):
        return [map_structure(fn, item) for item in structure]
    if isinstance(structure, tuple):
        return tuple(map_structure(fn, item) for item in structure)
    if isinstance(structure, dict):
        return {key: map_structure(fn, item) for key, item in structure.items()}
    return fn(structure)


def pack_sequence_as(structure, leaves):
    """Rebuilds `structure` with `leaves` (the inverse of `flatten`)."""
    iterator = iter(leaves)

    def take(_):
        return next(iterator)

    return map_structure(take, structure)


def is_nested(value):
    """Whether `value` is a list, tuple or dict."""
    return isinstance(value, (list, tuple, dict))
