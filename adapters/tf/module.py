"""`to_module(model)`: a kbridge model as a `tf.Module` sharing its weights.

Every kbridge variable of the model becomes (or already is) a `tf.Variable` named after
its structural path (`layers.1.kernel`), with its trainable flag; the kbridge variable
keeps that very `tf.Variable` as its storage, so an optimizer stepping the module's
variables trains the kbridge model and `fit` trains the module. Under an active
`tf.distribute` strategy scope the variables are created as the strategy's distributed
variables. `__call__` reads the variables through the module and calls
`model.stateless_call` (DESIGN.md invariant 4) inside a `tf.function` whose input
signature has a dynamic batch dimension (and every dimension the model leaves `None`);
new state (BatchNorm statistics, seeds) is assigned back into the module's variables.
"""

import tensorflow as tf

from kbridge.adapters.tf.distribution import storage_for
from kbridge.backend import registry
from kbridge.layers.layer import Layer
from kbridge.utils import tree

__all__ = ["KbridgeTFModule", "to_module"]


def to_module(model, input_signature=None):
    """Wraps a built kbridge model (or layer) on the TensorFlow backend as a `tf.Module`.

    Args:
        model: a built kbridge Layer/Model whose variables live on the tensorflow backend.
        input_signature: optional list of `tf.TensorSpec`, one per model input; by default
            taken from the model's inputs with a dynamic batch dimension.

    Returns:
        A `KbridgeTFModule` sharing the model's variables.

    Raises:
        TypeError: `model` is not a kbridge layer.
        ValueError: the model is unbuilt, not on the tensorflow backend, or
            `input_signature` disagrees with the model's inputs.
    """
    check_model(model, "to_module")
    for path, variable in model.named_variables():
        if variable.backend != "tensorflow":
            raise ValueError(
                f'Model "{model.name}": variable {path} lives on the {variable.backend} backend, not tensorflow. '
                'Move the model first (model.to_backend("tensorflow")), or export it directly with '
                "kbridge.adapters.tf.export_saved_model(model, path), which copies the weights."
            )
    specs = input_specs(model, input_signature)
    variables = []
    replaced = False
    for path, variable in model.named_variables():
        storage = storage_for(variable, path, model)
        replaced = replaced or storage is not variable._value
        variable._value = storage
        variables.append(storage)
    if replaced and getattr(model, "_functions", None):
        model._functions = {}  # compiled fit steps captured the old tf.Variables
    return KbridgeTFModule(model, variables, specs)


def check_model(model, what):
    """Raises unless `model` is a built kbridge layer."""
    if not isinstance(model, Layer):
        raise TypeError(f"{what} expects a kbridge Layer or Model, received {type(model).__name__}.")
    if not model.built:
        raise ValueError(
            f'Model "{model.name}" is not built yet; call it on data or call build(input_shape) before {what}().'
        )


def _model_inputs(model):
    """The model's input KerasTensors, or None when it has no graph (subclassed, unbuilt Sequential)."""
    try:
        inputs = model.inputs
    except (AttributeError, ValueError):
        return None
    return list(inputs) if inputs else None


def input_names(model, count):
    """Names for the model's inputs: the Input names when known, else input_0, input_1, ..."""
    refs = _model_inputs(model)
    if refs is not None and len(refs) == count:
        return [ref.name for ref in refs]
    return [f"input_{i}" for i in range(count)]


def input_specs(model, input_signature=None):
    """The flat list of `tf.TensorSpec`s the module's functions take, one per model input.

    Raises:
        ValueError: the model's inputs are unknown and no `input_signature` is given, or
            `input_signature` disagrees with the model's input shapes or count (names the input).
    """
    refs = _model_inputs(model)
    if refs is None and getattr(model, "_build_shapes", None) is not None:
        args, _ = model._build_shapes
        shape = args[0] if args else None
        if shape is not None and all(d is None or isinstance(d, int) for d in shape):
            refs = [_Ref("input_0", (None,) + tuple(shape)[1:], model.compute_dtype)]
    if input_signature is None:
        if refs is None:
            raise ValueError(
                f'Model "{model.name}" has no known input shape (a subclassed model): pass '
                "`input_signature=[tf.TensorSpec(shape, dtype), ...]`."
            )
        return [tf.TensorSpec((None,) + tuple(r.shape)[1:], r.dtype, name=r.name) for r in refs]
    given = list(tree.flatten(input_signature))
    if not all(isinstance(s, tf.TensorSpec) for s in given):
        kinds = [type(s).__name__ for s in given]
        raise TypeError(f'Model "{model.name}": `input_signature` must be a list of tf.TensorSpec, received {kinds}.')
    if refs is None:
        return [tf.TensorSpec(s.shape, s.dtype, name=s.name or f"input_{i}") for i, s in enumerate(given)]
    names = [r.name for r in refs]
    if len(given) != len(refs):
        raise ValueError(
            f'Model "{model.name}" has {len(refs)} input(s) {names}, but `input_signature` has {len(given)} spec(s).'
        )
    specs = []
    for ref, spec in zip(refs, given):
        expected = tuple(ref.shape)
        received = tuple(spec.shape.as_list()) if spec.shape.rank is not None else None
        if (
            received is None
            or len(received) != len(expected)
            or any(e is not None and r is not None and e != r for e, r in zip(expected, received))
        ):
            raise ValueError(
                f'Model "{model.name}": input "{ref.name}" expects shape {expected}, but `input_signature` gives '
                f"{received}."
            )
        if spec.dtype.name != ref.dtype and not (spec.dtype.is_floating and ref.dtype.startswith(("float", "bfloat"))):
            raise ValueError(
                f'Model "{model.name}": input "{ref.name}" has dtype {ref.dtype}, but `input_signature` gives '
                f"{spec.dtype.name}."
            )
        specs.append(tf.TensorSpec(spec.shape, spec.dtype, name=ref.name))
    return specs


