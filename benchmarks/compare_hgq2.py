"""Ours against HGQ2, interleaved: ``train_overhead.py`` and ``train_overhead_hgq2.py`` taking turns, per backend and
workload, each run a fresh process; prints the median and range over the runs of each one's quantized / float
ratio (both measured in the same process) and of the absolute epoch times.

    python benchmarks/compare_hgq2.py --peer-python /tmp/hgq2venv/bin/python [--runs 5] [--backends tensorflow jax]
                                      [--models mlp cnn] [-- extra options for both scripts, e.g. --epochs 3]

Run it with this project's Python (the one that imports this ``hgq``); ``--peer-python`` is HGQ2's (its own virtual
environment: both install a top-level ``hgq``). The order of the two alternates from run to run.
"""

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent


def run_one(python, script, backend, model, extra):
    """One invocation; its ``RESULT`` dict (run from a temporary directory, so that no ``hgq`` in the working
    directory shadows the interpreter's own)."""
    cmd = [python, str(HERE / script), "--backend", backend, "--model", model, *extra]
    with tempfile.TemporaryDirectory() as cwd:
        proc = subprocess.run(cmd, check=False, capture_output=True, text=True, cwd=cwd)
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT "):])
    raise RuntimeError(f"{' '.join(cmd)} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}")


def summary(values, fmt):
    return f"{fmt.format(statistics.median(values))} ({fmt.format(min(values))}–{fmt.format(max(values))})"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--peer-python", required=True, help="HGQ2's Python interpreter")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--backends", nargs="+", default=["tensorflow", "jax"], choices=("tensorflow", "jax"))
    parser.add_argument("--models", nargs="+", default=["mlp", "cnn"], choices=("mlp", "cnn"))
    parser.add_argument("extra", nargs=argparse.REMAINDER, help="after --: options passed to both scripts")
    args = parser.parse_args()
    extra = [a for a in args.extra if a != "--"]
    runners = {"hgq": (sys.executable, "train_overhead.py"), "hgq2": (args.peer_python, "train_overhead_hgq2.py")}
    results = {}  # (backend, model, project) -> list of RESULT dicts
    for r in range(args.runs):
        for backend in args.backends:
            for model in args.models:
                order = ["hgq", "hgq2"] if r % 2 == 0 else ["hgq2", "hgq"]
                for project in order:
                    res = run_one(*runners[project], backend, model, extra)
                    results.setdefault((backend, model, project), []).append(res)
                    print(f"run {r + 1}/{args.runs} {backend:<10} {model} {project:<4}: float {res['float']:.3f} s, "
                          f"quantized {res['quantized']:.3f} s, ratio {res['quantized'] / res['float']:.2f}x",
                          flush=True)

    print(f"\nmedian (range) over {args.runs} runs; ratio = quantized / float epoch, medians of one process")
    print("| backend / workload | float epoch (ours' runs) | ours, epoch | ours, ratio | HGQ2, epoch | HGQ2, ratio |")
    print("|---|---|---|---|---|---|")
    for backend in args.backends:
        for model in args.models:
            ours, peer = results[(backend, model, "hgq")], results[(backend, model, "hgq2")]
            print(f"| {backend} {model.upper()} | {summary([x['float'] for x in ours], '{:.3f}')} s "
                  f"| {summary([x['quantized'] for x in ours], '{:.3f}')} s "
                  f"| {summary([x['quantized'] / x['float'] for x in ours], '{:.2f}')}× "
                  f"| {summary([x['quantized'] for x in peer], '{:.3f}')} s "
                  f"| {summary([x['quantized'] / x['float'] for x in peer], '{:.2f}')}× |")
    for model in args.models:
        best = {p: min(statistics.median(x["quantized"] for x in results[(b, model, p)]) for b in args.backends)
                for p in ("hgq", "hgq2")}
        print(f"{model.upper()}: fastest backend's median epoch: ours {best['hgq']:.3f} s, HGQ2 {best['hgq2']:.3f} s")


if __name__ == "__main__":
    main()
