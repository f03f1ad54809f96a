"""The registry of benchmark variants: metadata only (no framework is imported here).

Each variant names the module and function that build it inside a child process
(`factory(workload, mode, data) -> run(n)`, see `benchmarks/_child.py`), the framework it runs
on, the modes it implements, and the native (and Keras 3) variants its step time is compared to.

Modes:
  train    one optimizer step on a batch (fit variants: `model.fit` over n batches)
  predict  one forward pass on a batch in inference mode (fit variants: `model.predict`)
  latency  one batch-1 forward pass, result fetched as NumPy (only for workloads with latency=True)
"""

import dataclasses

TRAIN, PREDICT, LATENCY = "train", "predict", "latency"
ALL_MODES = (TRAIN, PREDICT, LATENCY)


@dataclasses.dataclass(frozen=True)
class Variant:
    name: str
    framework: str  # "torch", "jax" or "tensorflow": the backend / threads to configure
    factory: str  # "module:function" under benchmarks/variants
    modes: tuple
    implementation: str  # what runs, for the README / table footnotes
    native: str = None  # baseline variant of the same framework
    keras: str = None  # Keras 3 baseline (fit / predict / call variants)
    group: str = "native"  # native | kbridge-adapter | kbridge-fit | keras
    kwargs: tuple = ()


def _v(*args, **kwargs):
    return Variant(*args, **kwargs)


_FW_SHORT = {"jax": "jax", "torch": "torch", "tensorflow": "tf"}

VARIANTS = [
    # (c) the same network hand-written natively
    _v("native-torch", "torch", "torch_variants:native", ALL_MODES,
       "nn.Sequential eager (NCHW for conv), torch.optim.Adam (foreach default), F.cross_entropy"),
    _v("native-torch-compile", "torch", "torch_variants:native", (TRAIN,),
       "torch.compile(nn.Sequential, fullgraph=True) forward+backward, torch.optim.Adam eager",
       kwargs=(("compile", True),)),
    _v("native-jax", "jax", "jax_variants:native", ALL_MODES,
       "hand-written params pytree, jax.jit step (donated buffers), optax.adam"),
    _v("native-tf", "tensorflow", "tf_variants:native", ALL_MODES,
       "hand-written tf.Variables, tf.function step with GradientTape, hand-written Adam (no tf.keras)"),
    # control: a second, identical nn.Sequential against the first (the noise floor of a ratio)
    _v("native-torch-twin", "torch", "torch_variants:native", (TRAIN,),
       "a second nn.Sequential built the same way: its ratio to native-torch shows the measurement's resolution",
       native="native-torch", group="control"),
    # (b) kbridge adapters inside native loops: native optimizer on the adapter
    _v("kb-module-torch", "torch", "torch_variants:kb_module", ALL_MODES,
       "kbridge.adapters.torch.to_module eager, torch.optim.Adam (foreach default)",
       native="native-torch", group="kbridge-adapter"),
    _v("kb-module-torch-compile", "torch", "torch_variants:kb_module", (TRAIN,),
       "torch.compile(to_module(model), fullgraph=True), torch.optim.Adam eager",
       native="native-torch-compile", group="kbridge-adapter", kwargs=(("compile", True),)),
    _v("kb-function-jax", "jax", "jax_variants:kb_function", ALL_MODES,
       "kbridge.adapters.jax.to_function, jax.jit step (donated buffers), optax.adam",
       native="native-jax", group="kbridge-adapter"),
    _v("kb-module-tf", "tensorflow", "tf_variants:kb_module", ALL_MODES,
       "kbridge.adapters.tf.to_module in the same tf.function + GradientTape step and hand-written Adam as native-tf",
       native="native-tf", group="kbridge-adapter"),
]
# (a) kbridge fit / predict / predict_on_batch and (d) Keras 3 on each backend
for _fw in ("jax", "torch", "tensorflow"):
    _s = _FW_SHORT[_fw]
    VARIANTS += [
        _v(f"kb-model-{_s}", _fw, "keras_style:model", ALL_MODES,
           f"kbridge fit/predict/predict_on_batch on {_fw}, kbridge.optimizers.Adam",
           native=f"native-{_s}", keras=f"keras-{_s}", group="kbridge-fit", kwargs=(("library", "kbridge"),)),
        _v(f"kb-call-{_s}", _fw, "keras_style:call", (LATENCY,),
           f"kbridge model(x, training=False) eager on {_fw}",
           native=f"native-{_s}", keras=f"keras-call-{_s}", group="kbridge-fit", kwargs=(("library", "kbridge"),)),
        _v(f"keras-{_s}", _fw, "keras_style:model", ALL_MODES,
           f"Keras 3 fit/predict/predict_on_batch on {_fw} (default jit_compile='auto'), keras.optimizers.Adam",
           native=f"native-{_s}", group="keras", kwargs=(("library", "keras"),)),
        _v(f"keras-call-{_s}", _fw, "keras_style:call", (LATENCY,),
           f"Keras 3 model(x, training=False) eager on {_fw}", native=f"native-{_s}", group="keras",
           kwargs=(("library", "keras"),)),
    ]  # fmt: skip

BY_NAME = {variant.name: variant for variant in VARIANTS}
