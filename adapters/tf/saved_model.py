"""`export_saved_model(model, path)`: a SavedModel of native TF ops, from a model on any backend.

A kbridge model is written once against `kbridge.ops`, so it is rebuilt on TensorFlow ops
by tracing `stateless_call` with the TF backend: the SavedModel holds ordinary TF ops with
dynamic shapes (no opaque XLA call, no static-shape export), and loads with plain
`tf.saved_model.load` where kbridge is not installed.
"""

import os
import shutil
import tempfile

import numpy as np
import tensorflow as tf

from kbridge.adapters.tf.module import KbridgeTFModule, check_model, input_specs
from kbridge.layers.layer import Layer

__all__ = ["export_saved_model"]


def export_saved_model(model, path, input_signature=None):
    """Writes `model` as a TensorFlow SavedModel with a `serving_default` signature.

    The signature runs the model in inference mode (Dropout off, BatchNorm moving
    statistics). Its inputs are named after the model's inputs (`Input(name=...)`) and
    its outputs after the model's output layers (`output_names`), or `output_0`, ... .
    A model whose variables live on jax, torch or numpy is exported from a copy of its
    weights in new `tf.Variable`s; the model itself stays on its backend. A model on the
    tensorflow backend is exported with its own `tf.Variable`s. The directory is written
    next to `path` and renamed into place, so a failed export leaves nothing behind
    (an existing `path` is replaced only after a successful export).

    The exported object also has `call_inference(*inputs)` and `call_training(*inputs)`.

    Args:
        model: a built kbridge Layer/Model.
        path: the SavedModel directory to write.
        input_signature: optional list of `tf.TensorSpec`, one per model input (use
            `None` for dynamic dimensions); by default the model's input shapes with a
            dynamic batch dimension.

    Returns:
        `path`.

    Raises:
        TypeError: `model` is not a kbridge layer.
        ValueError: the model is unbuilt, `input_signature` disagrees with the model's
            inputs (names the input), or a layer cannot run on TensorFlow (names the layer).
    """
    check_model(model, "export_saved_model")
    specs = input_specs(model, input_signature)
    on_tf = all(v.backend == "tensorflow" for v in model.variables)
    variables = []
    with tf.init_scope():
        for variable_path, variable in model.named_variables():
            storage = variable._value
            if not isinstance(storage, tf.Variable):
                storage = tf.Variable(np.asarray(variable.numpy()), trainable=variable.trainable, name=variable_path)
            variables.append(storage)
    module = KbridgeTFModule(model, variables, specs, force_tf=not on_tf)
    output_names = _output_names(model)

    def serve(*inputs):
        outputs = module.forward(inputs, training=False)
        if isinstance(outputs, dict):
            return dict(outputs)
        flat = tf.nest.flatten(outputs)
        names = output_names if len(output_names) == len(flat) else [f"output_{i}" for i in range(len(flat))]
        return dict(zip(names, flat))

    serving = tf.function(serve, input_signature=specs, autograph=False)
    concrete = _trace_naming_layer(model, serving)
    module.serve = serving
    path = os.fspath(path)
    parent = os.path.dirname(os.path.abspath(path))
    os.makedirs(parent, exist_ok=True)
    staging = tempfile.mkdtemp(prefix=f".{os.path.basename(path)}.tmp-", dir=parent)
    try:
        tf.saved_model.save(module, staging, signatures={"serving_default": concrete})
        _replace(staging, path)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return path


def _replace(staging, path):
    """Moves `staging` to `path`; an existing `path` is removed only once the new one is in place."""
    if not os.path.exists(path):
        os.rename(staging, path)
        return
    old = tempfile.mkdtemp(prefix=f".{os.path.basename(path)}.old-", dir=os.path.dirname(os.path.abspath(path)))
    os.rmdir(old)
    os.rename(path, old)
    try:
        os.rename(staging, path)
    except BaseException:
        os.rename(old, path)
        raise
    if os.path.isdir(old):
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.remove(old)


def _output_names(model):
    names = list(getattr(model, "output_names", None) or [])
    if not names:
        try:  # a built Sequential: its graph's output layers
            names = [t._keras_history[0].name for t in model.outputs]
        except (AttributeError, TypeError, ValueError):
            names = []
    unique = []
    for name in names:
        candidate, index = name, 1
        while candidate in unique:
            candidate = f"{name}_{index}"
            index += 1
        unique.append(candidate)
    return unique


def _trace_naming_layer(model, function):
    """Traces `function`; an error raised inside a layer's call names the innermost such layer."""
    layers = [layer for layer in model._flatten_layers() if isinstance(layer, Layer)]
    failed = []

    def watch(layer):
        call = layer.call

        def call_watched(*args, **kwargs):
            try:
                return call(*args, **kwargs)
            except Exception:
                if not failed:
                    failed.append(layer)
                raise

        layer.call = call_watched  # instance attribute: shadows the class's call during the trace only

    for layer in layers:
        watch(layer)
    try:
        return function.get_concrete_function()
    except Exception as error:
        if not failed:
            raise
        layer = failed[0]
        raise ValueError(
            f'export_saved_model: model "{model.name}" cannot be exported because layer "{layer.name}" '
            f"({type(layer).__name__}) cannot run on TensorFlow: {type(error).__name__}: {error}"
        ) from error
    finally:
        for layer in layers:
            layer.__dict__.pop("call", None)
