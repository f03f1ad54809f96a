"""`.keras` archives in Keras 3's format (`Model.save`, `kbridge.models.load_model`).

An archive is a zip (members stored uncompressed, as Keras writes them) holding:

- `metadata.json`: `{"keras_version", "date_saved"}`;
- `config.json`: the model's serialized config, with its `build_config` and `compile_config`;
- `model.weights.h5`: the weights and optimizer state in `weights_file`'s (Keras 3's) layout;
- `assets/<h5 path of a layer>/...`: files written by layers defining `save_assets(dir_path)`
  (lookup vocabularies), read back with `load_assets(dir_path)`.

With `zipped=False` the same members are written to a folder, as Keras does.

Saving is atomic: everything is read from the model first, the archive is built in a temporary
file in the target folder, flushed to disk and renamed over the target. Loading checks the
whole archive (zip structure, members, JSON, HDF5, weight shapes against the config) before it
returns a model, never unpickles, and never imports a module named in the file.
"""

import datetime
import io
import json
import os
import posixpath
import shutil
import tempfile
import warnings
import zipfile
import zlib

from kbridge.saving._atomic import atomic_write

_CONFIG = "config.json"
_METADATA = "metadata.json"
_WEIGHTS = "model.weights.h5"
_ASSETS = "assets"
# The Keras release whose format these files follow; Keras 3 does not check it when loading.
KERAS_VERSION = "3.15.0"
# A member declaring far more bytes than it stores is a decompression bomb (CWE-409).
_BOMB_FLOOR_BYTES = 1 << 28
_BOMB_MAX_EXPANSION = 100
# What h5py raises on a damaged file (found by fuzzing the loader with mutated archives).
_CORRUPT_HDF5 = (OSError, ValueError, RuntimeError, OverflowError)


# -- saving ----------------------------------------------------------------------------------


def save_model(model, filepath, overwrite=True, zipped=None, **kwargs):
    """Saves `model` (config, weights, optimizer state, assets) as a Keras 3 `.keras` archive.

    Args:
        model: a kbridge model.
        filepath: a path ending in `.keras` (or, with `zipped=False`, a folder path without it).
        overwrite: if False and the target exists, ask on the terminal before overwriting.
        zipped: write a zip archive (default) or a folder with the same members.
        **kwargs: `include_optimizer` and `save_format` are accepted as in Keras 3.

    Raises:
        ValueError: for a wrong extension (legacy `.h5` model files are not written) or an
            unknown keyword argument.
    """
    from kbridge.saving import weights_file

    filepath = os.fspath(filepath)
    kwargs.pop("include_optimizer", None)  # as in Keras 3, `.keras` files always hold the optimizer
    save_format = kwargs.pop("save_format", None)
    if save_format and not filepath.endswith((".keras", ".h5", ".hdf5")):
        raise ValueError(
            "The `save_format` argument is deprecated in Keras 3. Please remove this argument and pass a file path "
            f"with a `.keras` extension. Received: save_format={save_format}"
        )
    if kwargs:
        raise ValueError(f"The following argument(s) are not supported: {list(kwargs)}")
    zipped = True if zipped is None else zipped
    if zipped and filepath.endswith((".h5", ".hdf5")):
        raise ValueError(
            f"kbridge does not write the legacy HDF5 model format (`.h5`). Save the model with a `.keras` extension "
            f"instead (the native Keras 3 format), or its weights with `model.save_weights('....weights.h5')`. "
            f"Received: filepath={filepath}"
        )
    if zipped and not filepath.endswith(".keras"):
        raise ValueError(
            "Invalid filepath extension for saving. Please add a `.keras` extension for the native Keras format. "
            f"Received: filepath={filepath}."
        )
    if not zipped and filepath.endswith(".keras"):
        raise ValueError(
            "When using `zipped=False`, the `filepath` argument should not end in `.keras`. "
            f"Received: filepath={filepath}"
        )
    if not getattr(model, "built", False):
        warnings.warn(
            f"You are saving a model that has not yet been built ({model.name!r}). It might not contain any weights "
            "yet. Consider building the model first by calling it on some data.",
            stacklevel=2,
        )
    if os.path.exists(filepath) and not overwrite and not weights_file._ask_to_proceed_with_overwrite(filepath):
        return
    # Everything is read from the model before the disk is touched.
    members = {_METADATA: _metadata_json(), _CONFIG: config_json(model), _WEIGHTS: _weights_bytes(model)}
    with tempfile.TemporaryDirectory() as scratch:
        assets = _save_assets(model, scratch)
        if zipped:
            _write_zip_atomically(filepath, members, assets)
        else:
            _write_folder_atomically(filepath, members, assets)