class _Ref:
    def __init__(self, name, shape, dtype):
        self.name, self.shape, self.dtype = name, shape, dtype


class KbridgeTFModule(tf.Module):
    """A `tf.Module` view of a kbridge model; build it with `to_module`.

    Attributes:
        model: the wrapped kbridge model.
        variables_by_path: `{structural path: tf.Variable}` in the model's variable order.
        input_signature: the flat list of `tf.TensorSpec` the call functions take.
        call_inference, call_training: the two `tf.function`s behind `__call__`.
    """

    _TF_MODULE_IGNORED_PROPERTIES = tf.Module._TF_MODULE_IGNORED_PROPERTIES | frozenset(
        {"_kbridge_model", "_trainable", "_non_trainable", "_force_tf"}
    )

    def __init__(self, model, variables, specs, force_tf=False):
        super().__init__(name=_scope_name(model.name))
        self._kbridge_model = model
        self._force_tf = force_tf
        paths = [p for p, _ in model.named_variables()]
        self.variables_by_path = dict(zip(paths, variables))
        by_id = {id(v): value for (_, v), value in zip(model.named_variables(), variables)}
        # Which kbridge variable is trainable is read once; re-wrap after freezing layers.
        self._trainable = [by_id[id(v)] for v in model.trainable_variables]
        self._non_trainable = [by_id[id(v)] for v in model.non_trainable_variables]
        specs = list(specs)
        self.input_signature = specs
        self.call_inference = tf.function(self._make_call(False), input_signature=specs, autograph=False)
        self.call_training = tf.function(self._make_call(True), input_signature=specs, autograph=False)

    @property
    def model(self):
        """The wrapped kbridge model."""
        return self._kbridge_model

    @property
    def variables(self):
        """All the model's variables, in the model's (path) order."""
        return tuple(self.variables_by_path.values())

    @property
    def trainable_variables(self):
        """The model's trainable variables, in the model's order."""
        return tuple(self._trainable)

    @property
    def non_trainable_variables(self):
        """The non-trainable variables (statistics, seeds, frozen weights), in the model's order."""
        return tuple(self._non_trainable)

    def __call__(self, *inputs, training=False):
        """Runs the model; `training` (a Python bool) picks the training or inference function."""
        if isinstance(training, (tf.Tensor, tf.Variable)):
            raise TypeError(
                f'Module of model "{self._kbridge_model.name}": `training` must be a Python bool, received a '
                "tensor. Call module.call_training / module.call_inference inside your own tf.cond instead."
            )
        function = self.call_training if training else self.call_inference
        if len(inputs) == 1 and isinstance(inputs[0], (list, tuple, dict)) and len(self.input_signature) > 1:
            inputs = tuple(_flat_inputs(self._kbridge_model, inputs[0], self.input_signature))
        return function(*inputs)

    def _make_call(self, training):
        def call(*inputs):
            return self.forward(inputs, training=training)

        call.__name__ = "call_training" if training else "call_inference"
        return call

    def forward(self, inputs, training=False):
        """Runs the model on the flat `inputs` with this module's variables (traceable)."""
        model = self._kbridge_model
        packed = list(inputs) if len(inputs) > 1 else inputs[0]
        saved = model._backend
        if self._force_tf:
            # A snapshot of a model living on another backend: its layers compute with TF ops.
            model._backend = registry.get("tensorflow")
        try:
            outputs, new_state = model.stateless_call(self._trainable, self._non_trainable, packed, training=training)
        finally:
            model._backend = saved
        for variable, value in zip(self._non_trainable, new_state):
            if value is not variable:
                variable.assign(value)
        return outputs

    def __repr__(self):
        return f"<KbridgeTFModule model={self._kbridge_model.name!r} variables={len(self.variables_by_path)}>"


def _flat_inputs(model, inputs, specs):
    if isinstance(inputs, dict):
        return [inputs[s.name] for s in specs]
    return tree.flatten(inputs)


def _scope_name(name):
    cleaned = "".join(c if c.isalnum() or c == "_" else "_" for c in str(name))
    return cleaned if cleaned and not cleaned[0].isdigit() else f"m_{cleaned}"
