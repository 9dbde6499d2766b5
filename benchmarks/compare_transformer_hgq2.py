"""Our digits transformer against HGQ2's, interleaved: ``transformer_digits.py`` and ``transformer_digits_hgq2.py``
taking turns, per backend, each run a fresh process with its own seed (run ``r`` uses ``--seed r`` on both sides);
prints the median and range over the runs of the test accuracy, the neutral BOPs, the bit-exact fraction and the
epoch times.

    python benchmarks/compare_transformer_hgq2.py --peer-python /tmp/hgq2venv/bin/python [--runs 5]
                                                  [--backends tensorflow jax] [-- extra options for both scripts]

Run it with this project's Python; ``--peer-python`` is HGQ2's (its own virtual environment). On JAX both scripts
get ``--x64`` (our proxy is float64; the same mode for HGQ2, so that both train under the same settings). The order of
the two alternates from run to run. Each script's own default ``--beta`` is used unless the extra options set one.
"""

import argparse
import sys

from compare_hgq2 import run_one, summary

SCRIPTS = {"hgq": "transformer_digits.py", "hgq2": "transformer_digits_hgq2.py"}
NAMES = {"hgq": "ours", "hgq2": "HGQ2"}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--peer-python", required=True, help="HGQ2's Python interpreter")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--backends", nargs="+", default=["tensorflow", "jax"], choices=("tensorflow", "jax"))
    parser.add_argument("extra", nargs=argparse.REMAINDER, help="after --: options passed to both scripts")
    args = parser.parse_args()
    extra = [a for a in args.extra if a != "--"]
    pythons = {"hgq": sys.executable, "hgq2": args.peer_python}
    results = {}  # (backend, project) -> list of RESULT dicts
    for r in range(args.runs):
        for backend in args.backends:
            options = ["--seed", str(r), *(["--x64"] if backend == "jax" else []), *extra]
            for project in (["hgq", "hgq2"] if r % 2 == 0 else ["hgq2", "hgq"]):
                res = run_one(pythons[project], SCRIPTS[project], backend, "transformer", options)
                results.setdefault((backend, project), []).append(res)
                print(f"run {r + 1}/{args.runs} {backend:<10} {project:<4}: accuracy {res['accuracy']:.4f}, "
                      f"BOPs {res['bops']:,} (own {res['own_bops']:,.0f}), exact {res['bit_exact_fraction']:.2%}, "
                      f"epoch {res['quantized']:.3f} s / float {res['float']:.3f} s = {res['ratio']:.2f}x", flush=True)

    print(f"\nmedian (range) over {args.runs} runs (seeds 0..{args.runs - 1}); ratio = quantized / float epoch, "
          "medians of one process")
    print("| backend | library | beta | test accuracy | neutral BOPs | own BOPs count | bit-exact samples "
          "| epoch | float epoch | **epoch / float** | float accuracy |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for backend in args.backends:
        for project in ("hgq", "hgq2"):
            res = results[(backend, project)]
            print(f"| {backend} | {NAMES[project]} | {res[0]['beta']:g} "
                  f"| {summary([x['accuracy'] for x in res], '{:.4f}')} "
                  f"| {summary([x['bops'] for x in res], '{:,.0f}')} "
                  f"| {summary([x['own_bops'] for x in res], '{:,.0f}')} "
                  f"| {summary([100 * x['bit_exact_fraction'] for x in res], '{:.1f}')} % "
                  f"| {summary([x['quantized'] for x in res], '{:.3f}')} s "
                  f"| {summary([x['float'] for x in res], '{:.3f}')} s "
                  f"| {summary([x['ratio'] for x in res], '{:.2f}')}× "
                  f"| {summary([x['float_accuracy'] for x in res], '{:.4f}')} |")
    for backend in args.backends:
        for project in ("hgq", "hgq2"):
            res = results[(backend, project)]
            print(f"{backend} {NAMES[project]} run by run (accuracy / BOPs / exact / ratio): "
                  + "; ".join(f"{x['accuracy']:.4f} / {x['bops']:,} / {x['bit_exact_fraction']:.2%} / {x['ratio']:.2f}"
                              for x in res))


if __name__ == "__main__":
    main()
