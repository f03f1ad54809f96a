"""One paired measurement: a variant and its native baseline timed side by side in one process.

`python benchmarks/_paired_child.py '<json spec>'` builds both (same workload, mode, data and
threads), runs each one's first step and warm-up, then times `rounds` rounds of blocks in the
order baseline, variant, variant, baseline (ABBA cancels a linear drift in machine speed within a
round). Each round gives one ratio variant/baseline; the child writes the ratios and the per-step
times as JSON. Noise that changes between processes (CPU placement, memory layout, a neighbour on
the host) hits both sides of a ratio alike, which fresh-process medians cannot promise.
"""

import json
import statistics
import sys
import time
import traceback

from _child import HERE, pin_threads


def _factory(variant):
    import importlib

    module_name, function_name = variant.factory.split(":")
    return getattr(importlib.import_module(f"variants.{module_name}"), function_name)


def _timed(run, steps):
    started = time.perf_counter()
    run(steps)
    return time.perf_counter() - started


def measure_pair(spec):
    sys.path.insert(0, HERE)
    from variants import BY_NAME
    from workloads import WORKLOADS

    variant, workload = BY_NAME[spec["variant"]], WORKLOADS[spec["workload"]]
    baseline = BY_NAME[getattr(variant, spec.get("against", "native"))]
    pin_threads(spec["threads"], variant.framework)
    x, y = workload.make_data(max(spec["block_steps_max"], spec["warmup"], 1) * workload.batch_size)
    data = {"x": x, "y": y, "x1": x[:1]}
    runs = {}
    for side in (baseline, variant):
        run = _factory(side)(workload, spec["mode"], data, **dict(side.kwargs))
        run(1)  # tracing / compilation
        run(spec["warmup"])
        runs[side.name] = run
    # A block lasts about `block_time` seconds of the slower side.
    per_step = max(_timed(run, 2) / 2 for run in runs.values())
    steps = int(min(spec["block_steps_max"], max(2, spec["block_time"] / per_step)))
    ratios, base_times, variant_times = [], [], []
    for _ in range(spec["rounds"]):
        a1 = _timed(runs[baseline.name], steps)
        b1 = _timed(runs[variant.name], steps)
        b2 = _timed(runs[variant.name], steps)
        a2 = _timed(runs[baseline.name], steps)
        ratios.append((b1 + b2) / (a1 + a2))
        base_times.append((a1 + a2) / (2 * steps))
        variant_times.append((b1 + b2) / (2 * steps))
    return {
        "status": "ok",
        "baseline": baseline.name,
        "block_steps": steps,
        "ratios": ratios,
        "ratio": statistics.median(ratios),
        "baseline_step_s": statistics.median(base_times),
        "variant_step_s": statistics.median(variant_times),
    }


def main():
    spec = json.loads(sys.argv[1])
    try:
        result = measure_pair(spec)
    except Exception as error:  # noqa: BLE001  (reported in the table, not raised)
        result = {"status": "error", "reason": f"{type(error).__name__}: {error}", "traceback": traceback.format_exc()}
    with open(spec["out"], "w") as f:
        json.dump(result, f)


if __name__ == "__main__":
    main()
