"""`Sequential`: a plain stack of layers, one input and one output each."""

from kbridge.layers.input_layer import InputLayer
from kbridge.layers.layer import Layer
from kbridge.models.functional import Functional
from kbridge.models.model import Model, graph_building_scope
from kbridge.symbolic.keras_tensor import KerasTensor


class Sequential(Model):
    """A model made of layers applied one after the other.

    Once the input shape is known (an `Input`/`InputLayer` first, an
    `input_shape=` argument on the first layer, `build(input_shape)`, or the
    first call), the stack is traced into a Functional graph, as in Keras 3.
    Variable paths are `layers.<i>.<name>`, counting the layers of `model.layers`
    (the InputLayer is not counted).

    Args:
        layers: optional list of layers (or an `Input` tensor first).
        trainable: whether its variables are trained.
        name: the model's name.

    Example:
        >>> model = Sequential([Input((4,)), Dense(8), Dense(1)])
    """

    def __init__(self, layers=None, trainable=True, name=None, **kwargs):
        super().__init__(name=name, **kwargs)
        self._layers = []
        self._functional = None
        if layers:
            for layer in layers:
                self.add(layer, rebuild=False)
            self._maybe_rebuild()
        if not trainable:
            self.trainable = False

    # -- editing -------------------------------------------------------------------------

    def add(self, layer, rebuild=True):
        """Appends `layer` (a Layer, or an `Input` tensor as first element) to the stack."""
        if isinstance(layer, KerasTensor) and layer._keras_history is not None:
            origin = layer._keras_history[0]
            if isinstance(origin, InputLayer):
                layer = origin
        if not isinstance(layer, Layer):
            raise TypeError(
                f'Sequential model "{self.name}": only Layer instances can be added, received '
                f"{type(layer).__name__}: {layer!r}"
            )
        if not self._layers and not isinstance(layer, InputLayer):
            batch_shape = getattr(layer, "_input_shape_arg", None)
            if batch_shape is not None:
                self._layers.append(InputLayer(batch_shape=batch_shape))
        for existing in self._layers:
            if existing.name == layer.name and existing is not layer:
                raise ValueError(
                    f'All layers added to Sequential model "{self.name}" must have unique names; '
                    f"{layer.name!r} is already used. Pass another `name=`."
                )
        if isinstance(layer, InputLayer) and self._layers:
            if isinstance(self._layers[0], InputLayer):
                raise ValueError(
                    f'Sequential model "{self.name}" already has input shape {self._layers[0].batch_shape}; '
                    "you cannot add a different Input layer to it."
                )
            raise ValueError(f'Sequential model "{self.name}": an Input layer can only be added first.')
        self._layers.append(layer)
        if rebuild:
            self._maybe_rebuild()
        else:
            self._functional = None
            self.built = False
            self.autocast = True

    def pop(self, rebuild=True):
        """Removes the last layer and returns it."""
        if not self.layers:
            raise TypeError(f'Sequential model "{self.name}" has no layers to pop.')
        layer = self._layers.pop()
        self._functional = None
        self.built = False
        self.autocast = True
        if rebuild:
            self._maybe_rebuild()
        return layer

    def _maybe_rebuild(self):
        self._functional = None
        self.built = False
        self.autocast = True
        if not self._layers or len(self._layers) < 2 and isinstance(self._layers[0], InputLayer):
            return
        first = self._layers[0]
        if isinstance(first, InputLayer):
            self.build(first.batch_shape)
        elif isinstance(first, Functional) or (isinstance(first, Sequential) and first._functional is not None):
            self.build(first.input_shape)

    # -- structure -----------------------------------------------------------------------

    @property
    def layers(self):
        """The stacked layers (the InputLayer excluded)."""
        if self._layers and isinstance(self._layers[0], InputLayer):
            return self._layers[1:]
        return list(self._layers)

    @layers.setter
    def layers(self, _):
        raise AttributeError("`Sequential.layers` is reserved; use add() and pop() to change the layers.")

    def _named_children(self):
        return [(f"layers.{index}", layer) for index, layer in enumerate(self.layers)]

    def _require_graph(self, what):
        if self._functional is None:
            raise AttributeError(f'Sequential model "{self.name}" has no defined {what} yet: build it or call it first.')
        return self._functional

    @property
    def inputs(self):
        """Flat list of the input KerasTensors (once built)."""
        return self._require_graph("inputs").inputs

    @property
    def outputs(self):
        """Flat list of the output KerasTensors (once built)."""
        return self._require_graph("outputs").outputs

    @property
    def input(self):
        """The input KerasTensor (once built)."""
        return self._require_graph("input").input

    @property
    def output(self):
        """The output KerasTensor (once built)."""
        return self._require_graph("output").output

    @property
    def input_shape(self):
        """The input shape, batch dimension included (once built)."""
        return self._require_graph("input shape").input_shape

    @property
    def output_shape(self):
        """The output shape, batch dimension included (once built)."""
        return self._require_graph("output shape").output_shape

    # -- building and calling ------------------------------------------------------------

    def build(self, input_shape=None):
        """Traces the stack on a symbolic input of `input_shape` (batch dimension included)."""
        if not self.layers:
            raise ValueError(f'Sequential model "{self.name}" cannot be built: it has no layers. Call add(layer).')
        if input_shape is None:
            if not isinstance(self._layers[0], InputLayer):
                raise ValueError(f'Sequential model "{self.name}": build() needs an `input_shape`.')
            input_shape = self._layers[0].batch_shape
        input_shape = tuple(input_shape)
        if isinstance(self._layers[0], InputLayer):
            if tuple(self._layers[0].batch_shape) != input_shape:
                raise ValueError(
                    f'Sequential model "{self.name}" is configured for input shape {self._layers[0].batch_shape}; '
                    f"it cannot be built with input_shape {input_shape}."
                )
        else:
            self._layers.insert(0, InputLayer(batch_shape=input_shape, dtype=self.layers[0].compute_dtype))
        x = inputs = self._layers[0].output
        with graph_building_scope():
            try:
                for layer in self._layers[1:]:
                    x = layer(x)
            except NotImplementedError:
                # A layer that cannot run symbolically: run the stack eagerly instead.
                self._functional = None
                return
            self._functional = Functional(inputs, x, name=f"{self.name}_graph")
        # The graph casts inputs to the Input's dtype; until then, cast floats as any layer does.
        self.autocast = False
        self._set_variable_paths()

    def _maybe_build(self, args, kwargs):
        first = args[0] if args else None
        if isinstance(first, KerasTensor):
            shape = first.shape
        else:
            shape = tuple(getattr(first, "shape", ()))
            # Built from data: keep the batch dimension free, as for an Input.
            shape = (None,) + shape[1:] if shape else shape
        self.build(shape)

    def call(self, inputs, training=None, mask=None):
        """Applies the layers in order."""
        if self._functional is not None:
            return self._functional.call(inputs, training=training, mask=mask)
        for layer in self.layers:
            kwargs = {}
            if layer._call_info.has_mask and mask is not None:
                kwargs["mask"] = mask
            if layer._call_info.has_training and training is not None:
                kwargs["training"] = training
            outputs = layer(inputs, **kwargs)
            mask = layer.compute_mask(inputs, mask)
            inputs = outputs
        self._eager_mask = mask
        return inputs

    def compute_output_spec(self, inputs, training=None, mask=None):
        """KerasTensors of the outputs for symbolic `inputs`."""
        if self._functional is not None:
            return self._functional.compute_output_spec(inputs, training=training)
        for layer in self.layers:
            inputs = layer.compute_output_spec(inputs)
        return inputs

    def compute_output_shape(self, input_shape):
        """The output shape for inputs of `input_shape`."""
        if self._functional is not None:
            return self._functional.compute_output_shape(input_shape)
        for layer in self.layers:
            input_shape = layer.compute_output_shape(input_shape)
        return input_shape

    def compute_mask(self, inputs, previous_mask=None):
        """The output mask of the last call."""
        if self._functional is not None:
            return self._functional.compute_mask(inputs, previous_mask)
        return getattr(self, "_eager_mask", None)

    # -- config --------------------------------------------------------------------------

    def get_config(self):
        """Keras 3's Sequential config: `name`, `trainable`, `dtype`, `layers` (InputLayer
        first when known) and `build_input_shape`."""
        from kbridge.saving.serialization_lib import serialize_keras_object

        config = Layer.get_config(self)
        config = {k: config[k] for k in ("name", "trainable", "dtype") if k in config}
        config["layers"] = [serialize_keras_object(layer) for layer in self._layers]
        if self._functional is not None:
            config["build_input_shape"] = self._layers[0].batch_shape
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """Creates the model from `get_config()` output."""
        from kbridge.saving.serialization_lib import deserialize_keras_object

        if "layers" not in config:
            raise ValueError(f"A Sequential config needs 'name' and 'layers' keys, received {config}")
        model = cls(name=config.get("name"))
        for layer_config in config["layers"]:
            model.add(deserialize_keras_object(layer_config, custom_objects=custom_objects), rebuild=False)
        build_input_shape = config.get("build_input_shape")
        if model._layers:
            if isinstance(model._layers[0], InputLayer) and len(model._layers) > 1:
                model.build(model._layers[0].batch_shape)
            elif build_input_shape:
                model.build(build_input_shape)
        if config.get("trainable") is False:
            model.trainable = False
        return model
