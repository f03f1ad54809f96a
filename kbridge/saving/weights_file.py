"""`.weights.h5` files in Keras 3's exact HDF5 layout (`Model.save_weights` / `Model.load_weights`).

The layout, as Keras 3's `saving_lib` writes it:

- every layer and optimizer gets a group `<path>/vars` (attribute `name` = the object's
  name) holding its own variables as datasets `"0"`, `"1"`, ... (trainable first, then
  non-trainable, each in creation order); the root model's group is plain `vars`;
- paths walk the object tree: a Sequential or Functional model's `layers` list comes first,
  then the other attributes sorted by name with private (`_x`) ones last (a subclassed
  model's `layers` property is one of them, as in Keras); an item of a
  list/tuple/dict is named after its class in snake_case, made unique within that
  container (`dense`, `dense_1`), a nested container is `container`, `container_1`;
- an object reached twice is saved at its first path only; the compiled optimizer is the
  model attribute `optimizer` (`optimizer/vars`); seed-generator and metric state is not saved,
  nor is the state a wrapped optax / torch.optim optimizer keeps inside its framework.

So `layers/dense_1/vars/0` is the kernel of a Functional model's second Dense layer, and
files move both ways between kbridge and Keras 3 for the layers both have. Writes go to a
temporary file in the target folder, renamed over the target only once complete.
"""

import io
import os
import re
import warnings
import zipfile

import numpy as np

from kbridge.saving._atomic import atomic_write
from kbridge.utils import naming

_SUFFIX = ".weights.h5"


def save_weights(model, filepath, overwrite=True, attrs=None):
    """Saves `model`'s weights (and its optimizer's state, once compiled) to a `.weights.h5` file.

    Args:
        model: a built model.
        filepath: a path ending in `.weights.h5`.
        overwrite: if False and the file exists, ask on the terminal before overwriting.
        attrs: extra HDF5 attributes for the root group (ignored by readers that do not know them).

    Raises:
        ValueError: for another extension or an unbuilt model.
    """
    import h5py

    filepath = os.fspath(filepath)
    if not str(filepath).endswith(_SUFFIX):
        raise ValueError(f"The filename must end in `{_SUFFIX}`. Received: filepath={filepath}")
    _check_built(model, "saving")
    if os.path.exists(filepath) and not overwrite and not _ask_to_proceed_with_overwrite(filepath):
        return
    # Read every value before touching the disk: a failing read leaves no file behind.
    entries = read_entries(model)

    def write(stream):
        with h5py.File(stream, "w") as file:
            write_entries(file, entries, attrs)

    atomic_write(filepath, write)


def load_weights(model, filepath, skip_mismatch=False):
    """Loads weights saved by `save_weights` (or by Keras 3) into `model`.

    Every entry is checked before any variable changes: a failed load leaves the model as it was.

    Args:
        model: a built model of the same architecture.
        filepath: a `.weights.h5` file, or a `.keras` archive (its weights are read).
        skip_mismatch: warn about and skip layers whose variable count or shapes differ,
            instead of raising.

    Raises:
        ValueError: for an unsupported extension, an unbuilt model, or a mismatch
            (naming the variable path, the model's shape and the file's shape).
        FileNotFoundError: when the file does not exist.
    """
    import h5py

    filepath = os.fspath(filepath)
    if not str(filepath).endswith((_SUFFIX, ".keras")):
        raise ValueError(
            f"File format not supported: filepath={filepath}. kbridge loads weights from `{_SUFFIX}` files "
            "and `.keras` archives."
        )
    if not os.path.isfile(filepath):
        raise FileNotFoundError(f"No weights file found at {filepath!r}.")
    _check_built(model, "loading weights into")
    source = filepath
    if str(filepath).endswith(".keras"):
        with zipfile.ZipFile(filepath) as archive:
            source = io.BytesIO(archive.read("model.weights.h5"))
    with h5py.File(source, "r") as file:
        assignments, failures = plan_load(file, model)
    if failures:
        message = (
            f"A total of {len(failures)} objects could not be loaded from {filepath}. Example error message for "
            f"object {failures[0][0]}:\n\n{failures[0][1]}\n\nList of objects that could not be loaded:\n"
            f"{[name for name, _ in failures]}"
        )
        if not skip_mismatch:
            raise ValueError(message)
        warnings.warn(message, stacklevel=2)
    for variable, array in assignments:
        variable.assign(array)


