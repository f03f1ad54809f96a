"""`torch.optim` optimizers for torch-backed models: `compile(optimizer=torch.optim.AdamW)`.

`TorchOptimizer` gives a `torch.optim.Optimizer` the interface the shared trainer uses
(`build`, `apply`, `variables`, `iterations`, `learning_rate`). The model's trainable
variables of a torch-backed model *are* `nn.Parameter`s, so the optimizer works on them
directly: `apply` sets `.grad` and calls `step()`. Its state (moments, momentum buffers)
stays inside torch (`torch_optimizer.state_dict()`); `variables` is `[iterations]`.
"""

import torch

from kbridge.backend import registry
from kbridge.backend.dispatch import use
from kbridge.utils import naming
from kbridge.variables import Variable


def wrap(identifier):
    """Returns `identifier` as a `TorchOptimizer`.

    Args:
        identifier: a `torch.optim.Optimizer` subclass (e.g. `torch.optim.AdamW`), a
            factory `params -> torch.optim.Optimizer` (e.g. `functools.partial(torch.optim.SGD,
            lr=0.1)`), an optimizer already made over the model's parameters, or a
            `TorchOptimizer` (returned as is).

    Raises:
        ValueError: `identifier` is none of these.
    """
    if isinstance(identifier, TorchOptimizer):
        return identifier
    if isinstance(identifier, torch.optim.Optimizer) or callable(identifier):
        return TorchOptimizer(identifier)
    raise ValueError(
        f"Could not interpret optimizer identifier: {identifier!r}. A torch-backed model takes a kbridge optimizer "
        "(e.g. 'adam'), a torch.optim.Optimizer class (e.g. torch.optim.AdamW) or a factory "
        "`params -> torch.optim.Optimizer` (e.g. functools.partial(torch.optim.SGD, lr=0.1))."
    )


