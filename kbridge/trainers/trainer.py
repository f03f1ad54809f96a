"""`Trainer`: compile / fit / evaluate / predict, shared by every backend (DESIGN.md invariant 6).

This file holds compile, the neutral steps and how they are built for a backend; the loops over
the data are `kbridge.trainers.loops.TrainingLoops`. Only the step is per framework:
`kbridge.adapters.<fw>.trainer.make_step` compiles `train_step` (jax.jit with
buffer donation, tf.function, torch eager or torch.compile). `train_step` itself is
written with neutral APIs (`kbridge.value_and_grad`, `optimizer.apply`), so one
override trains on every backend.
"""

import numpy as np

from kbridge import ops
from kbridge import variables as variables_module
from kbridge.backend import dispatch, registry
from kbridge.backend._state import state
from kbridge.symbolic import tracing
from kbridge.symbolic.keras_tensor import KerasTensor
from kbridge.trainers import data_adapters
from kbridge.trainers.compile_utils import CompileLoss, CompileMetrics
from kbridge.trainers.gradients import value_and_grad
from kbridge.trainers.loops import TrainingLoops, _to_python
from kbridge.utils import tree


class Trainer(TrainingLoops):
    """Mixin giving `Model` Keras 3's training API."""

    _compiled = False
    # Defaults until compile(): predict() runs on an uncompiled model.
    run_eagerly = False
    jit_compile = "auto"
    steps_per_execution = 1

    # -- compile ---------------------------------------------------------------------------

    def compile(
        self,
        optimizer="rmsprop",
        loss=None,
        loss_weights=None,
        metrics=None,
        weighted_metrics=None,
        run_eagerly=False,
        steps_per_execution=1,
        jit_compile="auto",
        auto_scale_loss=True,
    ):
        """Configures training.

        Args:
            optimizer: name, `kbridge.optimizers.Optimizer`, or config; or the model's
                framework's own: an optax `GradientTransformation` (JAX), a `torch.optim`
                class or factory `params -> torch.optim.Optimizer` (torch).
            loss: loss name/object/function, or a list/dict with one per output.
            loss_weights: scalar weights per output (list or dict).
            metrics: metrics (names such as "accuracy" resolve from the loss and shapes),
                a list, or per-output lists/dicts.
            weighted_metrics: metrics that receive `sample_weight`.
            run_eagerly: run steps without compiling (debugging).
            steps_per_execution: steps run between callback batch hooks.
            jit_compile: "auto" compiles on JAX (jit) and runs torch/TF steps as
                eager/tf.function; True also uses torch.compile / XLA on TF.
            auto_scale_loss: accepted for Keras compatibility.
        """
        from kbridge import losses as losses_module
        from kbridge import optimizers

        self.optimizer = _resolve_optimizer(optimizers, optimizer, self._training_backend().NAME)
        for entry in tree.flatten(loss):
            if entry is not None:
                losses_module.get(entry)  # unknown names fail here, not at the first batch
        self._compile_args = {
            "loss": loss,
            "loss_weights": loss_weights,
            "metrics": metrics,
            "weighted_metrics": weighted_metrics,
        }
        self._compile_loss = None
        self._compile_metrics = None
        self._loss_tracker = None  # created on the model's backend at the first batch
        self.run_eagerly = bool(run_eagerly)
        if not isinstance(steps_per_execution, int) or steps_per_execution < 1:
            raise ValueError(f"compile: `steps_per_execution` must be a positive int, received {steps_per_execution!r}")
        self.steps_per_execution = steps_per_execution
        self.jit_compile = jit_compile
        self.stop_training = False
        self._compiled = True
        self._functions = {}
        self._step_variables_cache = None

    def to_backend(self, name):
        """Moves the model, its optimizer and metric state to backend `name`; steps are recompiled."""
        super().to_backend(name)
        for metric in self.metrics:
            metric.to_backend(name)
        if getattr(self, "optimizer", None) is not None and self.optimizer.built:
            self.optimizer.to_backend(name)
        self._functions = {}
        self._step_variables_cache = None
        return self

    def _assert_compiled(self, what):
        if not self._compiled:
            raise ValueError(f"You must call `compile()` before calling `{what}()` on model {self.name!r}.")

    @property
    def metrics(self):
        """The metrics tracked during training: the loss tracker first, then compiled metrics."""
        found = []
        if self._compiled and self._loss_tracker is not None:
            found.append(self._loss_tracker)
            if self._compile_metrics is not None:
                found.extend(metric for _, metric, _ in self._compile_metrics.metrics)
        return found

    @property
    def metrics_names(self):
        """Names of `self.metrics`."""
        return [metric.name for metric in self.metrics]

    def reset_metrics(self):
        """Resets the state of every metric."""
        for metric in self.metrics:
            metric.reset_state()

    # -- the neutral steps -------------------------------------------------------------------

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """Returns the total loss: compiled loss plus the model's own losses (regularization)."""
        total = None
        if self._compile_loss is not None and y is not None:
            total, _ = self._compile_loss(y, y_pred, sample_weight)
        for extra in self._call_losses():
            total = extra if total is None else ops.add(total, extra)
        if total is None:
            raise ValueError(f"Model {self.name!r} has no loss: pass `loss=` to compile() or add losses in call().")
        return total

    def _call_losses(self):
        collected = list(self._losses)
        for variable in self._step_variables()[1]:
            collected.append(variable.regularizer(variable.value))
        return collected

    def _step_variables(self):
        """`(trainable_variables, regularized trainable weights)`, kept between steps.

        Walking the layer tree costs more than a small model's eager step, so the lists are
        walked again only after a variable was created or a `trainable` flag changed (or
        after `compile()` / `to_backend()`).
        """
        version = variables_module.trainable_flag_changes()
        cached = self.__dict__.get("_step_variables_cache")
        if cached is None or cached[0] != version:
            trainable = self.trainable_variables
            regularized = [v for v in self.trainable_weights if v.regularizer is not None]
            cached = self._step_variables_cache = (version, trainable, regularized)
        return cached[1], cached[2]

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        """Updates the compiled metrics and returns `get_metrics_result()`."""
        if self._compile_metrics is not None and y is not None:
            self._compile_metrics.update_state(y, y_pred, sample_weight)
        return self.get_metrics_result()

    def get_metrics_result(self):
        """Returns {metric name: current result} (dict results are merged)."""
        logs = {}
        for metric in self.metrics:
            result = metric.result()
            if isinstance(result, dict):
                logs.update(result)
            else:
                logs[metric.name] = result
        return logs

    def train_step(self, data):
        """One optimization step on a batch; override it once for every backend."""
        x, y, sample_weight = data_adapters.unpack_x_y_sample_weight(data)

        def loss_fn():
            y_pred = self(x, training=True)
            return self.compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight), y_pred

        trainable_variables = self._step_variables()[0]
        (loss, y_pred), grads = value_and_grad(loss_fn, trainable_variables, has_aux=True)()
        self.optimizer.apply(grads, trainable_variables)
        self._loss_tracker.update_state(loss, sample_weight=ops.shape(tree.flatten(x)[0])[0])
        return self.compute_metrics(x, y, y_pred, sample_weight)

    def test_step(self, data):
        """One evaluation step on a batch."""
        x, y, sample_weight = data_adapters.unpack_x_y_sample_weight(data)
        y_pred = self(x, training=False)
        loss = self.compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight, training=False)
        self._loss_tracker.update_state(loss, sample_weight=ops.shape(tree.flatten(x)[0])[0])
        return self.compute_metrics(x, y, y_pred, sample_weight)

    def predict_step(self, data):
        """One prediction step on a batch."""
        x, _, _ = data_adapters.unpack_x_y_sample_weight(data)
        return self(x, training=False)

    # -- building the compiled steps ---------------------------------------------------------

    def _training_backend(self):
        return self._backend or self._home_backend or dispatch.current_backend()

    def _state_variables(self):
        found = self.trainable_variables + self.non_trainable_variables
        if getattr(self, "optimizer", None) is not None:
            found += list(self.optimizer.variables)
        for metric in self.metrics:
            found += list(metric.variables)
        unique, seen = [], set()
        for variable in found:
            if id(variable) not in seen:
                seen.add(id(variable))
                unique.append(variable)
        return unique

    def _make_function(self, kind):
        function = self._functions.get(kind)
        if function is not None:
            return function
        step = {"train": self.train_step, "test": self.test_step, "predict": self.predict_step}[kind]
        module = self._training_backend()
        hooks = registry.adapter_module(module.NAME, "trainer")
        self._step_variables()  # fills its cache now: an attribute set inside torch.compile recompiles
        if self.run_eagerly:
            compiled = step
        else:
            jit = self.jit_compile
            jit = (module.NAME == "jax") if jit == "auto" else bool(jit)
            if module.NAME == "jax":
                jit = True
            compiled = hooks.make_step(step, self._state_variables(), jit_compile=jit, donate=kind != "predict", kind=kind)

        wrap = getattr(hooks, "wrap_step", None)  # adapter hook: multi-process data parallelism
        if wrap is not None:
            compiled = wrap(compiled, kind, self)
        place = getattr(hooks, "place_batch", None)  # adapter hook: device placement (kbridge.distribution)
        # A compiled step that takes NumPy batches itself (jax.jit transfers them in C++) skips
        # the per-array conversion, a measurable share of a small model's step.
        takes_numpy = getattr(compiled, "takes_numpy", False)

        def run(batch):
            # The step's ops go straight to the training backend (as inside a layer call),
            # not through the per-call look-up of the arguments' backend.
            saved = state.backend, state.ops
            state.backend = state.ops = module
            try:
                data = batch if takes_numpy else tree.map_structure(lambda a: _to_tensor(module, a), batch)
                return compiled(place(data, kind) if place is not None else data)
            finally:
                state.backend, state.ops = saved

        self._functions[kind] = run
        return run

    def _symbolic_build(self, batch):
        """Builds the model, the compiled loss/metrics and the optimizer from one batch's shapes."""
        x, y, _ = data_adapters.unpack_x_y_sample_weight(batch)
        module = self._training_backend()
        specs = tree.map_structure(lambda a: KerasTensor((None,) + tuple(np.shape(a))[1:], _dtype_of(a)), x)
        with dispatch.use(module.NAME):
            if self._loss_tracker is None:
                from kbridge import metrics as metrics_module

                self._loss_tracker = metrics_module.Mean(name="loss")
            if not self.built:
                self(specs)
            with tracing.symbolic_scope(module):
                y_pred = self.compute_output_spec(specs)
            if self._compile_loss is None and self._compile_args["loss"] is not None:
                self._compile_loss = CompileLoss(
                    self._compile_args["loss"], self._compile_args["loss_weights"], self._output_names()
                )
            if self._compile_metrics is None:
                losses = self._compile_loss.losses if self._compile_loss else []
                self._compile_metrics = CompileMetrics(
                    self._compile_args["metrics"], self._compile_args["weighted_metrics"], self._output_names(), losses
                )
                y_spec = None if y is None else tree.map_structure(lambda a: KerasTensor(np.shape(a), _dtype_of(a)), y)
                self._compile_metrics.build(y_spec, y_pred)
            for metric in self.metrics:
                metric.to_backend(module.NAME)  # metrics made outside the model's backend
            if not self.optimizer.built:
                self.optimizer.build(self.trainable_variables)

    def _begin_loop(self, hooks, iterator):
        """Tells the adapter a fit/evaluate loop starts (multi-process runs agree on data order here)."""
        # Batches of a loader that already gives each process its own share (a torch
        # DistributedSampler) are not split again.
        self._rank_local_data = bool(getattr(iterator, "rank_local", False))
        begin = getattr(hooks, "begin_loop", None)
        if begin is not None:
            begin(self)

    def _assign_metric_state(self, values):
        """Sets every metric variable, in `self.metrics` order (a resumed epoch's running values)."""
        variables = [variable for metric in self.metrics for variable in metric.variables]
        if len(variables) != len(values):
            raise ValueError(
                f"Model {self.name!r}: the saved metric state holds {len(values)} variables, but the model's metrics "
                f"({self.metrics_names}) have {len(variables)}."
            )
        for variable, value in zip(variables, values):
            variable.assign(np.asarray(value, dtype=variable.dtype).reshape(variable.shape))

    def _metric_logs(self):
        if self._loss_tracker is None:
            return {}
        with dispatch.use(self._training_backend().NAME):
            return _to_python(self.get_metrics_result())

    def _output_names(self):
        names = getattr(self, "output_names", None)
        return list(names) if names else ["output"]

