"""The benchmark driver: `python benchmarks/run.py [--workloads mlp,cnn] [--variants ...] [--reps 3] ...`.

Every (workload, variant, repetition) runs in a fresh subprocess (`_child.py`, which measures
the requested modes in the order train, predict, latency); the repetitions are interleaved
(each round runs every child once, in a shuffled order) so machine noise hits all variants alike.
Prints a Markdown table of medians and writes the raw runs as JSON (default
`benchmarks/results/<timestamp>.json`).

    python benchmarks/run.py --quick                     # ~2 minutes, 1 repetition
    python benchmarks/run.py --variants 'native-*,kb-*'  # fnmatch patterns
    python benchmarks/run.py --compare old.json new.json # ratio of medians between two runs
"""

import argparse
import fnmatch
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from variants import ALL_MODES, BY_NAME, LATENCY, VARIANTS  # noqa: E402
from workloads import WORKLOADS  # noqa: E402

METRICS = ("step_s", "first_step_s", "peak_rss_mb", "build_s", "import_s", "child_wall_s")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--workloads", default="mlp,cnn", help=f"comma list of {sorted(WORKLOADS)}")
    parser.add_argument("--variants", default="*", help="comma list of variant names or fnmatch patterns")
    parser.add_argument("--modes", default=",".join(ALL_MODES), help="comma list of train,predict,latency")
    parser.add_argument("--reps", type=int, default=3, help="repetitions (fresh subprocess each)")
    parser.add_argument("--steps", type=int, default=30, help="timed train/predict steps per repetition")
    parser.add_argument("--latency-steps", type=int, default=200, help="timed batch-1 calls per repetition")
    parser.add_argument("--max-time", type=float, default=1.5,
                        help="cap on the timed section per mode in seconds (fewer steps, at least 3); 0: no cap")
    parser.add_argument("--warmup", type=int, default=4, help="untimed steps after the first (timed) one")
    parser.add_argument("--threads", type=int, default=1, help="intra/inter-op threads in every child")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds before a child is killed")
    parser.add_argument("--seed", type=int, default=0, help="seed of the interleaving order")
    parser.add_argument("--quick", action="store_true", help="1 rep, 10 steps, 2 warm-up, 50 latency calls")
    parser.add_argument("--json", default=None, help="where to write results (default benchmarks/results/<ts>.json)")
    parser.add_argument("--compare", nargs=2, metavar=("OLD", "NEW"), help="print the ratio NEW/OLD of the medians")
    parser.add_argument("--list", action="store_true", help="list the variants and exit")
    args = parser.parse_args(argv)
    if args.quick:
        args.reps, args.steps, args.warmup, args.latency_steps = 1, 10, 2, 50
    return args


def select_cells(args):
    workloads = [w.strip() for w in args.workloads.split(",") if w.strip()]
    for name in workloads:
        if name not in WORKLOADS:
            raise SystemExit(f"unknown workload {name!r}; known: {sorted(WORKLOADS)}")
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    for mode in modes:
        if mode not in ALL_MODES:
            raise SystemExit(f"unknown mode {mode!r}; known: {list(ALL_MODES)}")
    patterns = [p.strip() for p in args.variants.split(",") if p.strip()]
    chosen = [v for v in VARIANTS if any(fnmatch.fnmatchcase(v.name, p) for p in patterns)]
    if not chosen:
        raise SystemExit(f"no variant matches {args.variants!r}; see --list")
    cells = []  # (workload, mode, variant), in table order
    for workload in workloads:
        for mode in modes:
            if mode == LATENCY and not WORKLOADS[workload].latency:
                continue
            cells += [(workload, mode, v.name) for v in chosen if mode in v.modes]
    return cells


def group_children(cells):
    """One child per (workload, variant): {(workload, variant): [modes in train, predict, latency order]}."""
    children = {}
    for workload, mode, variant in cells:
        children.setdefault((workload, variant), []).append(mode)
    return children