def config_json(model):
    """The `config.json` text of `model`: its serialized config plus `compile_config` (as Keras 3)."""
    from kbridge.models.model import _json_default
    from kbridge.saving import serialization_lib

    return json.dumps(serialization_lib.serialize_keras_object(model), default=_json_default).encode("utf-8")


def _metadata_json():
    import kbridge

    metadata = {
        "keras_version": KERAS_VERSION,
        "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S"),
        "kbridge_version": kbridge.__version__,
    }
    return json.dumps(metadata).encode("utf-8")


def _weights_bytes(model):
    import h5py

    from kbridge.saving import weights_file

    entries = weights_file.read_entries(model)
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as file:
        weights_file.write_entries(file, entries)
    return buffer.getvalue()


def _save_assets(model, scratch):
    """Calls `save_assets` of every layer defining it; returns `[(archive name, file path)]`."""
    from kbridge.saving import weights_file

    root = os.path.join(scratch, _ASSETS)
    for path, obj in weights_file.saveables(model):
        if hasattr(obj, "save_assets"):
            folder = os.path.join(root, *path.split("/")) if path else root
            os.makedirs(folder, exist_ok=True)
            obj.save_assets(folder)
    found = []
    for folder, _, files in os.walk(root):
        for name in sorted(files):
            full = os.path.join(folder, name)
            found.append((os.path.relpath(full, scratch).replace(os.sep, "/"), full))
    return sorted(found)


def _write_zip_atomically(filepath, members, assets):
    def write(stream):
        with zipfile.ZipFile(stream, "w", compression=zipfile.ZIP_STORED) as archive:
            for name, data in members.items():
                archive.writestr(_zip_info(name), data)
            for name, path in assets:
                archive.write(path, name)

    atomic_write(filepath, write)


def _zip_info(name):
    info = zipfile.ZipInfo(name, date_time=datetime.datetime.now().timetuple()[:6])
    info.compress_type = zipfile.ZIP_STORED
    info.external_attr = 0o644 << 16
    return info


def _write_folder_atomically(dirpath, members, assets):
    """Builds the folder beside the target, then swaps it in (the old folder is removed last)."""
    if os.path.exists(dirpath) and not os.path.isdir(dirpath):
        raise ValueError(f"Cannot save a model folder to {dirpath}: a file with that name exists.")
    parent = os.path.dirname(os.path.abspath(dirpath))
    os.makedirs(parent, exist_ok=True)
    temporary = tempfile.mkdtemp(dir=parent, prefix=f".{os.path.basename(dirpath)}.", suffix=".tmp")
    old = None
    try:
        for name, data in members.items():
            with open(os.path.join(temporary, name), "wb") as stream:
                stream.write(data)
                stream.flush()
                os.fsync(stream.fileno())
        for name, path in assets:
            target = os.path.join(temporary, *name.split("/"))
            os.makedirs(os.path.dirname(target), exist_ok=True)
            shutil.copyfile(path, target)
        if os.path.exists(dirpath):
            old = tempfile.mkdtemp(dir=parent, prefix=f".{os.path.basename(dirpath)}.", suffix=".old")
            os.rmdir(old)
            os.replace(dirpath, old)
        os.replace(temporary, dirpath)
    except BaseException:
        shutil.rmtree(temporary, ignore_errors=True)
        if old is not None and os.path.exists(old) and not os.path.exists(dirpath):
            os.replace(old, dirpath)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


