"""`to_module(model)`: a kbridge model as a `torch.nn.Module` sharing its weights.

The module tree mirrors the layer tree (one `nn.Module` per tracked object, nested per
component of the structural path: `layers` -> `1` -> ...). Each trainable variable's
`nn.Parameter` is registered as it is (the very same object), every other variable as a
buffer, so `state_dict()` keys are exactly `model.named_variables()` paths. `forward`
reads every tensor through the module and calls `model.stateless_call` (DESIGN.md
invariant 4), so `torch.func.functional_call`, DDP and `torch.compile` see exactly the
module's tensors; new state (BatchNorm statistics, seeds) is copied back into the buffers.
"""

import torch

from kbridge.adapters.torch.backend._common import device_state
from kbridge.layers.layer import Layer
from kbridge.utils.call_inputs import pack_inputs

__all__ = ["KbridgeModule", "to_module"]


def to_module(model):
    """Wraps a built kbridge model (or layer) on the torch backend as an `nn.Module`.

    Args:
        model: a built `kbridge` Layer/Model whose variables live on the torch backend.

    Returns:
        A `KbridgeModule` sharing the model's variables as parameters and buffers.

    Raises:
        TypeError: `model` is not a kbridge layer.
        ValueError: the model is unbuilt or not on the torch backend.
    """
    if not isinstance(model, Layer):
        raise TypeError(f"to_module expects a kbridge Layer or Model, received {type(model).__name__}.")
    if not model.built:
        raise ValueError(
            f'Model "{model.name}" is not built yet; call it on data or call build(input_shape) '
            "before to_module()."
        )
    for path, variable in model.named_variables():
        if variable.backend != "torch":
            raise ValueError(
                f'Model "{model.name}": variable {path} lives on the {variable.backend} backend, not torch. '
                'Move the model first: model.to_backend("torch").'
            )
    return KbridgeModule(model)


class _Node(torch.nn.Module):
    """One node of the mirrored tree: holds a tracked object's own tensors and children."""

    def __init__(self, kind):
        super().__init__()
        self._kind = kind

    def extra_repr(self):
        return self._kind


class KbridgeModule(torch.nn.Module):
    """An `nn.Module` view of a kbridge model; build it with `to_module`.

    Attributes:
        model: the wrapped kbridge model (its variables are this module's tensors).
    """

    def __init__(self, model):
        super().__init__()
        # Stored outside `_modules`: the kbridge model is not an nn.Module.
        object.__setattr__(self, "model", model)
        object.__setattr__(self, "_torch_backend", model._backend)
        self._mirror_children(self, model, set())
        # (variable, owning module, leaf name, is_parameter) in path order.
        self._entries = []
        for path, variable in model.named_variables():
            *parents, leaf = path.split(".")
            owner = self
            for part in parents:
                if part not in owner._modules:
                    owner.add_module(part, _Node("state"))
                owner = owner._modules[part]
            value = variable._value
            if isinstance(value, torch.nn.Parameter):
                owner.register_parameter(leaf, value)
            else:
                owner.register_buffer(leaf, value)
            self._entries.append((variable, owner, leaf, isinstance(value, torch.nn.Parameter)))
        self.refresh()

    def _mirror_children(self, node, obj, seen):
        """Adds one child module per tracked child (layers included when weightless)."""
        seen.add(id(obj))
        for name, child in obj._named_children():
            if id(child) in seen or not child._IN_PARENT_VARIABLES:
                continue
            owner = node
            *parents, leaf = name.split(".")
            for part in parents:
                if part not in owner._modules:
                    owner.add_module(part, _Node("list"))
                owner = owner._modules[part]
            sub = _Node(type(child).__name__)
            owner.add_module(leaf, sub)
            self._mirror_children(sub, child, seen)

    def refresh(self):
        """Re-reads which variables are trainable; call it after changing `layer.trainable`.

        Frozen weights keep their `nn.Parameter` (state_dict keys do not change) but get
        `requires_grad=False` (so `torch.optim` and DDP leave them alone) and are passed
        to `stateless_call` as non-trainable values. Unfreezing needs `refresh()` too:
        it turns `requires_grad` back on, which kbridge's own `fit` relies on as well.
        """
        trainable = self.model.trainable_variables
        self._non_trainable_variables = self.model.non_trainable_variables
        # Frozen weights stop asking for gradients: `torch.optim` over `parameters()`
        # skips them (grad stays None) and DDP neither waits for nor reduces them.
        wanted = {id(v) for v in trainable}
        for variable, owner, leaf, is_parameter in self._entries:
            if is_parameter:
                owner._parameters[leaf].requires_grad_(id(variable) in wanted)

    @staticmethod
    def _read(owner, leaf):
        tensor = owner._parameters.get(leaf)
        return owner._buffers[leaf] if tensor is None else tensor

    def forward(self, *inputs, **kwargs):
        """Runs the model on the module's tensors; `self.training` is the training flag."""
        if self.model._backend is not self._torch_backend:
            raise ValueError(
                f'Model "{self.model.name}" was moved to the {self.model._backend.NAME} backend after to_module(), '
                "so this module no longer shares its weights. Move it back and wrap it again: "
                'model.to_backend("torch"); module = kbridge.adapters.torch.to_module(model).'
            )
        if "training" not in kwargs:
            kwargs["training"] = self.training
        # Read through the module, so functional_call / DDP / compile substitutions are seen.
        mapping = {variable: self._read(owner, leaf) for variable, owner, leaf, _ in self._entries}
        non_trainable = [mapping[variable] for variable in self._non_trainable_variables]
        inputs = pack_inputs(self.model, inputs)
        # Tensors the model makes from nothing (constants, random counters) go to the
        # module's device, so `.to(device)` works for XLA and CUDA too.
        previous = device_state.device
        if mapping:
            device_state.device = next(iter(mapping.values())).device
        try:
            if not self.model.built:
                raise ValueError(f'Model "{self.model.name}" must be built before it is called through its module.')
            outputs, new_state = self.model._call_with_values(
                mapping, self._non_trainable_variables, inputs, kwargs
            )
        finally:
            device_state.device = previous
        with torch.no_grad():
            for old, new in zip(non_trainable, new_state):
                if new is not old:
                    old.copy_(new)
        return outputs

    def _apply(self, fn, *args, **kwargs):
        """Applies `fn` (`.to`, `.double`, ...) and re-points the variables at the new tensors."""
        result = super()._apply(fn, *args, **kwargs)
        self.sync_variables()
        return result

    def sync_variables(self):
        """Makes every kbridge variable hold this module's current parameter/buffer object."""
        for variable, owner, leaf, _ in self._entries:
            variable._value = self._read(owner, leaf)

    def __repr__(self):
        return f"KbridgeModule(model={self.model.name!r})\n" + super().__repr__()
