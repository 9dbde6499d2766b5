"""The digits front of ``hgq.fit_pareto``'s defaults, and (with ``--hgq2-python``) HGQ2's front from its documented
recipe on the same data and the same neutral BOPs count, in one run per seed (``pareto_common.py`` says how).

Ours: the float 64-32-32-10 MLP, ``hgq.fit_pareto(float_model, ...)`` with its defaults but those given on the command
line (it quantizes the model with ``hgq.quantize_model``), the front chosen on the validation samples (the accuracy
averaged over neighbouring epochs, ``smoothing``) and every design scored on the test samples
(``test_data``). Every design of the front is exported (``hgq.to_proxy_model``), converted to hls4ml and counted; the
design with the fewest neutral BOPs at test accuracy >= 0.95 is compiled and compared bit for bit with its proxy on
the test set. A table of every seed's two numbers (``pareto_common.summary``) ends the output.

    .venv/bin/python benchmarks/pareto_digits.py [--backend tensorflow|jax] [--seeds 0 1 2] [--epochs N]
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


def front_points(result, workdir, x_test, y_test):
    """Each design of ``result``: its validation accuracy (``fit_pareto``'s, the one it was chosen on), its proxy's
    test accuracy counted in float64 (a Keras metric accumulates in float32: 513/540 reads 0.94999999, below the
    goal's 0.95; it must agree with ``fit_pareto``'s test column to float32 precision), own and neutral BOPs."""
    points = []
    for index, design in enumerate(result.points):
        proxy = hgq.to_proxy_model(keras.models.load_model(design["path"]))
        hls_model = common.hls4ml_graph(proxy, os.path.join(workdir, f"prj{index}"))
        test_accuracy = float(np.mean(np.argmax(proxy_predict(proxy, x_test), axis=1) == y_test))
        assert abs(test_accuracy - design[result.test_metric]) < 1e-6, (test_accuracy, design)
        points.append({"epoch": design["epoch"], "beta": design["beta"], "own_bops": design["bops"],
                       "neutral_bops": common.neutral_bops(hls_model), "path": design["path"],
                       "val_accuracy": design[result.metric], "test_accuracy": test_accuracy})
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


def run_hgq2(python, args, seed):
    """HGQ2's front from ``pareto_digits_hgq2.py`` in its own interpreter, with ``fit_pareto``'s recipe."""
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "pareto_digits_hgq2.py")
    r = recipe(args)
    command = [python, script, "--backend", args.backend or os.environ.get("KERAS_BACKEND", "tensorflow"),
               "--epochs", str(r["epochs"]), "--warmup", str(r["warmup"]), "--beta", *map(str, r["beta"]),
               "--learning-rate", str(r["learning_rate"]), "--batch-size", str(r["batch_size"]),
               "--seed", str(seed)]
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


def run_ours(args, seed, data):
    """Our front for ``seed``: its points (``front_points``), the bit-exact fraction of its best design at the goal
    printed."""
    x_fit, x_val, x_test, y_fit, y_val, y_test = data
    keras.utils.set_random_seed(seed)
    options = {key: value for key, value in (("epochs", args.epochs), ("beta", args.beta),
                                             ("learning_rate", args.learning_rate)) if value is not None}
    with tempfile.TemporaryDirectory() as workdir:
        start = time.perf_counter()
        result = hgq.fit_pareto(common.float_mlp(), x_fit, y_fit, (x_val, y_val), common.loss(),
                                path=os.path.join(workdir, "front"), test_data=(x_test, y_test), verbose=False,
                                **options)
        seconds = time.perf_counter() - start
        points = front_points(result, workdir, x_test, y_test)
        common.report(f"hgq {hgq.__version__} ({keras.backend.backend()}), seed {seed}", points, seconds)
        best = common.best_at_goal(points)
        if best is not None:
            print(f"  bit-exact fraction of that design through hls4ml: {bit_exact_fraction(best, x_test, workdir):.4f}")
    return points


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("tensorflow", "jax"))
    parser.add_argument("--epochs", type=int, default=None, help="fit_pareto's epochs (default: its own)")
    parser.add_argument("--beta", type=float, nargs=2, help="fit_pareto's beta ramp (default: its own)")
    parser.add_argument("--learning-rate", type=float, help="fit_pareto's learning rate (default: its own)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--hgq2-python", help="HGQ2's virtual environment's python, to run its front too")
    parser.add_argument("--plot", help="write the last seed's fronts as a PNG here")
    args = parser.parse_args()
    x_train, x_test, y_train, y_test = common.digits()
    x_fit, x_val, y_fit, y_val = common.validation_split(x_train, y_train)
    rows = []
    for seed in args.seeds:
        fronts = {f"hgq ({keras.backend.backend()})": run_ours(args, seed, (x_fit, x_val, x_test, y_fit, y_val,
                                                                              y_test))}
        if args.hgq2_python:
            fronts["HGQ2 0.2.0"] = run_hgq2(args.hgq2_python, args, seed)
        rows += [(label, seed, len(points), common.summary(points)) for label, points in fronts.items()]
        if args.plot:
            plot_fronts(fronts, args.plot)
    print("| library | seed | designs | fewest neutral BOPs at test acc >= 0.95 | at val acc >= 0.95 (test acc) |")
    print("|---|---|---|---|---|")
    for label, seed, size, numbers in rows:
        print(f"| {label} | {seed} | {size} | {common.pair_text(numbers['at_test_goal'])} | "
              f"{common.pair_text(numbers['val_pick'])} |")
    smoothing = inspect.signature(hgq.fit_pareto).parameters["smoothing"].default
    print(f"recipe: {recipe(args)}, learning rate decayed along a cosine to a tenth; hgq chooses on the validation "
          f"accuracy averaged over {2 * smoothing + 1} epochs (smoothing={smoothing}), HGQ2 on each epoch's")


if __name__ == "__main__":
    main()
