"""`Layer`: the one building block; models are layers too.

The call path is kept lean because eager torch pays for every Python line of it:
input conversion, dtype casts and `input_spec` checks happen once, at the outermost
call; nested layers only maybe-build, resolve `training`, and call.
"""

import functools
import inspect

from kbridge import dtype_policies
from kbridge.backend import dispatch, registry
from kbridge.backend._state import state
from kbridge.backend.dtypes import FLOAT_TYPES, standardize_dtype
from kbridge.backend.stateless_scope import StatelessScope
from kbridge.layers.input_spec import check_input_spec
from kbridge.symbolic.keras_tensor import KerasTensor
from kbridge.symbolic.node import Node
from kbridge.symbolic import tracing
from kbridge.tracking import Trackable
from kbridge.utils import naming, tree
from kbridge.variables import Variable

_CALL_INFO = {}
# Keyword arguments Keras lets any layer accept, for the first layer of a Sequential.
_SHAPE_KWARGS = ("input_shape", "batch_input_shape", "batch_size", "input_dim")


class _CallInfo:
    """What a layer class's `call` signature accepts (computed once per class)."""

    def __init__(self, call):
        params = inspect.signature(call).parameters
        self.has_training = "training" in params
        self.has_mask = "mask" in params
        self.has_var_kwargs = any(p.kind is p.VAR_KEYWORD for p in params.values())
        self.arg_names = [
            name for name, p in params.items() if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ][1:]
        self.has_var_args = any(p.kind is p.VAR_POSITIONAL for p in params.values())
        # Positional parameters that take tensors: those before `training`/`mask`.
        self.n_tensor_args = len(self.arg_names)
        for i, name in enumerate(self.arg_names):
            if name in ("training", "mask"):
                self.n_tensor_args = i
                break


def _call_info(cls):
    info = _CALL_INFO.get(cls)
    if info is None:
        info = _CALL_INFO[cls] = _CallInfo(cls.call)
    return info


def _wrap_build(build):
    @functools.wraps(build)
    def wrapper(self, *args, **kwargs):
        if not self._build_shapes_recorded:
            self._build_shapes = (args, kwargs)
            self._build_shapes_recorded = True
        build(self, *args, **kwargs)
        self.built = True
        self._refresh_backend()

    wrapper._kb_wrapped = True
    return wrapper