def run_child(workload, variant, modes, args):
    """Runs `_child.py` for one (workload, variant) and its modes; returns {mode: result}."""
    with tempfile.TemporaryDirectory(prefix="kbridge-bench-") as tmp:
        out = os.path.join(tmp, "result.json")
        spec = {
            "workload": workload, "variant": variant, "modes": modes, "steps": args.steps, "warmup": args.warmup,
            "latency_steps": args.latency_steps, "threads": args.threads, "max_time": args.max_time, "out": out,
        }  # fmt: skip
        env = dict(os.environ)
        env["TORCHINDUCTOR_CACHE_DIR"] = args.inductor_cache  # cold in the first round, warm after
        env["PYTHONWARNINGS"] = "ignore"
        started = time.perf_counter()
        try:
            proc = subprocess.run(
                [sys.executable, os.path.join(HERE, "_child.py"), json.dumps(spec)],
                env=env, capture_output=True, text=True, timeout=args.timeout, cwd=tmp,
            )  # fmt: skip
            if os.path.exists(out):
                with open(out) as f:
                    result = json.load(f)
            else:
                tail = (proc.stderr or proc.stdout or "").strip().splitlines()[-3:]
                result = {"status": "error", "reason": f"child exited {proc.returncode}: {' | '.join(tail)}"}
        except subprocess.TimeoutExpired:
            result = {"status": "error", "reason": f"timed out after {args.timeout:.0f} s"}
        wall = time.perf_counter() - started
    if result["status"] != "ok":
        return {mode: result for mode in modes}
    per_mode = result["modes"]
    for mode_result in per_mode.values():
        mode_result["import_s"] = result["import_s"]
        mode_result["child_wall_s"] = wall
    return per_mode


def run_all(args):
    cells = select_cells(args)
    children = group_children(cells)
    runs = {cell: [] for cell in cells}
    skipped = {}
    order_rng = random.Random(args.seed)
    total = len(children) * args.reps
    done = 0
    for rep in range(args.reps):
        order = list(children)
        order_rng.shuffle(order)  # interleaved: every round runs every child once, in a new order
        for workload, variant in order:
            modes = [m for m in children[(workload, variant)] if (workload, m, variant) not in skipped]
            if not modes:
                continue
            results = run_child(workload, variant, modes, args)
            done += 1
            notes = []
            for mode in modes:
                result = results.get(mode, {"status": "error", "reason": "no result"})
                cell = (workload, mode, variant)
                if result["status"] == "ok":
                    runs[cell].append(result)
                    notes.append(f"{mode} {result['step_s'] * 1e3:.2f} ms (first {result['first_step_s']:.2f} s)")
                else:
                    skipped[cell] = result
                    notes.append(f"{mode} {result['status']}: {result['reason'][:100]}")
            print(f"[{done}/{total}] rep {rep + 1} {workload}/{variant}: " + "; ".join(notes), file=sys.stderr,
                  flush=True)  # fmt: skip
    return cells, runs, skipped


def summarize(cells, runs, skipped):
    rows = []
    for cell in cells:
        workload, mode, variant = cell
        row = {"workload": workload, "mode": mode, "variant": variant, "runs": runs[cell]}
        if runs[cell]:
            row["status"] = "ok"
            row["median"] = {m: statistics.median(r[m] for r in runs[cell]) for m in METRICS}
        else:
            info = skipped.get(cell, {"status": "error", "reason": "no run"})
            row["status"], row["reason"] = info["status"], info["reason"]
        if cell in skipped and runs[cell]:
            row["partial_error"] = skipped[cell]["reason"]
        rows.append(row)
    index = {(r["workload"], r["mode"], r["variant"]): r for r in rows}
    for row in rows:
        if row["status"] != "ok":
            continue
        spec = BY_NAME[row["variant"]]
        for key, base in (("vs_native", spec.native), ("vs_keras", spec.keras)):
            ref = index.get((row["workload"], row["mode"], base)) if base else None
            if ref is not None and ref["status"] == "ok":
                row[key] = row["median"]["step_s"] / ref["median"]["step_s"]
                if key == "vs_native":
                    row["rss_vs_native"] = row["median"]["peak_rss_mb"] / ref["median"]["peak_rss_mb"]
    return rows


