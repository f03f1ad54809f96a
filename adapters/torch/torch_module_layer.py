"""`TorchModuleLayer`: an existing `torch.nn.Module` as a kbridge layer (torch backend only).

The module's parameters become the layer's trainable variables, and they are the very
same `nn.Parameter` objects (a variable's storage *is* the parameter), so `fit`, a
`torch.optim` optimizer over `module.parameters()` and `to_module(model)` all update one
set of tensors. Buffers become non-trainable variables sharing the buffer tensors.
`call` runs `torch.func.functional_call(module, {name: variable.value}, inputs)`, so the
module always computes with the variables' current values, including the overriding
values of a kbridge stateless call (`stateless_call`, `to_module(...).forward`).
"""

import torch

import kbridge
from kbridge.adapters.torch.backend._common import to_torch_dtype
from kbridge.backend import dispatch
from kbridge.backend._state import state
from kbridge.layers.layer import Layer
from kbridge.symbolic.keras_tensor import KerasTensor
from kbridge.utils import tree
from kbridge.variables import Variable

__all__ = ["TorchModuleLayer"]


class TorchModuleLayer(Layer):
    """Wraps a `torch.nn.Module` as a kbridge layer whose variables are its tensors.

    Args:
        module: the `torch.nn.Module` to wrap (already constructed, parameters created).
        name: the layer's display name.
        trainable, dtype, autocast: as for any `kbridge.layers.Layer`.

    Variables are named after `module.named_parameters()` / `named_buffers()` with "."
    replaced by "_" (e.g. "0.weight" -> "0_weight"). Parameters with
    `requires_grad=False` become non-trainable variables. `training=True` runs the module
    in `train()` mode, anything else in `eval()` mode.

    Such a layer holds Python code (the module), so it has no config: `get_config`
    raises, and models containing it are saved and restored by weights only
    (`save_weights` / `load_weights`, or `torch.save(to_module(model).state_dict())`),
    rebuilding the model in code.

    Raises:
        TypeError: `module` is not a `torch.nn.Module`.
        ValueError: created while a non-torch backend is selected
            (`kbridge.backend.use(...)`).
    """

    def __init__(self, module, name=None, trainable=True, dtype=None, autocast=True, **kwargs):
        if not isinstance(module, torch.nn.Module):
            raise TypeError(f"TorchModuleLayer expects a torch.nn.Module, received {type(module).__name__}.")
        if state.backend is not None and state.backend.NAME != "torch":
            raise ValueError(
                f"TorchModuleLayer wraps a torch.nn.Module and works on the torch backend only, but the "
                f'{state.backend.NAME} backend is selected. Create it under kbridge.backend.use("torch") '
                "(or with no backend scope)."
            )
        super().__init__(name=name, trainable=trainable, dtype=dtype, autocast=autocast, **kwargs)
        # Not a Trackable: invisible to variable tracking (its tensors enter as variables).
        self.module = module
        self._param_entries = []  # (torch name, Variable)
        self._buffer_entries = []
        with kbridge.backend.use("torch"):
            for torch_name, param in module.named_parameters():
                variable = self._adopt(torch_name, param, trainable=param.requires_grad)
                self._param_entries.append((torch_name, variable))
            for torch_name, buffer in module.named_buffers():
                variable = self._adopt(torch_name, buffer, trainable=False)
                self._buffer_entries.append((torch_name, variable))
        self._home_backend = dispatch.current_backend() if state.backend is None else state.backend
        self._refresh_backend()
        if self._backend is None:
            # A module without tensors (e.g. nn.ReLU) still runs on torch.
            from kbridge.backend import registry

            self._home_backend = registry.get("torch")
        self.built = True

    def _adopt(self, torch_name, tensor, trainable):
        """Creates a variable whose storage is `tensor` itself (no copy kept)."""
        variable = Variable(
            tensor.detach(), dtype=None, trainable=trainable, autocast=self.autocast,
            name=torch_name.replace(".", "_"),
        )  # fmt: skip
        variable._value = tensor  # adopt the very same Parameter / buffer
        if trainable:
            self._trainable_variables.append(variable)
        else:
            self._non_trainable_variables.append(variable)
        if not self._trainable:
            variable.trainable = False
        return variable

    @property
    def torch_variables(self):
        """`{torch name: kbridge Variable}` for every parameter and buffer."""
        return dict(self._param_entries + self._buffer_entries)

    def _tensors(self, clone_buffers):
        tensors = {n: v.value for n, v in self._param_entries}
        for n, v in self._buffer_entries:
            value = v.value
            tensors[n] = value.clone() if clone_buffers else value
        return tensors

    def call(self, *args, training=None, **kwargs):
        self.module.train(bool(training))
        # Outside a stateless call the buffers are the variables' own storage, updated
        # in place by the module (as natively). Inside one, the given values must not be
        # mutated: the module updates copies, which are recorded as the new state.
        in_scope = state.scope is not None
        tensors = self._tensors(clone_buffers=in_scope)
        outputs = torch.func.functional_call(self.module, tensors, args, kwargs)
        if in_scope and training:
            for n, v in self._buffer_entries:
                v.assign(tensors[n])
        return outputs

    def compute_output_spec(self, *args, training=None, **kwargs):
        """Runs the module (eval mode, no grad, buffers copied) twice on zero inputs, with
        every unknown dimension set to 8 and then to 9; output dimensions that differ
        between the two runs are unknown (None)."""
        runs = []
        was_training = self.module.training
        # Probe inputs go where the module's tensors are (CUDA, XLA, ...).
        device = next((v._value.device for _, v in self._param_entries + self._buffer_entries), None)
        try:
            self.module.eval()
            for probe in (8, 9):
                def zeros(x):
                    if not isinstance(x, KerasTensor):
                        return x
                    shape = tuple(probe if d is None else d for d in x.shape)
                    return torch.zeros(shape, dtype=to_torch_dtype(x.dtype), device=device)

                concrete = tree.map_structure(zeros, (args, kwargs))
                with torch.no_grad():
                    tensors = {n: v._value.detach() for n, v in self._param_entries}
                    tensors.update({n: v._value.detach().clone() for n, v in self._buffer_entries})
                    runs.append(torch.func.functional_call(self.module, tensors, concrete[0], concrete[1]))
        finally:
            self.module.train(was_training)

        torch_backend = self._backend or self._home_backend

        def spec(a, b):
            shape = tuple(int(x) if x == y else None for x, y in zip(a.shape, b.shape))
            return KerasTensor(shape, torch_backend.dtype(a))

        leaves = [spec(a, b) for a, b in zip(tree.flatten(runs[0]), tree.flatten(runs[1]))]
        return tree.pack_sequence_as(runs[0], leaves)

    def get_config(self):
        raise NotImplementedError(
            f'Layer "{self.name}" is a TorchModuleLayer wrapping Python code (a torch.nn.Module), which '
            "kbridge never serializes. Save such models by weights only (model.save_weights(...) or "
            "torch.save(to_module(model).state_dict(), ...)) and rebuild the model in code before loading."
        )

    def __repr__(self):
        return f"<TorchModuleLayer name={self.name}, module={type(self.module).__name__}>"