class Layer(Trackable):
    """Base class of all layers (Keras 3 `keras.layers.Layer`).

    Subclasses create state in `__init__` or `build(input_shape)` with `add_weight`,
    and compute in `call(inputs, ...)` with `kbridge.ops`; `call` may take
    `training` and `mask` arguments.

    Args:
        activity_regularizer: optional regularizer applied to the outputs.
        trainable: whether the layer's variables are trained.
        dtype: dtype name or `DTypePolicy` (compute and variable dtypes).
        autocast: whether floating inputs are cast to the compute dtype.
        name: display name (not used in variable paths).
    """

    _TRACKING_EXCLUDE = frozenset({"_inbound_nodes", "_trainable_variables", "_non_trainable_variables"})

    def __new__(cls, *args, **kwargs):
        instance = super().__new__(cls)
        # Remember constructor arguments so `get_config` works for simple subclasses.
        try:
            bound = inspect.signature(cls.__init__).bind(None, *args, **kwargs)
            arguments = dict(bound.arguments)
            arguments.pop(next(iter(arguments)), None)
            extra = arguments.pop("kwargs", {}) if "kwargs" in inspect.signature(cls.__init__).parameters else {}
            arguments.update(extra)
            instance._init_arguments = arguments
        except TypeError:
            instance._init_arguments = None
        return instance

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        build = cls.__dict__.get("build")
        if build is not None and not getattr(build, "_kb_wrapped", False):
            cls.build = _wrap_build(build)

    def __init__(self, *, activity_regularizer=None, trainable=True, dtype=None, autocast=True, name=None, **kwargs):
        shape_kwargs = {k: kwargs.pop(k) for k in _SHAPE_KWARGS if k in kwargs}
        if kwargs:
            raise TypeError(f"Unrecognized keyword arguments passed to {type(self).__name__}: {kwargs}")
        if name is not None and (not isinstance(name, str) or not name):
            raise ValueError(f"{type(self).__name__}: `name` must be a non-empty string, received {name!r}")
        self.name = name or naming.auto_name(type(self).__name__)
        self._trainable = bool(trainable)
        self.dtype_policy = dtype_policies.get(dtype)
        self.autocast = autocast
        self.built = False
        self.input_spec = None
        self.supports_masking = False
        self.activity_regularizer = None
        if activity_regularizer is not None:
            from kbridge import regularizers

            self.activity_regularizer = regularizers.get(activity_regularizer)
        self._trainable_variables = []
        self._non_trainable_variables = []
        self._inbound_nodes = []
        self._losses = []
        self._backend = None
        # A `use()` scope active at construction is where the variables will go,
        # unless the first call's inputs are tensors of another framework.
        self._home_backend = state.backend
        self._weightless = False
        self._build_shapes = None
        self._build_shapes_recorded = False
        self._call_info = _call_info(type(self))
        self._input_shape_arg = _batch_shape_from_kwargs(type(self).__name__, shape_kwargs)
        if type(self).build is Layer.build:
            # No build step: the layer is ready as soon as it exists.
            self.built = True

    # -- state --------------------------------------------------------------------------

    def add_weight(
        self,
        shape=None,
        initializer=None,
        dtype=None,
        trainable=True,
        autocast=True,
        regularizer=None,
        constraint=None,
        aggregation="none",
        overwrite_with_gradient=False,
        name=None,
    ):
        """Creates a variable owned by this layer and returns it.

        Args:
            shape: the variable's shape (default scalar).
            initializer: initializer object or name; default "glorot_uniform"
                for floats and "zeros" otherwise.
            dtype: defaults to the layer's variable dtype.
            trainable: whether optimizers update it.
            regularizer, constraint: applied by the trainer.
            name: the last component of the variable's path.
        """
        shape = () if shape is None else tuple(shape)
        dtype = standardize_dtype(dtype or self.dtype_policy.variable_dtype)
        if initializer is None:
            initializer = "glorot_uniform" if dtype in FLOAT_TYPES else "zeros"
        variable = Variable(
            initializer, shape=shape, dtype=dtype, trainable=trainable, autocast=autocast,
            aggregation=aggregation, name=name,
        )  # fmt: skip
        if regularizer is not None:
            from kbridge import regularizers

            variable.regularizer = regularizers.get(regularizer)
        if constraint is not None:
            from kbridge import constraints

            variable.constraint = constraints.get(constraint)
        variable.overwrite_with_gradient = overwrite_with_gradient
        (self._trainable_variables if trainable else self._non_trainable_variables).append(variable)
        if not self._trainable:
            variable.trainable = False
        self._backend = variable._backend
        return variable

    add_variable = add_weight

    def _own_variables(self):
        return self._trainable_variables + self._non_trainable_variables

    @property
    def trainable(self):
        """Whether the layer and its sublayers are trained (setting it recurses)."""
        return self._trainable

    @trainable.setter
    def trainable(self, value):
        value = bool(value)
        self._trainable = value
        for variable in self._trainable_variables:
            variable.trainable = value
        for _, child in self._named_children():
            if isinstance(child, Layer):
                child.trainable = value

    @property
    def variables(self):
        """All state: weights, plus seed-generator state."""
        return [v for _, v in self.named_variables()]

    @property
    def trainable_variables(self):
        """The variables optimizers update."""
        return [v for v in self.variables if v.trainable] if self._trainable else []

    @property
    def non_trainable_variables(self):
        """The variables optimizers do not update (statistics, seeds, frozen weights)."""
        return [v for v in self.variables if not v.trainable] if self._trainable else self.variables

    @property
    def weights(self):
        """Weight variables (no seed-generator state), own trainable first, then sublayers'."""
        return [v for _, v in self.named_variables(weights_only=True)]

    @property
    def trainable_weights(self):
        """Trainable weights."""
        return [v for v in self.weights if v.trainable] if self._trainable else []

    @property
    def non_trainable_weights(self):
        """Non-trainable weights."""
        return [v for v in self.weights if not v.trainable] if self._trainable else self.weights

    def get_weights(self):
        """Returns the weights as a list of NumPy arrays."""
        return [v.numpy() for v in self.weights]

    def set_weights(self, weights):
        """Sets the weights from a list of arrays, in the order of `get_weights()`."""
        own = self.named_variables(weights_only=True)
        if len(weights) != len(own):
            raise ValueError(
                f'Layer "{self.name}": set_weights expects a list of {len(own)} arrays, received {len(weights)}.'
            )
        for (path, variable), value in zip(own, weights):
            value_shape = tuple(getattr(value, "shape", ()))
            if value_shape != variable.shape:
                raise ValueError(
                    f'Layer "{self.name}": weight {path} has shape {variable.shape}, '
                    f"received an array of shape {value_shape}."
                )
        # Validate everything before assigning anything: a bad list changes no weight.
        for (_, variable), value in zip(own, weights):
            variable.assign(value)

    def count_params(self):
        """The number of scalars in the weights."""
        if not self.built:
            raise ValueError(f'Layer "{self.name}" is not built yet; call it on data or call build() first.')
        total = 0
        for variable in self.weights:
            size = 1
            for dim in variable.shape:
                size *= dim
            total += size
        return total

    def to_backend(self, name):
        """Moves every variable to backend `name` (exactly, through NumPy). Returns self."""
        target = registry.get(name)
        for variable in self.variables:
            variable.to_backend(target.NAME)
        for layer in self._flatten_layers():
            layer._refresh_backend()
            layer._home_backend = target
        return self

    def _refresh_backend(self):
        for _, variable in self.named_variables():
            self._backend = variable._backend
            return
        self._backend = None

    @property
    def dtype(self):
        """The variable dtype."""
        return self.dtype_policy.variable_dtype

    @property
    def compute_dtype(self):
        """The dtype computations run in."""
        return self.dtype_policy.compute_dtype

    @property
    def variable_dtype(self):
        """The dtype variables are stored in."""
        return self.dtype_policy.variable_dtype

    @property
    def losses(self):
        """Losses added with `add_loss` during the last outermost call, plus weight regularization."""
        collected = list(self._losses)
        for variable in self.trainable_weights:
            if variable.regularizer is not None:
                collected.append(variable.regularizer(variable.value))
        return collected

    def add_loss(self, loss):
        """Adds a loss tensor (e.g. activity regularization) to be minimized."""
        if state.scope_losses is not None:
            state.scope_losses.append(loss)
        else:
            self._losses.append(loss)

    def _flatten_layers(self, include_self=True):
        seen = set()
        out = []

        def visit(layer):
            if id(layer) in seen:
                return
            seen.add(id(layer))
            out.append(layer)
            for _, child in layer._named_children():
                if isinstance(child, Layer):
                    visit(child)

        visit(self)
        return out if include_self else out[1:]

    # -- building -----------------------------------------------------------------------

    def build(self, input_shape=None):
        """Creates the layer's variables for inputs of `input_shape` (override in subclasses)."""
        self.built = True

    def _maybe_build(self, args, kwargs):
        build = type(self).build
        if build is Layer.build:
            self.built = True
            return
        params = list(inspect.signature(build).parameters)[1:]
        shape_of = _shape_function()
        if len(params) > 1 and all(p.endswith("_shape") for p in params):
            # build(query_shape, value_shape) for call(query, value): match by name.
            values = dict(zip(self._call_info.arg_names, args))
            values.update(kwargs)
            shapes = {p: tree.map_structure(shape_of, values.get(p[: -len("_shape")])) for p in params}
            self.build(**{k: v for k, v in shapes.items() if v is not None})
        else:
            first = args[0] if args else kwargs.get(self._call_info.arg_names[0]) if self._call_info.arg_names else None
            self.build(tree.map_structure(shape_of, first))
        self.built = True

    def compute_output_shape(self, *args, **kwargs):
        """Returns the output shape for inputs of the given shape (override when cheap to state)."""
        raise NotImplementedError

    def compute_output_spec(self, *args, **kwargs):
        """Returns KerasTensors describing the outputs, without computing anything."""
        if type(self).compute_output_shape is not Layer.compute_output_shape:
            shapes = tree.map_structure(_shape_function(), args[0] if args else None)
            output_shape = self.compute_output_shape(shapes)
            return _shapes_to_specs(output_shape, self.compute_dtype)
        return self.call(*args, **kwargs)

    def compute_mask(self, inputs, previous_mask):
        """Returns the output mask (default: pass the input mask through if `supports_masking`)."""
        return previous_mask if self.supports_masking else None

    # -- calling ------------------------------------------------------------------------

    def call(self, *args, **kwargs):
        """The layer's computation (override in subclasses)."""
        raise NotImplementedError(f"Layer {type(self).__name__} does not implement call().")

    def __call__(self, *args, **kwargs):
        # One plain tensor, maybe with `training=`: the common case needs no flattening.
        if len(args) == 1 and type(args[0]) not in _NESTED and (not kwargs or kwargs.keys() == _TRAINING_ONLY):
            leaves = args
            symbolic = 1 if isinstance(args[0], KerasTensor) else 0
        else:
            leaves = tree.flatten((args, kwargs))
            symbolic = sum(1 for x in leaves if isinstance(x, KerasTensor))
        if symbolic:
            if symbolic != len(leaves) and any(_is_array(x) for x in leaves):
                raise ValueError(
                    f'Layer "{self.name}" was called on symbolic KerasTensors and concrete arrays at once. '
                    "Pass only KerasTensors (to build a model) or only arrays (to compute)."
                )
            return self._symbolic_call(args, kwargs)
        if state.outermost:
            return self._outermost_call(args, kwargs, leaves)
        return self._call_body(args, kwargs)

    def _outermost_call(self, args, kwargs, leaves):
        info = self._call_info
        if len(args) > info.n_tensor_args and not info.has_var_args:
            self._check_positional_count(args)
        module = self._backend or dispatch.backend_for(leaves) or self._home_backend or dispatch.current_backend()
        args = self._convert_inputs(module, args, leaves)
        if self.input_spec is not None and self.built and args:
            check_input_spec(self.name, self.input_spec, _spec_shapes(module, args[0], self.input_spec))
        saved = (state.ops, state.backend, state.outermost, state.scope_losses)
        state.ops = state.backend = module
        state.outermost = False
        # Losses added anywhere inside this call are collected once, here (unless an
        # enclosing stateless scope collects them).
        collected = [] if saved[3] is None else None
        if collected is not None:
            state.scope_losses = collected
        try:
            outputs = self._call_body(args, kwargs)
        finally:
            state.ops, state.backend, state.outermost, state.scope_losses = saved
        if collected is not None:
            self._losses = collected
        if self._backend is None and not self._weightless:
            # First call of a layer whose sublayers were built inside it.
            self._refresh_backend()
            self._weightless = self._backend is None
        return outputs

    def _check_positional_count(self, args):
        """Rejects extra positional tensors, which Python would bind to `training` or `mask`."""
        info = self._call_info
        extra = args[info.n_tensor_args:]
        if len(args) <= len(info.arg_names) and all(x is None or type(x) is bool for x in extra):
            return  # e.g. `layer(x, True)`: training passed positionally
        names = ", ".join(info.arg_names[: info.n_tensor_args]) or "none"
        raise TypeError(
            f'Layer "{self.name}" takes {info.n_tensor_args} positional input argument(s) ({names}), but received '
            f"{len(args)}. Pass the inputs of a multi-input model as one list or dict: model([x1, x2])."
        )

    def _convert_inputs(self, module, args, leaves):
        """Converts NumPy/list inputs to `module` tensors, casts floats to the compute
        dtype, and rejects tensors of another framework."""
        compute_dtype = self.compute_dtype if self.autocast else None

        def convert(x):
            if x is None or type(x) in (bool, int, float, str):
                return x
            if isinstance(x, Variable):
                x = x.value
            owner = registry.backend_of_type(type(x))
            if owner is not None and owner is not module and owner.NAME != "numpy":
                raise ValueError(
                    f'Layer "{self.name}" has its variables on the {module.NAME} backend but received a '
                    f"{owner.NAME} tensor ({type(x).__name__}). Pass {module.NAME} tensors or NumPy arrays, "
                    f'or move the model first: model.to_backend("{owner.NAME}").'
                )
            if owner is not module:
                try:
                    x = module.convert_to_tensor(x)
                except (TypeError, ValueError) as error:
                    described = f"{type(x).__name__} of dtype {x.dtype}" if hasattr(x, "dtype") else type(x).__name__
                    raise TypeError(
                        f'Layer "{self.name}" could not convert an input ({described}) to a {module.NAME} tensor: {error}'
                    ) from error
            if compute_dtype is not None:
                dtype = module.dtype(x)
                if dtype != compute_dtype and dtype in FLOAT_TYPES:
                    x = module.cast(x, compute_dtype)
            return x

        return tuple(tree.map_structure(convert, a) for a in args)

    def _call_body(self, args, kwargs):
        if not self.built:
            self._maybe_build(args, kwargs)
        info = self._call_info
        saved_training = state.training
        training = kwargs.get("training")
        if training is None:
            kwargs.pop("training", None)
            training = saved_training
        elif not info.has_training:
            kwargs.pop("training")
        if info.has_training and training is not None:
            kwargs["training"] = training
        if not info.has_mask and "mask" in kwargs and not info.has_var_kwargs:
            kwargs.pop("mask")
        state.training = training
        try:
            outputs = self.call(*args, **kwargs)
        finally:
            state.training = saved_training
        if self.activity_regularizer is not None:
            from kbridge import ops

            for output in tree.flatten(outputs):
                loss = self.activity_regularizer(output)
                if len(ops.shape(output)) > 0:  # per sample, as Keras 3.15: divided by the batch size
                    loss = ops.divide_no_nan(loss, ops.cast(ops.shape(output)[0], ops.dtype(loss)))
                self.add_loss(loss)
        return outputs

    def _symbolic_call(self, args, kwargs):
        target = self._backend or state.backend or self._home_backend or dispatch.current_backend()
        nested = tracing.in_symbolic_scope()
        kwargs = dict(kwargs)
        if kwargs.get("training", 0) is None or not self._call_info.has_training:
            kwargs.pop("training", None)
        if not self.built:
            # Built outside the symbolic scope, so a build that calls layers on
            # KerasTensors (Sequential) records graph nodes.
            saved_backend = state.backend
            state.backend = target
            try:
                self._maybe_build(args, kwargs)
            finally:
                state.backend = saved_backend
            self._refresh_backend()
        with tracing.symbolic_scope(target):
            if self.input_spec is not None and args:
                check_input_spec(self.name, self.input_spec, _spec_shapes(None, args[0], self.input_spec))
            saved_outermost = state.outermost
            state.outermost = False
            try:
                outputs = self.compute_output_spec(*args, **kwargs)
            finally:
                state.outermost = saved_outermost
        if not nested:
            outputs = tree.map_structure(_fresh_output, outputs)
            Node(self, args, kwargs, outputs)
        return outputs

    # -- pure call (DESIGN.md invariant 4) ------------------------------------------------------

    def stateless_call(self, trainable_variables, non_trainable_variables, *args, return_losses=False, **kwargs):
        """Calls the layer with the given variable values, touching no variable.

        Args:
            trainable_variables: values for `self.trainable_variables`, in order.
            non_trainable_variables: values for `self.non_trainable_variables`, in order.
            *args, **kwargs: the call's arguments (e.g. inputs, `training=True`).
            return_losses: also return the losses added during the call.

        Returns:
            `(outputs, new_non_trainable_values)`, plus the losses list when asked.
        """
        if not self.built:
            raise ValueError(f'Layer "{self.name}" must be built before stateless_call; call build() or call it once.')
        trainable = self.trainable_variables
        non_trainable = self.non_trainable_variables
        if len(trainable_variables) != len(trainable) or len(non_trainable_variables) != len(non_trainable):
            raise ValueError(
                f'Layer "{self.name}": stateless_call expects {len(trainable)} trainable and {len(non_trainable)} '
                f"non-trainable values, received {len(trainable_variables)} and {len(non_trainable_variables)}."
            )
        mapping = dict(zip(trainable, trainable_variables))
        mapping.update(zip(non_trainable, non_trainable_variables))
        return self._call_with_values(mapping, non_trainable, args, kwargs, return_losses)

    def _call_with_values(self, mapping, non_trainable, args, kwargs, return_losses=False):
        """`stateless_call` for callers that already hold the variable lists (adapters, per step).

        `mapping` maps each variable to the value it takes; `non_trainable` lists the variables
        whose new values are returned. Walking the layer tree for the lists costs more than a
        small model's forward pass, so adapters compute them once.
        """
        with StatelessScope(mapping, collect_losses=True) as scope:
            outputs = self(*args, **kwargs)
        new_non_trainable = [scope.get_current_value(v) for v in non_trainable]
        if return_losses:
            return outputs, new_non_trainable, scope.losses
        return outputs, new_non_trainable

    # -- config -------------------------------------------------------------------------

    def get_config(self):
        """Returns the constructor arguments as a JSON-friendly dict (Keras 3 keys)."""
        config = {
            "name": self.name,
            "trainable": self.trainable,
            "dtype": dtype_policies.serialize(self.dtype_policy),
        }
        if self._input_shape_arg is not None:
            config["batch_input_shape"] = self._input_shape_arg
        if type(self).get_config is Layer.get_config and self._init_arguments:
            extra = {k: v for k, v in self._init_arguments.items() if k not in config and k not in _SHAPE_KWARGS}
            config.update(extra)
        return config

    @classmethod
    def from_config(cls, config):
        """Creates a layer from `get_config()` output."""
        config = dict(config)
        if "batch_input_shape" in config and "batch_input_shape" not in inspect.signature(cls.__init__).parameters:
            config["batch_input_shape"] = config.pop("batch_input_shape")
        try:
            return cls(**config)
        except TypeError as error:
            raise TypeError(f"{cls.__name__}.from_config could not recreate the layer from {config}: {error}") from error

    def get_build_config(self):
        """Returns what `build_from_config` needs to rebuild the variables."""
        if self._build_shapes is not None:
            args, kwargs = self._build_shapes
            if args and not kwargs:
                return {"input_shape": args[0]}
            return {"shapes_dict": kwargs}
        return None

    def build_from_config(self, config):
        """Builds the layer from `get_build_config()` output."""
        if not config:
            return
        if "input_shape" in config:
            self.build(config["input_shape"])
        else:
            self.build(**config["shapes_dict"])

    @property
    def input(self):
        """The input KerasTensor(s) of the layer's first symbolic call."""
        return self._first_node("input").call_args[0]

    @property
    def output(self):
        """The output KerasTensor(s) of the layer's first symbolic call."""
        return self._first_node("output").outputs

    def _first_node(self, what):
        if not self._inbound_nodes:
            raise AttributeError(f'Layer "{self.name}" has never been called on KerasTensors and thus has no defined {what}.')
        return self._inbound_nodes[0]

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"