# -- loading ---------------------------------------------------------------------------------


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):
    """Loads a model from a `.keras` archive written by kbridge or Keras 3 (or such a folder).

    The archive is checked whole before the model is returned: a bad file raises and yields
    nothing, and no code from the file is run.

    Args:
        filepath: a `.keras` file, a folder written with `zipped=False`, or an open binary file.
        custom_objects: dict of name -> class/function for objects outside kbridge.
        compile: compile the model with the saved `compile_config` and restore its optimizer state.
        safe_mode: refuse Python lambdas (bytecode) in the config.

    Raises:
        ValueError: the path is missing, a directory without `config.json`, not a zip, truncated,
            lacks a member, holds invalid JSON or HDF5, holds code under `safe_mode`, or weights
            whose shapes disagree with the config (naming the variable path and both shapes).
        TypeError: the config names a class or function neither in kbridge nor registered.
    """
    if isinstance(filepath, io.IOBase):
        where = repr(filepath)
        return _load_from_members(_read_zip(filepath, where), where, custom_objects, compile, safe_mode)
    filepath = os.fspath(filepath)
    if os.path.isdir(filepath):
        if not os.path.isfile(os.path.join(filepath, _CONFIG)):
            raise ValueError(
                f"Cannot load a model from {filepath}: it is a directory, not a `.keras` file (and it has no "
                f"`{_CONFIG}` as a folder written with `zipped=False` would)."
            )
        return _load_from_members(_read_folder(filepath), filepath, custom_objects, compile, safe_mode)
    _check_filename(filepath)
    if not os.path.exists(filepath):
        raise ValueError(
            f"File not found: filepath={filepath}. Please ensure the file is an accessible `.keras` zip file."
        )
    with open(filepath, "rb") as stream:
        members = _read_zip(stream, filepath)
    return _load_from_members(members, filepath, custom_objects, compile, safe_mode)


def _check_filename(filepath):
    if filepath.endswith(".weights.h5"):
        raise ValueError(
            f"No model config found in the file at {filepath}. A `.weights.h5` file holds weights only: build the "
            "model in code and call `model.load_weights(filepath)`."
        )
    if filepath.endswith((".h5", ".hdf5")):
        raise ValueError(
            f"File format not supported: filepath={filepath}. kbridge loads whole models from `.keras` files only; "
            "the legacy H5 model format is not supported (Keras 3 can convert it: load it there and save a `.keras` "
            "file)."
        )
    if not filepath.endswith(".keras"):
        raise ValueError(
            f"File format not supported: filepath={filepath}. kbridge loads whole models from `.keras` files (or "
            "folders written with `zipped=False`); the TensorFlow SavedModel format is not supported by `load_model()`."
        )


def _read_zip(stream, where):
    """Returns `{member name: bytes}` for every member, or raises a ValueError naming what is wrong."""
    try:
        with zipfile.ZipFile(stream, "r") as archive:
            infos = archive.infolist()
            for info in infos:
                _check_member(info, where)
            return {info.filename: archive.read(info) for info in infos if not info.is_dir()}
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, zlib.error, NotImplementedError) as error:
        raise ValueError(
            f"Cannot load {where}: it is not a valid `.keras` file (a zip archive); the archive is corrupt or "
            f"truncated ({type(error).__name__}: {error})."
        ) from None


def _check_member(info, where):
    if info.file_size > _BOMB_FLOOR_BYTES and info.file_size > _BOMB_MAX_EXPANSION * max(info.compress_size, 1):
        raise ValueError(
            f"Cannot load {where}: member '{info.filename}' declares {info.file_size} bytes but stores only "
            f"{info.compress_size}; refusing a potential decompression bomb."
        )
    name = info.filename
    normalized = posixpath.normpath(name)
    if name.startswith(("/", "\\")) or "\\" in name or normalized.startswith("..") or ":" in name:
        raise ValueError(f"Cannot load {where}: member name '{name}' points outside the archive.")


