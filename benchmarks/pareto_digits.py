"""The digits front of ``hgq.fit_pareto``'s defaults, and (with ``--hgq2-python``) HGQ2's front from its documented
recipe on the same data and the same neutral BOPs count, in one run (``pareto_common.py`` says how).

Ours: the float 64-32-32-10 MLP, ``hgq.fit_pareto(float_model, ...)`` with its defaults (it quantizes the model with
``hgq.quantize_model``). Every design of the front is exported (``hgq.to_proxy_model``), converted to hls4ml and
counted; the design with the fewest neutral BOPs at test accuracy >= 0.95 is compiled and compared bit for bit with
its proxy on the test set.

    .venv/bin/python benchmarks/pareto_digits.py [--backend tensorflow|jax] [--epochs N]
        [--beta START STOP] [--learning-rate LR] [--hgq2-python /tmp/hgq2venv/bin/python] [--plot FRONTS.png]
"""

import argparse
import inspect
import json
import os
import subprocess
import sys
import tempfile
import time

import pareto_common as common  # first: it sets KERAS_BACKEND from --backend

import keras  # after the backend is chosen
import numpy as np

import hgq
from hgq.proxy.hls import proxy_predict


def front_points(result, x_test, y_test, workdir):
    """Each design of ``result``: its proxy's test accuracy, own and neutral BOPs."""
    points = []
    for index, design in enumerate(result.points):
        model = keras.models.load_model(design["path"])
        proxy = hgq.to_proxy_model(model)
        logits = proxy_predict(proxy, x_test)
        hls_model = common.hls4ml_graph(proxy, os.path.join(workdir, f"prj{index}"))
        points.append({"epoch": design["epoch"], "beta": design["beta"], "own_bops": design["bops"],
                       "neutral_bops": common.neutral_bops(hls_model), "path": design["path"],
                       "test_accuracy": float(np.mean(np.argmax(logits, axis=1) == y_test))})
    return points


def bit_exact_fraction(point, x_test, workdir):
    """Compile the design's hls4ml model and compare its C simulation with the proxy on ``x_test``."""
    proxy = hgq.to_proxy_model(keras.models.load_model(point["path"]))
    hls_model = common.hls4ml_graph(proxy, os.path.join(workdir, "best"))
    hls_model.compile()
    x = np.ascontiguousarray(x_test, np.float64)
    y_proxy = proxy_predict(proxy, x).reshape(len(x), -1)
    y_hls = np.asarray(hls_model.predict(x), np.float64).reshape(len(x), -1)
    return float(np.mean(np.all(y_proxy == y_hls, axis=1)))


def recipe(args):
    """``fit_pareto``'s defaults, or the values given on the command line: what HGQ2's run gets too."""
    defaults = {name: p.default for name, p in inspect.signature(hgq.fit_pareto).parameters.items()}
    given = {"epochs": args.epochs, "beta": args.beta, "learning_rate": args.learning_rate}
    r = {key: defaults[key] if given.get(key) is None else given[key]
         for key in ("epochs", "beta", "learning_rate", "batch_size")}
    return {**r, "warmup": r["epochs"] // 10}


def run_hgq2(python, args):
    """HGQ2's front from ``pareto_digits_hgq2.py`` in its own interpreter, with ``fit_pareto``'s recipe."""
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "pareto_digits_hgq2.py")
    r = recipe(args)
    command = [python, script, "--backend", args.backend or os.environ.get("KERAS_BACKEND", "tensorflow"),
               "--epochs", str(r["epochs"]), "--warmup", str(r["warmup"]), "--beta", *map(str, r["beta"]),
               "--learning-rate", str(r["learning_rate"]), "--batch-size", str(r["batch_size"]),
               "--seed", str(args.seed)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if done.returncode or not lines:
        sys.exit(f"error: HGQ2's run failed ({done.returncode}): {done.stderr.strip().splitlines()[-1:]}")
    print("\n".join(line for line in done.stdout.splitlines() if not line.startswith("RESULT ")))
    return json.loads(lines[-1][len("RESULT "):])["points"]


def plot_fronts(fronts, path):
    """``fronts`` (label -> points with ``neutral_bops`` and ``test_accuracy``) as one PNG at ``path``: the test
    accuracy against neutral BOPs of each library's designs, the goal's corner marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 4))
    for label, points in fronts.items():
        points = sorted(points, key=lambda p: p["neutral_bops"])
        ax.plot([p["neutral_bops"] for p in points], [p["test_accuracy"] for p in points], "o-", label=label)
    ax.axhline(common.GOAL[0], color="grey", lw=0.8, ls="--")
    ax.axvline(common.GOAL[1], color="grey", lw=0.8, ls="--")
    ax.set(xscale="log", ylim=(0.85, 1.0), xlabel="neutral BOPs (hls4ml graph)", ylabel="test accuracy",
           title="digits 64-32-32-10: one run each, the same beta ramp")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("tensorflow", "jax"))
    parser.add_argument("--epochs", type=int, default=None, help="fit_pareto's epochs (default: its own)")
    parser.add_argument("--beta", type=float, nargs=2, help="fit_pareto's beta ramp (default: its own)")
    parser.add_argument("--learning-rate", type=float, help="fit_pareto's learning rate (default: its own)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--hgq2-python", help="HGQ2's virtual environment's python, to run its front too")
    parser.add_argument("--plot", help="write the fronts as a PNG here")
    args = parser.parse_args()
    x_train, x_test, y_train, y_test = common.digits()
    keras.utils.set_random_seed(args.seed)
    with tempfile.TemporaryDirectory() as workdir:
        start = time.perf_counter()
        options = {key: value for key, value in (("epochs", args.epochs), ("beta", args.beta),
                                                 ("learning_rate", args.learning_rate)) if value is not None}
        result = hgq.fit_pareto(common.float_mlp(), x_train, y_train, (x_test, y_test),
                                keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                                path=os.path.join(workdir, "front"), **options)
        seconds = time.perf_counter() - start
        points = front_points(result, x_test, y_test, workdir)
        common.report(f"hgq {hgq.__version__} ({keras.backend.backend()})", points, seconds)
        best = common.best_at_goal(points)
        if best is not None:
            exact = bit_exact_fraction(best, x_test, workdir)
            print(f"  bit-exact fraction of that design through hls4ml: {exact:.4f}")
    fronts = {f"hgq ({keras.backend.backend()})": points}
    if args.hgq2_python:
        fronts["HGQ2 0.2.0"] = run_hgq2(args.hgq2_python, args)
    if args.plot:
        plot_fronts(fronts, args.plot)
    print(f"recipe: {recipe(args)}")


if __name__ == "__main__":
    main()