_NESTED = (list, tuple, dict)
_TRAINING_ONLY = {"training"}


def _is_array(x):
    return hasattr(x, "shape") and hasattr(x, "dtype") and not isinstance(x, KerasTensor)


def _fresh_output(x):
    # A layer returning its input unchanged (Identity) must still yield a new graph tensor.
    if isinstance(x, KerasTensor) and x._keras_history is not None:
        return KerasTensor(x.shape, x.dtype, x.sparse, name=x.name)
    return x


def _shape_function():
    module = state.ops

    def shape_of(x):
        if x is None:
            return None
        if isinstance(x, KerasTensor):
            return x.shape
        if isinstance(x, Variable):
            return x.shape
        if hasattr(x, "shape"):
            return tuple(module.shape(x)) if hasattr(module, "shape") else tuple(x.shape)
        return None

    return shape_of


def _spec_shapes(module, inputs, specs):
    def shape_of(x):
        if x is None:
            return None
        if isinstance(x, KerasTensor) or module is None:
            return tuple(x.shape)
        return tuple(module.shape(x))

    if isinstance(specs, (list, tuple)):
        flat = tree.flatten(inputs) if isinstance(inputs, (list, tuple, dict)) else [inputs]
        return [shape_of(x) for x in flat]
    return [shape_of(inputs if not isinstance(inputs, (list, tuple)) or not inputs else inputs)]


def _shapes_to_specs(shapes, dtype):
    if isinstance(shapes, tuple) and all(d is None or isinstance(d, int) for d in shapes):
        return KerasTensor(shapes, dtype)
    if isinstance(shapes, list) and shapes and all(d is None or isinstance(d, int) for d in shapes):
        return KerasTensor(tuple(shapes), dtype)
    if isinstance(shapes, dict):
        return {k: _shapes_to_specs(v, dtype) for k, v in shapes.items()}
    return type(shapes)(_shapes_to_specs(s, dtype) for s in shapes)


def _batch_shape_from_kwargs(class_name, kwargs):
    if not kwargs:
        return None
    if "batch_input_shape" in kwargs:
        return tuple(kwargs["batch_input_shape"])
    if "input_shape" in kwargs:
        return (kwargs.get("batch_size"),) + tuple(kwargs["input_shape"])
    if "input_dim" in kwargs:
        return (kwargs.get("batch_size"), int(kwargs["input_dim"]))
    return None
