"""`Model`: a Layer with model utilities; `Model(inputs, outputs)` builds a Functional model.

Training (`compile`/`fit`/`evaluate`/`predict`) is added by a trainer mixin placed before
`Model` in the class hierarchy; this module only holds what every model kind shares.
"""

import contextlib
import inspect
import warnings

from kbridge.backend import dispatch
from kbridge.backend._state import state
from kbridge.layers.layer import Layer
from kbridge.trainers.trainer import Trainer
from kbridge.symbolic import tracing
from kbridge.symbolic.keras_tensor import KerasTensor
from kbridge.utils import tree

# Model internals the structural walk must not treat as children.
_MODEL_INTERNALS = frozenset(
    {
        "_layers",
        "_functional",
        "_operations",
        "_inputs",
        "_outputs",
        "_inputs_struct",
        "_outputs_struct",
        "_nodes",
        "_nodes_by_depth",
        "_steps",
        "_output_masks_cache",
    }
)


# The `compile()` arguments a compile config holds (Keras 3's `get_compile_config` keys).
_COMPILE_KEYS = (
    "optimizer",
    "loss",
    "loss_weights",
    "metrics",
    "weighted_metrics",
    "run_eagerly",
    "steps_per_execution",
    "jit_compile",
)


@contextlib.contextmanager
def graph_building_scope():
    """Leaves the symbolic scope (if inside one) so that layer calls on KerasTensors
    record graph nodes, e.g. when a Sequential builds during a symbolic call."""
    if not tracing.in_symbolic_scope():
        yield
        return
    saved = (state.ops, state.scope, state.scope_fallback)
    # Top-level dispatch: ops on KerasTensors record nodes, as outside any layer.
    state.ops = dispatch.AUTO
    state.scope = state.scope_fallback = None
    try:
        yield
    finally:
        state.ops, state.scope, state.scope_fallback = saved


def functional_init_arguments(args, kwargs):
    """Whether constructor arguments describe a Functional model (inputs and outputs)."""
    return (len(args) == 2) or (len(args) == 1 and "outputs" in kwargs) or ("inputs" in kwargs and "outputs" in kwargs)