def _read_folder(dirpath):
    members = {}
    for folder, _, files in os.walk(dirpath):
        for name in files:
            full = os.path.join(folder, name)
            relative = os.path.relpath(full, dirpath).replace(os.sep, "/")
            if os.path.islink(full):
                continue  # a link could point anywhere: only plain files are read
            if relative in (_CONFIG, _METADATA, _WEIGHTS) or relative.startswith(f"{_ASSETS}/"):
                with open(full, "rb") as stream:
                    members[relative] = stream.read()
    return members


def _load_from_members(members, where, custom_objects, compile, safe_mode):
    import h5py

    from kbridge.saving import serialization_lib, weights_file

    for required in (_CONFIG, _WEIGHTS):
        if required not in members:
            raise ValueError(
                f"Cannot load {where}: the archive has no `{required}` member (found: {sorted(members)}). A `.keras` "
                f"file holds `{_METADATA}`, `{_CONFIG}` and `{_WEIGHTS}`."
            )
    config = _parse_json(members[_CONFIG], _CONFIG, where)
    if not isinstance(config, dict) or "class_name" not in config or "config" not in config:
        raise ValueError(
            f"Cannot load {where}: `{_CONFIG}` is not a serialized model (expected an object with 'class_name' and "
            f"'config'), received {str(config)[:200]}"
        )
    if _METADATA in members:
        _parse_json(members[_METADATA], _METADATA, where)
    try:
        weights = h5py.File(io.BytesIO(members[_WEIGHTS]), "r")
    except _CORRUPT_HDF5 as error:
        raise ValueError(f"Cannot load {where}: `{_WEIGHTS}` is not a valid HDF5 file ({error}).") from None
    with weights:
        config = dict(config)
        if not compile:
            config.pop("compile_config", None)
        try:
            model = serialization_lib.deserialize_keras_object(
                config, custom_objects=custom_objects, safe_mode=safe_mode
            )
        except (KeyError, IndexError, AttributeError) as error:
            # TypeError and ValueError already name the object; these come from a malformed config.
            raise ValueError(
                f"Cannot load {where}: `{_CONFIG}` is malformed ({type(error).__name__}: {error})."
            ) from None
        try:
            assignments, failures = weights_file.plan_load(weights, model)
        except _CORRUPT_HDF5 + (KeyError, IndexError, TypeError) as error:
            raise ValueError(
                f"Cannot load {where}: `{_WEIGHTS}` is malformed ({type(error).__name__}: {error})."
            ) from None
    if failures:
        details = "\n".join(f"- {message}" for _, message in failures)
        raise ValueError(
            f"Cannot load {where}: the weights in `{_WEIGHTS}` disagree with the model described by `{_CONFIG}` "
            f"({len(failures)} objects):\n{details}"
        )
    with tempfile.TemporaryDirectory() as scratch:
        try:
            _load_assets(model, members, scratch)
        except OSError as error:  # e.g. one member name used as both a file and a folder
            raise ValueError(f"Cannot load {where}: its `{_ASSETS}/` members are malformed ({error}).") from None
    for variable, array in assignments:
        variable.assign(array)
    return model


def _parse_json(data, member, where):
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"Cannot load {where}: `{member}` is not valid JSON ({error}).") from None


def _load_assets(model, members, scratch):
    from kbridge.saving import weights_file

    prefix = f"{_ASSETS}/"
    names = [name for name in members if name.startswith(prefix)]
    if not names:
        return
    for name in names:
        target = os.path.join(scratch, *name.split("/"))
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "wb") as stream:
            stream.write(members[name])
    root = os.path.join(scratch, _ASSETS)
    for path, obj in weights_file.saveables(model):
        if hasattr(obj, "load_assets"):
            folder = os.path.join(root, *path.split("/")) if path else root
            if os.path.isdir(folder):
                obj.load_assets(folder)
