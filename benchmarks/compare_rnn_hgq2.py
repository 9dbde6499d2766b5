"""Our digits GRU against HGQ2's GRU and SimpleRNN, interleaved: ``rnn_digits.py`` and ``rnn_digits_hgq2.py``
(``--cell gru`` and ``--cell simple_rnn``) taking turns, per backend, each run a fresh process with its own seed (run
``r`` uses ``--seed r`` on every side); prints the median
and range over the runs of the test accuracy, the neutral BOPs, the epoch-time ratio over float Keras and whether
hls4ml converts (and bit for bit) what each exports.

    python benchmarks/compare_rnn_hgq2.py --peer-python /tmp/hgq2venv/bin/python [--runs 3]
                                          [--backends tensorflow jax] [-- extra options for both scripts]

On JAX both scripts get ``--x64`` (our layer computes in float64; the same mode for HGQ2).
"""

import argparse
import sys

from compare_hgq2 import run_one, summary

SCRIPTS = {"hgq": "rnn_digits.py", "hgq2": "rnn_digits_hgq2.py"}
#: (library, cell) -> its name in the table
CASES = {("hgq", "gru"): "ours (HGRU)", ("hgq2", "gru"): "HGQ2 (QGRU)", ("hgq2", "simple_rnn"): "HGQ2 (QSimpleRNN)"}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--peer-python", required=True, help="HGQ2's Python interpreter")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--backends", nargs="+", default=["tensorflow", "jax"], choices=("tensorflow", "jax"))
    parser.add_argument("extra", nargs=argparse.REMAINDER, help="after --: options passed to both scripts")
    args = parser.parse_args()
    extra = [a for a in args.extra if a != "--"]
    pythons = {"hgq": sys.executable, "hgq2": args.peer_python}
    results = {}
    for r in range(args.runs):
        for backend in args.backends:
            options = ["--seed", str(r), *(["--x64"] if backend == "jax" else []), *extra]
            for case in (list(CASES) if r % 2 == 0 else list(reversed(CASES))):
                project, cell = case
                res = run_one(pythons[project], SCRIPTS[project], backend, "rnn", [*options, "--cell", cell])
                results.setdefault((backend, case), []).append(res)
                print(f"run {r + 1}/{args.runs} {backend:<10} {CASES[case]:<17}: accuracy {res['accuracy']:.4f}, "
                      f"neutral BOPs {res['bops']:,.0f}, converts {res['converts']}, exact "
                      f"{res['bit_exact_fraction']}, epoch ratio {res['ratio']:.2f}x", flush=True)
    print(f"\nmedian (range) over {args.runs} runs (seeds 0..{args.runs - 1}); ratio = quantized / float epoch")
    print("| backend | library | beta | test accuracy | neutral BOPs | epoch / float | hls4ml converts | bit-exact "
          "samples | float accuracy |")
    print("|---|---|---|---|---|---|---|---|---|")
    for backend in args.backends:
        for case, name in CASES.items():
            res = results[(backend, case)]
            converts = res[0]["converts"]
            exact = (summary([100 * x["bit_exact_fraction"] for x in res], "{:.1f}") + " %" if converts else "—")
            print(f"| {backend} | {name} | {res[0]['beta']:g} "
                  f"| {summary([x['accuracy'] for x in res], '{:.4f}')} "
                  f"| {summary([x['bops'] for x in res], '{:,.0f}')} "
                  f"| {summary([x['ratio'] for x in res], '{:.2f}')}× "
                  f"| {'yes' if converts else 'no: ' + res[0]['hls4ml_error']} | {exact} "
                  f"| {summary([x['float_accuracy'] for x in res], '{:.4f}')} |")

if __name__ == "__main__":
    main()
