"""Adapter overhead, measured side by side: `python benchmarks/paired.py [--variants ...] [--procs 5]`.

For each chosen variant that has a native baseline (by default the adapter rows and the jax
`fit` row), every fresh process (`_paired_child.py`) builds the variant *and* its baseline and
times them in alternating blocks; a process reports the median of its per-round ratios, and the
table shows the median over processes with the lowest and highest. This is the figure the adapter
issues' speed targets are checked against: on a shared 2-core VM, fresh-process medians of each
side alone move by 10-20 % from run to run, paired ratios by a few percent.

    python benchmarks/paired.py                                   # ~8 min: 5 variants x 2 workloads
    python benchmarks/paired.py --variants kb-module-torch --workloads cnn --procs 7
"""

import argparse
import fnmatch
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from variants import BY_NAME, TRAIN, VARIANTS  # noqa: E402
from workloads import WORKLOADS  # noqa: E402

DEFAULT_VARIANTS = "kb-module-torch,kb-module-torch-compile,kb-function-jax,kb-module-tf,kb-model-jax"


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workloads", default="mlp,cnn", help=f"comma list of {sorted(WORKLOADS)}")
    parser.add_argument("--variants", default=DEFAULT_VARIANTS, help="comma list of names or fnmatch patterns")
    parser.add_argument("--mode", default=TRAIN, help="train or predict")
    parser.add_argument("--against", default="native", choices=("native", "keras"),
                        help="baseline: the hand-written native variant, or Keras 3 (fit/predict variants)")
    parser.add_argument("--procs", type=int, default=3, help="fresh processes per (workload, variant)")
    parser.add_argument("--rounds", type=int, default=8, help="ABBA rounds per process")
    parser.add_argument("--block-time", type=float, default=0.25, help="seconds per timed block (slower side)")
    parser.add_argument("--block-steps-max", type=int, default=50, help="at most this many steps per block")
    parser.add_argument("--warmup", type=int, default=4, help="untimed steps after the first")
    parser.add_argument("--threads", type=int, default=1, help="intra/inter-op threads")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds before a child is killed")
    parser.add_argument("--json", default=None, help="where to write results (default benchmarks/results/)")
    return parser.parse_args(argv)


def chosen_variants(patterns, against):
    patterns = [p.strip() for p in patterns.split(",") if p.strip()]
    chosen = [v for v in VARIANTS if getattr(v, against) and any(fnmatch.fnmatchcase(v.name, p) for p in patterns)]
    if not chosen:
        raise SystemExit(f"no variant with a {against} baseline matches {patterns!r}")
    return chosen


def run_child(workload, variant, args, cache):
    with tempfile.TemporaryDirectory(prefix="kbridge-paired-") as tmp:
        out = os.path.join(tmp, "result.json")
        spec = {
            "workload": workload, "variant": variant, "mode": args.mode, "rounds": args.rounds,
            "block_time": args.block_time, "block_steps_max": args.block_steps_max, "warmup": args.warmup,
            "threads": args.threads, "against": args.against, "out": out,
        }  # fmt: skip
        env = dict(os.environ, TORCHINDUCTOR_CACHE_DIR=cache, PYTHONWARNINGS="ignore")
        try:
            proc = subprocess.run(
                [sys.executable, os.path.join(HERE, "_paired_child.py"), json.dumps(spec)],
                env=env, capture_output=True, text=True, timeout=args.timeout, cwd=tmp,
            )  # fmt: skip
        except subprocess.TimeoutExpired:
            return {"status": "error", "reason": f"timed out after {args.timeout:.0f} s"}
        if not os.path.exists(out):
            tail = (proc.stderr or proc.stdout or "").strip().splitlines()[-3:]
            return {"status": "error", "reason": f"child exited {proc.returncode}: {' | '.join(tail)}"}
        with open(out) as f:
            return json.load(f)


def main(argv=None):
    args = parse_args(argv)
    workloads = [w.strip() for w in args.workloads.split(",") if w.strip()]
    variants = [
        v for v in chosen_variants(args.variants, args.against)
        if args.mode in v.modes and args.mode in BY_NAME[getattr(v, args.against)].modes
    ]
    started = time.time()
    rows = []
    with tempfile.TemporaryDirectory(prefix="kbridge-paired-inductor-") as cache:
        cells = [(w, v.name) for w in workloads for v in variants]
        results = {cell: [] for cell in cells}
        for proc_index in range(args.procs):  # interleaved: each round runs every cell once
            for cell in cells:
                result = run_child(*cell, args, cache)
                results[cell].append(result)
                shown = f"{result['ratio']:.3f}" if result["status"] == "ok" else result["reason"][:100]
                print(f"[{proc_index + 1}/{args.procs}] {cell[0]}/{cell[1]}: {shown}", file=sys.stderr, flush=True)
    for (workload, variant), found in results.items():
        ok = [r for r in found if r["status"] == "ok"]
        row = {"workload": workload, "variant": variant, "baseline": getattr(BY_NAME[variant], args.against), "runs": found}
        if ok:
            ratios = [r["ratio"] for r in ok]
            row.update(
                status="ok", ratio=statistics.median(ratios), low=min(ratios), high=max(ratios),
                baseline_ms=1e3 * statistics.median(r["baseline_step_s"] for r in ok),
                variant_ms=1e3 * statistics.median(r["variant_step_s"] for r in ok),
            )  # fmt: skip
        else:
            row.update(status="error", reason=found[0].get("reason", "no run"))
        rows.append(row)
    lines = [
        f"kbridge paired benchmark — {args.mode}, {args.procs} process(es) x {args.rounds} ABBA rounds, "
        f"{args.threads} thread(s), {time.time() - started:.0f} s",
        "",
        "| workload | variant | baseline | ms/step | baseline ms/step | × baseline (median) | lowest | highest |",
        "|---|---|---|--:|--:|--:|--:|--:|",
    ]
    for row in rows:
        head = f"| {row['workload']} | {row['variant']} | {row['baseline']} |"
        if row["status"] != "ok":
            lines.append(f"{head} error: {row['reason'][:100]} | | | | |")
            continue
        lines.append(
            f"{head} {row['variant_ms']:.2f} | {row['baseline_ms']:.2f} | {row['ratio']:.3f} | "
            f"{row['low']:.3f} | {row['high']:.3f} |"
        )
    print("\n".join(lines))
    path = args.json or os.path.join(HERE, "results", time.strftime("paired-%Y%m%d-%H%M%S.json"))
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as f:
        json.dump({"args": vars(args), "rows": rows}, f, indent=1)
    print(f"\nresults: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