class Model(Trainer, Layer):
    """A layer with model utilities (`summary`, `get_layer`, `to_json`).

    Two ways to create one, as in Keras 3:

    - Functional: `Model(inputs=inputs, outputs=outputs)` returns a `Functional`.
    - Subclassing: define sublayers in `__init__` and the computation in `call`.
      Sublayers held in attributes, lists or dicts get structural variable paths
      (`encoder.kernel`, `blocks.0.kernel`).

    Args:
        name: the model's name.
        trainable: whether its variables are trained.
        dtype: dtype policy (as `Layer`).
    """

    _TRACKING_EXCLUDE = Layer._TRACKING_EXCLUDE | _MODEL_INTERNALS
    # Set when sublayers build during a call: variable paths are assigned after it.
    _paths_pending = False

    def __new__(cls, *args, **kwargs):
        if cls is Model and functional_init_arguments(args, kwargs):
            from kbridge.models.functional import Functional

            return Functional.__new__(Functional, *args, **kwargs)
        return super().__new__(cls, *args, **kwargs)

    def __init__(self, *args, **kwargs):
        if functional_init_arguments(args, kwargs):
            from kbridge.models.functional import Functional, _functional_subclass

            if not isinstance(self, Functional):
                # A subclass calling `super().__init__(inputs, outputs)`: become Functional (as Keras).
                self.__class__ = _functional_subclass(type(self))
            Functional.__init__(self, *args, **kwargs)
            return
        if args:
            raise TypeError(f"{type(self).__name__}: unexpected positional arguments {args}")
        Layer.__init__(self, **kwargs)

    # -- structure -----------------------------------------------------------------------

    @property
    def layers(self):
        """The model's direct sublayers, in the order they were assigned."""
        out, seen = [], set()
        for _, child in self._named_children():
            if isinstance(child, Layer) and id(child) not in seen:
                seen.add(id(child))
                out.append(child)
        return out

    @layers.setter
    def layers(self, _):
        raise AttributeError(
            "`Model.layers` is reserved and cannot be assigned. Store sublayers under another name, "
            "e.g. `self.blocks = [...]`."
        )

    def get_layer(self, name=None, index=None):
        """Returns a sublayer by `name` or by `index` in `model.layers`."""
        if index is not None and name is not None:
            raise ValueError(f'Model "{self.name}": pass either `name` or `index` to get_layer, not both.')
        layers = self.layers
        if index is not None:
            if not -len(layers) <= index < len(layers):
                raise ValueError(
                    f'Model "{self.name}": get_layer index {index} is out of range; the model has {len(layers)} layers.'
                )
            return layers[index]
        if name is not None:
            for layer in layers:
                if layer.name == name:
                    return layer
            raise ValueError(f'Model "{self.name}" has no layer named {name!r}. Its layers: {[la.name for la in layers]}')
        raise ValueError(f'Model "{self.name}": pass `name` or `index` to get_layer.')

    def _set_variable_paths(self):
        for path, variable in self.named_variables():
            variable.path = path

    # -- building ------------------------------------------------------------------------

    def build(self, input_shape=None):
        """Builds a subclassed model by tracing `call` on symbolic inputs of `input_shape`.

        Args:
            input_shape: a shape tuple (batch dimension included, may be None),
                or a list/dict of them for several inputs.
        """
        if input_shape is None:
            raise ValueError(f'Model "{self.name}": build() needs an `input_shape`.')
        inputs = _shapes_to_tensors(input_shape)
        target = self._backend or state.backend or self._home_backend or dispatch.current_backend()
        saved_outermost = state.outermost
        state.outermost = False
        try:
            with tracing.symbolic_scope(target):
                self.call(inputs)
        except Exception as error:
            raise ValueError(
                f'Model "{self.name}" could not be built by tracing `call` on inputs of shape {input_shape}: '
                f"{type(error).__name__}: {error}. Call the model on real data instead (this builds it), "
                "or define `build()`."
            ) from error
        finally:
            state.outermost = saved_outermost
        self._set_variable_paths()

    def _maybe_build(self, args, kwargs):
        if type(self).build is not Model.build:
            super()._maybe_build(args, kwargs)
            self._set_variable_paths()
            return
        # Default build: sublayers build themselves during the first call (which
        # keeps value-dependent Python control flow in `call` working).
        first = args[0] if args else None
        shape = tree.map_structure(_shape_of, first)
        self._build_shapes = ((shape,), {})
        self._build_shapes_recorded = True
        self.built = True
        self._paths_pending = True

    def _outermost_call(self, args, kwargs, leaves):
        outputs = super()._outermost_call(args, kwargs, leaves)
        if self._paths_pending:
            self._paths_pending = False
            self._set_variable_paths()
        return outputs

    def _symbolic_call(self, args, kwargs):
        outputs = super()._symbolic_call(args, kwargs)
        if self._paths_pending:
            self._paths_pending = False
            self._set_variable_paths()
        return outputs

    # -- inspection ----------------------------------------------------------------------

    def summary(
        self,
        line_length=None,
        positions=None,
        print_fn=None,
        expand_nested=False,
        show_trainable=False,
        layer_range=None,
    ):
        """Prints a table of the layers: name (type), output shape, parameter count.

        Args:
            line_length: total width of the table.
            positions: relative or absolute right edges of the columns.
            print_fn: called with the summary text (default `print`).
            expand_nested: also list the layers of nested models.
            show_trainable: add a column telling whether each layer is trainable.
            layer_range: `[first_name, last_name]` (regexes) to print a slice.
        """
        from kbridge.utils import summary_utils

        summary_utils.print_summary(
            self, line_length=line_length, positions=positions, print_fn=print_fn,
            expand_nested=expand_nested, show_trainable=show_trainable, layer_range=layer_range,
        )  # fmt: skip

    # -- weight files --------------------------------------------------------------------

    def save_weights(self, filepath, overwrite=True):
        """Saves the weights (and the compiled optimizer's state) to a `.weights.h5` file in
        Keras 3's layout; the write is atomic (see `kbridge.saving.weights_file`)."""
        from kbridge.saving import weights_file

        weights_file.save_weights(self, filepath, overwrite=overwrite)

    def load_weights(self, filepath, skip_mismatch=False):
        """Loads weights from a `.weights.h5` file (kbridge's or Keras 3's) or a `.keras` archive."""
        from kbridge.saving import weights_file

        weights_file.load_weights(self, filepath, skip_mismatch=skip_mismatch)

    def save(self, filepath, overwrite=True, zipped=None, **kwargs):
        """Saves the model (config, weights, optimizer state, assets) as a Keras 3 `.keras` archive.

        Args:
            filepath: a path ending in `.keras` (with `zipped=False`: a folder path without it).
            overwrite: if False and the target exists, ask on the terminal before overwriting.
            zipped: write a zip archive (default) or a folder with the same members.

        Raises:
            ValueError: for another extension (the legacy `.h5` format is not written) or an
                unknown keyword argument.
        """
        from kbridge.saving import keras_file

        keras_file.save_model(self, filepath, overwrite=overwrite, zipped=zipped, **kwargs)

    # -- compile config ------------------------------------------------------------------

    def get_compile_config(self):
        """Returns the `compile()` arguments as a serialized dict (Keras 3's keys); `{}` when not compiled."""
        from kbridge.optimizers.optimizer import Optimizer
        from kbridge.saving import serialization_lib

        if not self._compiled or not hasattr(self, "_compile_args"):
            return {}
        if not isinstance(self.optimizer, Optimizer):
            warnings.warn(
                f"Model {self.name!r} is compiled with a framework-native optimizer ({type(self.optimizer).__name__}), "
                "which cannot be written to a config: the compile config is not saved. Call `compile()` again after "
                "loading, or compile with a kbridge optimizer.",
                stacklevel=3,
            )
            return {}
        args = self._compile_args
        config = {
            "optimizer": self.optimizer,
            "loss": args["loss"],
            "loss_weights": args["loss_weights"],
            "metrics": args["metrics"],
            "weighted_metrics": args["weighted_metrics"],
            "run_eagerly": self.run_eagerly,
            "steps_per_execution": self.steps_per_execution,
            "jit_compile": self.jit_compile,
        }
        return serialization_lib.serialize_keras_object(config)

    def compile_from_config(self, config):
        """Compiles the model from `get_compile_config()` output and builds the optimizer's variables
        (so that saved optimizer state can be loaded into them)."""
        from kbridge.optimizers.optimizer import Optimizer
        from kbridge.saving import serialization_lib
        from kbridge.trainers.trainer import Trainer

        if type(self).compile is not Trainer.compile:
            warnings.warn(
                f"`compile()` was not called as part of model loading because the `compile()` method of "
                f"{type(self).__name__} is custom. Override `get_compile_config()` and `compile_from_config(config)` "
                "too, or call `compile()` manually after loading.",
                stacklevel=2,
            )
            return
        if not isinstance(config, dict):
            raise ValueError(f"Model {self.name!r}: compile_from_config expects a dict, received {config!r}")
        unknown = sorted(set(config) - set(_COMPILE_KEYS))
        if unknown:
            warnings.warn(
                f"Model {self.name!r}: ignoring unknown compile_config keys {unknown} (known: {list(_COMPILE_KEYS)}).",
                stacklevel=2,
            )
        config = {key: value for key, value in config.items() if key in _COMPILE_KEYS}
        config = serialization_lib.deserialize_keras_object(config)
        self.compile(**config)
        if self.built and isinstance(self.optimizer, Optimizer):
            self.optimizer.build(self.trainable_variables)

    # -- config --------------------------------------------------------------------------

    def get_config(self):
        """Returns the constructor arguments (subclassed models override as needed)."""
        return Layer.get_config(self)

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """Creates a model from `get_config()` output (Functional configs included)."""
        from kbridge.models.functional import Functional, functional_from_config

        if {"layers", "input_layers", "output_layers"} <= set(config):
            target = cls if issubclass(cls, Functional) or _functional_like_constructor(cls) else Functional
            return functional_from_config(target, config, custom_objects=custom_objects)
        config = dict(config)
        params = inspect.signature(cls.__init__).parameters
        if not any(p.kind is p.VAR_KEYWORD for p in params.values()):
            config = {k: v for k, v in config.items() if k in params}
        try:
            return cls(**config)
        except TypeError as error:
            raise TypeError(
                f"{cls.__name__}.from_config could not recreate the model from {config}: {error}. "
                "Subclassed models need `get_config()` returning their constructor arguments."
            ) from error

    def to_json(self, **kwargs):
        """Returns the model's config as a JSON string (`kbridge.models.model_from_json` reads it)."""
        import json

        from kbridge.saving import serialization_lib

        return json.dumps(serialization_lib.serialize_keras_object(self), default=_json_default, **kwargs)


