"""One measurement in a fresh process: `python benchmarks/_child.py '<json spec>'`.

The spec names the workload, variant, mode, step counts, thread count and an output file; the
child writes one JSON object there. Threads are pinned *before* any framework is imported
(environment variables), then again through each framework's own API.
"""

import importlib
import json
import os
import resource
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))


def pin_threads(threads, framework):
    """Same thread count in every child: BLAS/OpenMP, torch, TF and XLA (env, before imports)."""
    n = str(threads)
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "TF_NUM_INTRAOP_THREADS",
                 "TF_NUM_INTEROP_THREADS"):  # fmt: skip
        os.environ[name] = n
    xla = f"--xla_cpu_multi_thread_eigen={'false' if threads == 1 else 'true'} intra_op_parallelism_threads={n}"
    os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " " + xla).strip()
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
    os.environ["KBRIDGE_BACKEND"] = framework
    os.environ["KERAS_BACKEND"] = framework
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
    if framework == "torch":
        import torch

        torch.set_num_threads(threads)
        torch.set_num_interop_threads(threads)
    elif framework == "tensorflow":
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    elif framework == "jax":
        import jax  # noqa: F401  (configured by XLA_FLAGS above)


def measure_mode(workload, variant, mode, spec):
    """Builds the variant for one mode and times it: first step, warm-up, timed steps."""
    from variants import LATENCY

    module_name, function_name = variant.factory.split(":")
    factory = getattr(importlib.import_module(f"variants.{module_name}"), function_name)
    steps = spec["latency_steps"] if mode == LATENCY else spec["steps"]
    warmup = spec["warmup"]
    x, y = workload.make_data(max(steps, warmup, 1) * workload.batch_size)
    started = time.perf_counter()
    try:
        run = factory(workload, mode, {"x": x, "y": y, "x1": x[:1]}, **dict(variant.kwargs))
    except (ImportError, AttributeError) as error:  # a layer / adapter / package not there (yet)
        return {"status": "unavailable", "reason": f"{type(error).__name__}: {error}"}
    built = time.perf_counter()
    run(1)  # the first step: tracing / compilation / lazy builds
    first = time.perf_counter() - built
    # Timed steps: `steps`, or fewer when they would pass `max_time` seconds (slow workloads), at least 3.
    per_step = first if warmup <= 1 else None
    if warmup > 1:
        t0 = time.perf_counter()
        run(warmup - 1)
        per_step = (time.perf_counter() - t0) / (warmup - 1)
    if per_step and spec.get("max_time"):
        steps = max(3, min(steps, int(spec["max_time"] / per_step)))
    t0 = time.perf_counter()
    run(steps)
    elapsed = time.perf_counter() - t0
    return {
        "status": "ok",
        "build_s": built - started,
        "first_step_s": first,
        "step_s": elapsed / steps,
        "steps": steps,
        "warmup": warmup,
        # High-water mark of the whole child so far (modes run in the order train, predict, latency).
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,  # Linux: KiB
    }


def measure(spec):
    """Runs every requested mode of one (workload, variant) in this process, in order."""
    sys.path.insert(0, HERE)
    from variants import BY_NAME
    from workloads import WORKLOADS

    variant = BY_NAME[spec["variant"]]
    workload = WORKLOADS[spec["workload"]]
    started = time.perf_counter()
    try:
        pin_threads(spec["threads"], variant.framework)
    except ImportError as error:
        return {"status": "unavailable", "reason": f"{type(error).__name__}: {error}"}
    results = {"status": "ok", "import_s": time.perf_counter() - started, "modes": {}}
    for mode in spec["modes"]:
        try:
            results["modes"][mode] = measure_mode(workload, variant, mode, spec)
        except Exception as error:  # noqa: BLE001  (reported in the table, not raised)
            results["modes"][mode] = {
                "status": "error", "reason": f"{type(error).__name__}: {error}", "traceback": traceback.format_exc()
            }  # fmt: skip
    return results


def main():
    spec = json.loads(sys.argv[1])
    try:
        result = measure(spec)
    except Exception as error:  # noqa: BLE001  (reported in the table, not raised)
        result = {"status": "error", "reason": f"{type(error).__name__}: {error}", "traceback": traceback.format_exc()}
    with open(spec["out"], "w") as f:
        json.dump(result, f)


if __name__ == "__main__":
    main()
