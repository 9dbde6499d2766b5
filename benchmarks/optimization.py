"""Benchmark of ``hgq.optimization`` on digits (sklearn, no download), on the CPU.

    python benchmarks/optimization.py [--part objectives|h-model]

Prints, per objective (ParameterEstimator, GPUFLOPEstimator, VivadoDSPEstimator on a 64-32-32-10 MLP), the
reduction reached, the test accuracy before/after and the wall time; then, for an H-model (same shape), the
(accuracy, BOPs) points of bit-width training alone and of bit-width training plus ``BOPsEstimator`` pruning to
50 % of the BOPs (BOPs measured by ``trace_minmax`` on the training data; ``hold_bit_widths=True``: the loop holds
the widths of kept weights while fine-tuning, ``hgq.optimization.keras.widths``).
"""

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402

import hgq  # noqa: E402
from hgq.layers import HDense, HQuantize  # noqa: E402
from hgq.optimization import optimize_keras_model_for_hls4ml  # noqa: E402
from hgq.optimization.attributes import get_attributes_from_keras_model  # noqa: E402
from hgq.optimization.keras import optimize_model  # noqa: E402
from hgq.optimization.keras.utils import get_model_sparsity  # noqa: E402
from hgq.optimization.objectives import ParameterEstimator  # noqa: E402
from hgq.optimization.objectives.bops import BOPsEstimator  # noqa: E402
from hgq.optimization.objectives.gpu_objectives import GPUFLOPEstimator  # noqa: E402
from hgq.optimization.objectives.vivado_objectives import VivadoDSPEstimator  # noqa: E402
from hgq.optimization.scheduler import PolynomialScheduler  # noqa: E402

X, Y = load_digits(return_X_y=True)
_order = np.random.default_rng(0).permutation(len(X))
X, Y = (X[_order] / 16).astype("float32"), Y[_order]
TRAIN, VAL, TEST = slice(0, 1200), slice(1200, 1500), slice(1500, None)
LOGITS = keras.losses.SparseCategoricalCrossentropy(from_logits=True)


def fit(model, epochs, loss="sparse_categorical_crossentropy"):
    keras.utils.set_random_seed(0)
    model.compile(keras.optimizers.Adam(3e-3), loss, metrics=["accuracy"])
    model.fit(X[TRAIN], Y[TRAIN], epochs=epochs, batch_size=64, verbose=0)
    return model


def accuracy(model):
    return model.evaluate(X[TEST], Y[TEST], verbose=0)[1]


def multipliers(model, reuse_factor=4):
    return sum(int(np.any(np.moveaxis(layer.kernel.numpy(), -1, 0).reshape(-1, reuse_factor) != 0, axis=1).sum())
               for layer in model.layers if hasattr(layer, "kernel"))


def optimize(model, objective, loss="sparse_categorical_crossentropy", hls_config=None, rtol=0.975, steps=5,
             epochs=4, **options):
    args = (objective, PolynomialScheduler(steps, final_sparsity=0.5), X[TRAIN], Y[TRAIN], X[VAL], Y[VAL], 64, epochs,
            keras.optimizers.Adam(3e-3), loss, "accuracy", True, rtol)
    if hls_config is not None:
        return optimize_keras_model_for_hls4ml(model, hls_config, *args, tuner=None)
    return optimize_model(model, get_attributes_from_keras_model(model), *args, tuner=None, **options)


def mlp():
    return keras.Sequential([keras.Input((64,)), keras.layers.Dense(32, activation="relu"),
                             keras.layers.Dense(32, activation="relu"), keras.layers.Dense(10, activation="softmax")])


def objectives():
    from hls4ml.utils import config_from_keras_model

    base = fit(mlp(), 30)
    config = config_from_keras_model(base, granularity="name", default_reuse_factor=4, backend="Vitis")
    config["IOType"], config["Model"]["Strategy"] = "io_parallel", "Resource"
    rows = []
    for name, objective, measure, hls_config in [
            ("ParameterEstimator", ParameterEstimator, lambda m: get_model_sparsity(m)[0], None),
            ("GPUFLOPEstimator", GPUFLOPEstimator, lambda m: 1 - m.count_params() / base.count_params(), None),
            ("VivadoDSPEstimator", VivadoDSPEstimator, lambda m: 1 - multipliers(m) / multipliers(base), config)]:
        start = time.time()
        model = optimize(base, objective, hls_config=hls_config)
        rows.append((name, measure(model), accuracy(base), accuracy(model), time.time() - start))
    print("| objective | reduction | accuracy before | accuracy after | wall time |")
    print("|---|---|---|---|---|")
    for name, reduction, before, after, seconds in rows:
        print(f"| {name} | {reduction:.1%} | {before:.4f} | {after:.4f} | {seconds:.0f} s |")


def h_mlp(beta):
    return keras.Sequential([keras.Input((64,)), HQuantize(), HDense(32, activation="relu", beta=beta),
                             HDense(32, activation="relu", beta=beta), HDense(10, beta=beta)])


def bops_points(betas=(1e-6, 1e-5, 3e-5, 1e-4)):
    print("| beta | bit widths only: accuracy | BOPs | + BOPsEstimator pruning: accuracy | BOPs | ratio | time |")
    print("|---|---|---|---|---|---|---|")
    for beta in betas:
        model = fit(h_mlp(beta), 30, LOGITS)
        bops = hgq.trace_minmax(model, X[TRAIN])
        start = time.time()
        pruned = optimize(model, BOPsEstimator, LOGITS, rtol=0.95, steps=5, epochs=6, hold_bit_widths=True)
        pruned_bops = hgq.trace_minmax(pruned, X[TRAIN])
        print(f"| {beta:g} | {accuracy(model):.4f} | {bops:.0f} | {accuracy(pruned):.4f} | {pruned_bops:.0f} | "
              f"{pruned_bops / bops:.2f} | {time.time() - start:.0f} s |")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--part", choices=("all", "objectives", "h-model"), default="all",
                        help="objectives: the hls4ml objectives on a float MLP; h-model: BOPs points of an H-model")
    part = parser.parse_args().part
    if part in ("all", "objectives"):
        objectives()
    if part in ("all", "h-model"):
        bops_points()