def read_entries(model):
    """Returns `[(h5 path, object, [numpy arrays])]`: every value the weights file holds, read
    before anything is written (a failing read then leaves no file behind)."""
    return [(path, obj, [v.numpy() for v in _own_variables(obj)]) for path, obj in saveables(model)]


def write_entries(file, entries, attrs=None):
    """Writes `read_entries` output into an open, writable `h5py.File` in Keras 3's layout.

    Used for `.weights.h5` files and for the `model.weights.h5` member of `.keras` archives.
    """
    for key, value in (attrs or {}).items():
        file.attrs[key] = value
    for path, obj, arrays in entries:
        group = (file.require_group(path) if path else file).create_group("vars")
        group.attrs["name"] = obj.name
        for index, array in enumerate(arrays):
            _write_dataset(group, str(index), array)


def plan_load(file, model):
    """Checks an open `h5py.File` against `model` without assigning anything.

    Returns:
        `([(variable, array)], [(object name, error message)])`: the assignments to make and
        the objects whose stored variables disagree with the model (count or shapes).
    """
    return _plan(file, saveables(model))


def read_attrs(filepath):
    """Returns the root attributes of a `.weights.h5` file as a dict."""
    import h5py

    with h5py.File(os.fspath(filepath), "r") as file:
        return {key: file.attrs[key] for key in file.attrs}


# -- the walk ----------------------------------------------------------------------------------


def saveables(model):
    """Returns `[(h5 path, object)]` for every layer and optimizer, in Keras 3's walk order."""
    out = []
    _visit(model, "", set(), out)
    return out


def _visit(obj, path, visited, out):
    if id(obj) in visited:
        return
    visited.add(id(obj))
    if _has_variables_group(obj):
        out.append((path, obj))
    for name, child in _children(obj):
        child_path = f"{path}/{name}" if path else name
        if _is_saveable(child):
            _visit(child, child_path, visited, out)
        elif isinstance(child, (list, tuple, dict)):
            _visit_container(child, child_path, visited, out, set())


def _visit_container(container, path, visited, out, containers_seen):
    if id(container) in containers_seen:
        return
    containers_seen.add(id(container))
    used = {}
    for item in container.values() if isinstance(container, dict) else container:
        if _is_saveable(item):
            _visit(item, f"{path}/{_unique(naming.to_snake_case(type(item).__name__), used)}", visited, out)
        elif isinstance(item, (list, tuple, dict)):
            _visit_container(item, f"{path}/{_unique('container', used)}", visited, out, containers_seen)


def _children(obj):
    from kbridge.models.functional import Functional
    from kbridge.models.model import Model
    from kbridge.models.sequential import Sequential

    skip = _skipped_attributes(obj)
    attributes = {name: value for name, value in vars(obj).items() if name not in skip}
    if isinstance(obj, (Functional, Sequential)):
        yield "layers", obj.layers  # Keras saves these first, before any other attribute
    elif isinstance(obj, Model):
        # Keras also walks the `Model.layers` property, in its sorted place: a sublayer held by an
        # attribute sorting after "layers" (e.g. `stem`) is saved as `layers/<class name>`.
        attributes["layers"] = obj.layers
    for name in sorted(attributes, key=lambda n: f"~{n}" if n.startswith("_") else n):
        yield name, attributes[name]


def _skipped_attributes(obj):
    from kbridge.layers.layer import Layer

    skip = set(getattr(type(obj), "_TRACKING_EXCLUDE", ()))
    if isinstance(obj, Layer):
        # As Keras skips the attributes every base Layer has: only user-set ones are walked.
        skip |= _base_layer_attributes()
    return skip


_BASE_LAYER_ATTRIBUTES = None


def _base_layer_attributes():
    global _BASE_LAYER_ATTRIBUTES
    if _BASE_LAYER_ATTRIBUTES is None:
        from kbridge.layers.layer import Layer

        _BASE_LAYER_ATTRIBUTES = frozenset(vars(Layer(name="base")))
    return _BASE_LAYER_ATTRIBUTES