class TorchOptimizer:
    """Trains a torch-backed model's variables with a `torch.optim.Optimizer`.

    Args:
        factory: an optimizer class or a callable `params -> torch.optim.Optimizer`,
            called once in `build` with the model's `nn.Parameter`s; or an optimizer
            instance made over exactly those parameters.
        name: display name.

    Example:
        >>> model.compile(optimizer=functools.partial(torch.optim.SGD, lr=0.1, momentum=0.9), loss="mse")
        >>> model.optimizer.torch_optimizer.state_dict()
    """

    _kbridge_native_framework = "torch"

    def __init__(self, factory, name=None):
        self._factory = factory
        self.name = name or naming.auto_name("torch_optimizer")
        self.built = False
        self.torch_optimizer = None
        self._params = []
        self._trainable_variables = []
        # Before `build`: the rate the optimizer will start from (None if unknown), and one set since.
        self._initial_rate = _initial_rate(factory)
        self._pending_rate = None
        with use("torch"):
            self._iterations = Variable(0, dtype="int32", trainable=False, name="iteration")

    # -- building ---------------------------------------------------------------------------

    def build(self, variables):
        """Creates the torch optimizer over the `nn.Parameter`s of `variables`."""
        variables = list(variables)
        self._check_backend(variables)
        params = [v._value for v in variables]
        for variable, param in zip(variables, params):
            if not isinstance(param, torch.nn.Parameter):
                raise TypeError(
                    f"Optimizer '{self.name}': variable {variable.path} ({variable.dtype}) is not a trainable float "
                    "tensor, which torch.optim cannot update."
                )
        factory = self._factory
        if isinstance(factory, torch.optim.Optimizer):
            optimizer = factory
            given = [p for group in optimizer.param_groups for p in group["params"]]
            if {id(p) for p in given} != {id(p) for p in params}:
                raise ValueError(
                    f"Optimizer '{self.name}': the torch optimizer passed to compile() was made over other tensors than "
                    "the model's trainable variables. Pass its class or a factory instead, e.g. "
                    "`compile(optimizer=functools.partial(torch.optim.SGD, lr=0.1))`."
                )
        else:
            optimizer = factory(params)
            if not isinstance(optimizer, torch.optim.Optimizer):
                raise TypeError(
                    f"Optimizer '{self.name}': the factory passed to compile() returned {type(optimizer).__name__}, "
                    "expected a torch.optim.Optimizer."
                )
        self.torch_optimizer = optimizer
        self._params = params
        self._trainable_variables = variables
        self.built = True
        if self._pending_rate is not None:
            self.learning_rate, self._pending_rate = self._pending_rate, None

    def _check_backend(self, variables):
        torch_backend = registry.get("torch")
        foreign = sorted({v.backend for v in variables if v._backend is not torch_backend})
        if foreign:
            raise ValueError(
                f"Optimizer '{self.name}' is a torch.optim optimizer: it trains torch variables only, but the model's "
                f"variables live on {foreign}. Move the model back with `model.to_backend('torch')`, or compile with "
                "a kbridge optimizer (e.g. kbridge.optimizers.AdamW), which trains on every backend."
            )

    def _rebind(self, params):
        """Points the torch optimizer (and its state) at new Parameters, matched by position.

        A model moved to another backend and back gets new Parameters; the state follows.
        """
        moved = {id(old): new for old, new in zip(self._params, params)}
        optimizer = self.torch_optimizer
        for group in optimizer.param_groups:
            group["params"] = [moved.get(id(p), p) for p in group["params"]]
        for old, new in zip(self._params, params):
            if old in optimizer.state:
                optimizer.state[new] = {
                    key: value.to(new.device) if isinstance(value, torch.Tensor) and value.dim() else value
                    for key, value in optimizer.state.pop(old).items()
                }
        self._params = params

    # -- applying ---------------------------------------------------------------------------

    def apply(self, grads, trainable_variables=None):
        """Sets each Parameter's `.grad` to its gradient and calls `step()`.

        A `None` gradient leaves `.grad` unset, so torch skips that parameter.
        """
        if trainable_variables is None:
            if not self.built:
                raise ValueError(f"Optimizer '{self.name}' is not built: pass `trainable_variables` to `apply`.")
            trainable_variables = self._trainable_variables
        elif not self.built:
            self.build(trainable_variables)
        if len(grads) != len(trainable_variables):
            raise ValueError(
                f"Optimizer '{self.name}': received {len(grads)} gradients for {len(trainable_variables)} variables."
            )
        params = [v._value for v in trainable_variables]
        if any(p is not q for p, q in zip(params, self._params)):
            self._check_backend(trainable_variables)
            if len(params) != len(self._params):
                raise ValueError(f"Optimizer '{self.name}' was built for other variables; recompile the model.")
            self._rebind(params)
        for param, grad in zip(params, grads):
            param.grad = None if grad is None else grad.detach().to(param.dtype)
        self.torch_optimizer.step()
        for param in params:
            param.grad = None
        self._iterations.assign(self._iterations.value + 1)

    def apply_gradients(self, grads_and_vars):
        """Applies `[(gradient, variable), ...]`; returns `iterations`."""
        grads, variables = zip(*grads_and_vars)
        self.apply(list(grads), list(variables))
        return self._iterations

    # -- state ------------------------------------------------------------------------------

    @property
    def variables(self):
        """`[iterations]`: the torch optimizer's own state stays in `torch_optimizer.state_dict()`."""
        return [self._iterations]

    @property
    def iterations(self):
        """The number of steps applied (an int32 Variable)."""
        return self._iterations

    @property
    def learning_rate(self):
        """The first param group's `lr` (a float)."""
        if not self.built:
            rate = self._initial_rate if self._pending_rate is None else self._pending_rate
            if rate is not None:
                return rate
            raise AttributeError(
                f"Optimizer '{self.name}' is not built yet: its learning rate exists once training starts."
            )
        return float(self.torch_optimizer.param_groups[0]["lr"])

    @learning_rate.setter
    def learning_rate(self, value):
        value = float(value)
        if not self.built:
            self._pending_rate = value
            return
        for group in self.torch_optimizer.param_groups:
            if isinstance(group["lr"], torch.Tensor):
                group["lr"].fill_(value)
            else:
                group["lr"] = value

    def to_backend(self, name):
        """Keeps the torch state; it follows the model when it comes back to torch. Returns self."""
        return self

    def finalize_variable_values(self, var_list):
        """Nothing to finalize."""

    def get_config(self):
        """Returns `{"name": ..., "learning_rate": ...}` (a torch optimizer is not serialized)."""
        return {"name": self.name, "learning_rate": getattr(self, "learning_rate", None)}

    def __repr__(self):
        return f"<TorchOptimizer name={self.name}, built={self.built}>"


def _initial_rate(factory):
    """The `lr` of the optimizer `factory` makes, probed on a one-element parameter; None if unknown."""
    try:
        if isinstance(factory, torch.optim.Optimizer):
            return float(factory.param_groups[0]["lr"])
        return float(factory([torch.nn.Parameter(torch.zeros(1))]).param_groups[0]["lr"])
    except Exception:  # noqa: BLE001 - a factory that needs the real parameters
        return None