# The framework of a native optimizer, from the root of its module (duck typing, no import).
_NATIVE_OPTIMIZER_ROOTS = {"optax": "jax", "jax": "jax", "torch": "torch"}
_NATIVE_OPTIMIZER_EXAMPLES = {
    "jax": "an optax GradientTransformation (e.g. optax.adamw(1e-3))",
    "torch": "a torch.optim class or factory (e.g. torch.optim.AdamW)",
}


def _resolve_optimizer(optimizers, identifier, backend_name):
    """`optimizers.get(identifier)`, else the model's framework's native optimizer wrapped
    by `kbridge.adapters.<fw>.native_optimizer.wrap`."""
    try:
        return optimizers.get(identifier)
    except ValueError:
        if identifier is None or isinstance(identifier, (str, dict)):
            raise
    framework = getattr(identifier, "_kbridge_native_framework", None)
    if framework is None:
        for obj in (getattr(identifier, "func", None), identifier):  # functools.partial: its function
            module = getattr(obj, "__module__", None) if isinstance(obj, type) or callable(obj) else None
            for name in (module, type(obj).__module__):
                framework = framework or _NATIVE_OPTIMIZER_ROOTS.get(str(name).split(".")[0])
        if framework is None and hasattr(identifier, "init") and hasattr(identifier, "update"):
            framework = "jax"  # an optax-style transformation made outside optax
    native = _NATIVE_OPTIMIZER_EXAMPLES.get(backend_name)
    if framework is not None and framework != backend_name:
        raise ValueError(
            f"compile: the optimizer {_describe(identifier)} is a {framework} optimizer, but the model lives on the "
            f"{backend_name!r} backend. Either move the model first with `model.to_backend({framework!r})`, or pass "
            "an optimizer of the model's backend: a kbridge optimizer (e.g. kbridge.optimizers.AdamW(1e-3)), which "
            f"trains on every backend{', or ' + native if native else ''}."
        )
    if framework is None and not (callable(identifier) and native):
        raise ValueError(
            f"Could not interpret optimizer identifier: {_describe(identifier)}. Expected a name, a kbridge "
            f"optimizer or a config dict; for a JAX model also {_NATIVE_OPTIMIZER_EXAMPLES['jax']}, for a torch "
            f"model {_NATIVE_OPTIMIZER_EXAMPLES['torch']}."
        )
    return registry.adapter_module(backend_name, "native_optimizer").wrap(identifier)


def _describe(obj):
    obj = getattr(obj, "func", obj)
    return getattr(obj, "__qualname__", None) or type(obj).__qualname__


def _to_tensor(module, value):
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return module.convert_to_tensor(value)


def _dtype_of(array):
    dtype = getattr(array, "dtype", None)
    name = getattr(dtype, "name", str(dtype))
    return "float32" if name == "float64" else "int32" if name == "int64" else name