def _fmt(value, spec):
    return "—" if value is None else format(value, spec)


def markdown_table(rows):
    lines = [
        "| workload | mode | variant | steps/s | ms/step | first step s | peak RSS MB | × native | × Keras 3 "
        "| RSS × native |",
        "|---|---|---|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for row in rows:
        head = f"| {row['workload']} | {row['mode']} | {row['variant']} |"
        if row["status"] != "ok":
            reason = row["reason"].replace("|", "/")[:120]
            label = "not available" if row["status"] == "unavailable" else "error"
            lines.append(f"{head} {label}: {reason} | | | | | | |")
            continue
        m = row["median"]
        lines.append(
            f"{head} {1.0 / m['step_s']:.1f} | {m['step_s'] * 1e3:.2f} | {m['first_step_s']:.2f} | "
            f"{m['peak_rss_mb']:.0f} | {_fmt(row.get('vs_native'), '.2f')} | {_fmt(row.get('vs_keras'), '.2f')} | "
            f"{_fmt(row.get('rss_vs_native'), '.2f')} |"
        )
    return "\n".join(lines)


def versions():
    found = {"python": platform.python_version()}
    from importlib import metadata

    for name in ("kbridge", "torch", "jax", "jaxlib", "optax", "tensorflow-cpu", "tensorflow", "keras", "numpy"):
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return found


def compare(old_path, new_path):
    with open(old_path) as f:
        old = {(r["workload"], r["mode"], r["variant"]): r for r in json.load(f)["rows"]}
    with open(new_path) as f:
        new = json.load(f)["rows"]
    lines = [
        f"Ratio NEW/OLD of medians (< 1 is faster / smaller). OLD={old_path} NEW={new_path}",
        "",
        "| workload | mode | variant | step time | first step | peak RSS |",
        "|---|---|---|--:|--:|--:|",
    ]
    for row in new:
        key = (row["workload"], row["mode"], row["variant"])
        before = old.get(key)
        if row["status"] != "ok" or before is None or before["status"] != "ok":
            continue
        ratios = [row["median"][m] / before["median"][m] for m in ("step_s", "first_step_s", "peak_rss_mb")]
        lines.append(f"| {' | '.join(key)} | " + " | ".join(f"{r:.2f}" for r in ratios) + " |")
    return "\n".join(lines)


def main(argv=None):
    args = parse_args(argv)
    if args.list:
        for v in VARIANTS:
            print(f"{v.name:26s} {','.join(v.modes):24s} {v.implementation}")
        return 0
    if args.compare:
        print(compare(*args.compare))
        return 0
    started = time.time()
    with tempfile.TemporaryDirectory(prefix="kbridge-bench-inductor-") as cache:
        args.inductor_cache = cache  # one torch.compile cache per run: cold in round 1, warm in later rounds
        cells, runs, skipped = run_all(args)
    rows = summarize(cells, runs, skipped)
    table = markdown_table(rows)
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(started))
    path = args.json or os.path.join(HERE, "results", f"{stamp}.json")
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    meta = {
        "timestamp": stamp, "elapsed_s": time.time() - started, "args": vars(args), "versions": versions(),
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count()},
        "variants": {v.name: v.implementation for v in VARIANTS},
    }  # fmt: skip
    with open(path, "w") as f:
        json.dump({"meta": meta, "rows": rows}, f, indent=1)
    print(
        f"\nkbridge benchmarks — medians of {args.reps} rep(s), up to {args.steps} steps ({args.latency_steps} latency "
        f"calls, at most {args.max_time:g} s timed per mode), {args.threads} thread(s) per child, "
        f"{time.time() - started:.0f} s\n"
    )
    print(table)
    print(f"\nresults: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