def _is_saveable(obj):
    from kbridge.random.seed_generator import SeedGenerator
    from kbridge.tracking import Trackable

    # Keras's SeedGenerator is not saveable: its state is never written.
    return isinstance(obj, Trackable) and not isinstance(obj, SeedGenerator)


def _has_variables_group(obj):
    from kbridge.layers.layer import Layer
    from kbridge.optimizers.optimizer import Optimizer

    return isinstance(obj, (Layer, Optimizer))


def _own_variables(obj):
    """The variables stored in the object's own `vars` group, in Keras's order."""
    from kbridge.optimizers.optimizer import Optimizer

    if isinstance(obj, Optimizer):
        return list(obj.variables)
    listed = obj._trainable_variables + obj._non_trainable_variables
    known = {id(v) for v in listed}
    extra = [v for v in obj._attribute_variables() if id(v) not in known]
    # Keras tracks a Variable assigned as an attribute in the trainable or non-trainable list.
    trainable = obj._trainable_variables + [v for v in extra if v.trainable]
    return trainable + obj._non_trainable_variables + [v for v in extra if not v.trainable]


def _unique(name, used):
    if name in used:
        used[name] += 1
        return f"{name}_{used[name]}"
    used[name] = 0
    return name


# -- loading checks --------------------------------------------------------------------------


def _plan(file, entries):
    """Returns ([(variable, array)], [(object name, error message)]) without assigning anything."""
    from kbridge.optimizers.optimizer import Optimizer

    assignments, failures = [], []
    for path, obj in entries:
        stored = _stored_arrays(file, path)
        variables = _own_variables(obj)
        where = f"{path}/vars" if path else "vars"
        if len(stored) != len(variables):
            if isinstance(obj, Optimizer):
                # Keras's rule: an optimizer of another size (e.g. not built yet) keeps its state.
                warnings.warn(
                    f"Skipping variable loading for optimizer '{obj.name}', because it has {len(variables)} "
                    f"variables whereas the saved optimizer has {len(stored)} variables.",
                    stacklevel=3,
                )
                continue
            failures.append(
                (
                    obj.name,
                    (
                        f"Layer '{obj.name}' expected {len(variables)} variables, but received {len(stored)} "
                        f"variables during loading (file group '{where}'). Expected: {[v.path for v in variables]}"
                    ),
                )
            )
            continue
        mismatched = [
            f"variable '{v.path}' has shape {tuple(v.shape)} in the model but shape {tuple(a.shape)} in the file "
            f"('{where}/{i}')"
            for i, (v, a) in enumerate(zip(variables, stored))
            if tuple(v.shape) != tuple(a.shape)
        ]
        if mismatched:
            failures.append((obj.name, f"{type(obj).__name__} '{obj.name}': " + "; ".join(mismatched)))
            continue
        assignments.extend(zip(variables, stored))
    return assignments, failures


def _stored_arrays(file, path):
    group = file.get(f"{path}/vars" if path else "vars")
    if group is None and "_layer_checkpoint_dependencies" in file:
        group = file.get(f"{path.replace('layers', '_layer_checkpoint_dependencies')}/vars")  # Keras 2.13 files
    if group is None:
        return []
    arrays = []
    for index in range(len(group.keys())):
        dataset = group[str(index)]
        array = np.asarray(dataset[()])
        if dataset.attrs.get("dtype") == "bfloat16":
            import ml_dtypes

            array = array.astype(ml_dtypes.bfloat16)
        arrays.append(array)
    return arrays


# -- helpers ---------------------------------------------------------------------------------


def _write_dataset(group, key, array):
    if array.dtype.name == "bfloat16":
        dataset = group.create_dataset(key, data=array)
        dataset.attrs["dtype"] = "bfloat16"
    else:
        group[key] = array


def _check_built(model, action):
    if not getattr(model, "built", False):
        raise ValueError(
            f"You are {action} a model that has not yet been built ({getattr(model, 'name', model)!r}). Try "
            "building the model first by calling it on some data or by using `build()`."
        )


def _ask_to_proceed_with_overwrite(filepath):
    answer = input(f"[WARNING] {filepath} already exists - overwrite? [y/n]").strip().lower()
    while answer not in ("y", "n"):
        answer = input('Enter "y" (overwrite) or "n" (cancel).').strip().lower()
    if answer == "n":
        return False
    print("[TIP] Next time specify overwrite=True!")
    return True