def _json_default(value):
    if isinstance(value, tuple):
        return list(value)
    if hasattr(value, "tolist"):
        return value.tolist()
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable: {value!r}")


def _functional_like_constructor(cls):
    params = list(inspect.signature(cls.__init__).parameters.values())[1:]
    names = [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if names[:2] == ["inputs", "outputs"]:
        return True
    kinds = {p.kind for p in params}
    return inspect.Parameter.VAR_POSITIONAL in kinds and inspect.Parameter.VAR_KEYWORD in kinds


def _shape_of(x):
    if x is None:
        return None
    if isinstance(x, KerasTensor):
        return x.shape
    shape = getattr(x, "shape", None)
    return None if shape is None else tuple(shape)


def _is_shape(value):
    return isinstance(value, (tuple, list)) and all(d is None or isinstance(d, int) for d in value)


def _shapes_to_tensors(shapes):
    if _is_shape(shapes):
        return KerasTensor(tuple(shapes))
    if isinstance(shapes, dict):
        return {k: _shapes_to_tensors(v) for k, v in shapes.items()}
    if isinstance(shapes, (list, tuple)):
        return type(shapes)(_shapes_to_tensors(s) for s in shapes)
    raise ValueError(f"Invalid input shape {shapes!r}: expected a tuple of ints/None, or a list/dict of them.")
