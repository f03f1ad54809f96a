"""`TFModuleLayer`: an existing `tf.Module` (or TF callable) as a kbridge layer (TF backend only).

The module's `tf.Variable`s become the layer's variables, and they are the very same
objects (a kbridge variable's storage *is* the `tf.Variable`), so `fit`, a GradientTape
loop over `module.trainable_variables` and `to_module(model)` all update one set of
variables. `call` runs the wrapped callable, which reads its own variables.
"""

import inspect

import tensorflow as tf

import kbridge
from kbridge.backend import registry
from kbridge.backend._state import state
from kbridge.layers.layer import Layer
from kbridge.symbolic.keras_tensor import KerasTensor
from kbridge.utils import tree
from kbridge.variables import Variable

__all__ = ["TFModuleLayer"]


class TFModuleLayer(Layer):
    """Wraps a `tf.Module` or a TensorFlow callable as a kbridge layer on the TF backend.

    Args:
        module: a `tf.Module` whose `__call__` computes the layer (a Keras layer or
            `tf.Module`), a bound method of a `tf.Module`, or any callable of TF tensors
            (then the layer has no variables).
        name: the layer's display name.
        trainable, dtype, autocast: as for any `kbridge.layers.Layer`.

    Variables are named after the `tf.Variable` names with ":0" dropped and "/" and "."
    replaced by "_" (e.g. "dense/kernel:0" -> "dense_kernel"). Non-trainable
    `tf.Variable`s become non-trainable variables. When the callable takes a `training`
    argument it receives the layer's training flag as a Python bool.

    The wrapped code computes with its own variables, so the layer runs in stateful
    calls, `fit` on the TF backend and `to_module`, but not in a `stateless_call`
    given other values for its variables (that raises). It holds Python code, so
    `get_config` raises: save such models by weights only.

    Raises:
        TypeError: `module` is not callable.
        ValueError: created while a non-TensorFlow backend is selected.
    """

    def __init__(self, module, name=None, trainable=True, dtype=None, autocast=True, **kwargs):
        if not callable(module):
            raise TypeError(f"TFModuleLayer expects a tf.Module or a callable, received {type(module).__name__}.")
        if state.backend is not None and state.backend.NAME != "tensorflow":
            raise ValueError(
                f"TFModuleLayer wraps TensorFlow code and works on the tensorflow backend only, but the "
                f'{state.backend.NAME} backend is selected. Create it under kbridge.backend.use("tensorflow") '
                "(or with no backend scope)."
            )
        super().__init__(name=name, trainable=trainable, dtype=dtype, autocast=autocast, **kwargs)
        self.module = module
        owner = module if isinstance(module, tf.Module) else getattr(module, "__self__", None)
        tf_variables = list(owner.variables) if isinstance(owner, tf.Module) else []
        self._tf_entries = []  # (tf.Variable, kbridge Variable)
        used = set()
        with kbridge.backend.use("tensorflow"):
            for tf_variable in tf_variables:
                self._tf_entries.append((tf_variable, self._adopt(tf_variable, used)))
        try:
            parameters = inspect.signature(module).parameters
        except (TypeError, ValueError):
            parameters = {}
        self._accepts_training = "training" in parameters or any(p.kind is p.VAR_KEYWORD for p in parameters.values())
        self._home_backend = registry.get("tensorflow")
        self._refresh_backend()
        self.built = True

    def _adopt(self, tf_variable, used):
        """A kbridge variable whose storage is `tf_variable` itself."""
        base = tf_variable.name.split(":")[0].replace("/", "_").replace(".", "_") or "variable"
        name, index = base, 1
        while name in used:
            name = f"{base}_{index}"
            index += 1
        used.add(name)
        trainable = bool(tf_variable.trainable)
        variable = Variable(tf_variable.read_value(), trainable=trainable, autocast=self.autocast, name=name)
        variable._value = tf_variable  # adopt the very same tf.Variable
        variable._kbridge_adopted = True  # to_module keeps it (the wrapped code reads it)
        (self._trainable_variables if trainable else self._non_trainable_variables).append(variable)
        if not self._trainable:
            variable.trainable = False
        return variable

    @property
    def tf_variables(self):
        """`{kbridge variable name: tf.Variable}` for every wrapped variable."""
        return {variable.name: tf_variable for tf_variable, variable in self._tf_entries}

    def call(self, *args, training=None, **kwargs):
        scope = state.scope
        if scope is not None:
            for tf_variable, variable in self._tf_entries:
                value = scope.get(variable)
                if value is not None and value is not tf_variable:
                    raise ValueError(
                        f'Layer "{self.name}" (TFModuleLayer) computes with its own tf.Variables and cannot run in a '
                        f"stateless call that substitutes other values (received one for {variable.name}). Call the "
                        "model statefully or through kbridge.adapters.tf.to_module(model)."
                    )
        if self._accepts_training:
            kwargs["training"] = bool(training)
        return self.module(*args, **kwargs)

    def compute_output_spec(self, *args, training=None, **kwargs):
        """Traces the callable on `tf.TensorSpec`s (unknown dimensions stay unknown)."""
        leaves = tree.flatten((args, kwargs))
        tensors = [x for x in leaves if isinstance(x, KerasTensor)]

        def run(*flat):
            values = iter(flat)
            filled = tree.pack_sequence_as(
                (args, kwargs), [next(values) if isinstance(x, KerasTensor) else x for x in leaves]
            )
            call_kwargs = dict(filled[1])
            if self._accepts_training:
                call_kwargs["training"] = False
            return self.module(*filled[0], **call_kwargs)

        specs = [tf.TensorSpec(x.shape, x.dtype) for x in tensors]
        outputs = tf.function(run, autograph=False).get_concrete_function(*specs).structured_outputs
        backend = registry.get("tensorflow")

        def spec(out):
            return KerasTensor(tuple(out.shape.as_list()), backend.dtype(out))

        return tree.map_structure(spec, outputs)

    def get_config(self):
        raise NotImplementedError(
            f'Layer "{self.name}" is a TFModuleLayer wrapping Python code (a tf.Module or callable), which kbridge '
            "never serializes. Save such models by weights only (model.save_weights(...)) and rebuild the model in "
            "code before loading."
        )

    def __repr__(self):
        return f"<TFModuleLayer name={self.name}, module={type(self.module).__name__}>"
