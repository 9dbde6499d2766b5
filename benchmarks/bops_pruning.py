"""BOPs-guided pruning of a digits H-model at hls4ml's documented example settings, widths free and held.

    .venv/bin/python benchmarks/bops_pruning.py [--backend tensorflow|jax] [--seeds 0 1 2 3]

The settings (those of hls4ml's Optimization API example): ``PolynomialScheduler(5, final_sparsity=0.5)``, 10 epochs
a step, ``rtol=0.975``, Adam 1e-3, ``tuner="Manual"``. The H-model: 64-32-32-10 (``HQuantize``, ``HDense``, ReLU),
``beta=1e-6``, 30 epochs (Adam 3e-3, batch 64) on scikit-learn's digits, ``train_test_split(test_size=0.3,
random_state=0)``: 1000 training samples, the other 257 of the training split for validation, 540 for the test.
Prints, per seed (model initialization and training), the BOPs that ``trace_minmax`` measures before and after on the
training samples, their ratio, and the test accuracy before and after, for ``optimize_model``'s default (widths free
while a step is fine-tuned) and ``hold_bit_widths=True``.
"""

import argparse

import overhead_common  # noqa: F401  first: it sets KERAS_BACKEND from --backend before Keras is imported

import keras  # noqa: E402
import numpy as np  # noqa: E402

import hgq  # noqa: E402
from hgq.layers import HDense, HQuantize  # noqa: E402
from hgq.optimization.attributes import get_attributes_from_keras_model  # noqa: E402
from hgq.optimization.keras import optimize_model  # noqa: E402
from hgq.optimization.objectives.bops import BOPsEstimator  # noqa: E402
from hgq.optimization.scheduler import PolynomialScheduler  # noqa: E402

LOSS = keras.losses.SparseCategoricalCrossentropy(from_logits=True)


def digits():
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    x, y = load_digits(return_X_y=True)
    return train_test_split((x / 16).astype("float32"), y, test_size=0.3, random_state=0)


def run(seed, hold, data):
    x_train, x_test, y_train, y_test = data
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.Input((64,)), HQuantize(), HDense(32, activation="relu", beta=1e-6),
                              HDense(32, activation="relu", beta=1e-6), HDense(10, beta=1e-6)])
    model.compile(keras.optimizers.Adam(3e-3), LOSS)
    model.fit(x_train[:1000], y_train[:1000], epochs=30, batch_size=64, verbose=0)
    before = hgq.trace_minmax(model, x_train[:1000])
    pruned = optimize_model(model, get_attributes_from_keras_model(model), BOPsEstimator,
                            PolynomialScheduler(5, final_sparsity=0.5), x_train[:1000], y_train[:1000],
                            x_train[1000:], y_train[1000:], 64, 10, keras.optimizers.Adam(1e-3), LOSS, "accuracy",
                            True, 0.975, tuner="Manual", hold_bit_widths=hold)
    after = hgq.trace_minmax(pruned, x_train[:1000])
    accuracy = [np.mean(np.argmax(m.predict(x_test, verbose=0), axis=1) == y_test) for m in (model, pruned)]
    accepted = max(s.target for s in pruned.optimization_history if s.accepted)
    return before, after, accuracy, accepted


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("tensorflow", "jax"))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3])
    args = parser.parse_args()
    data = digits()
    print(f"backend {keras.backend.backend()}")
    print("| widths | seed | BOPs before | after | ratio | test accuracy before | after | last accepted target |")
    print("|---|---|---|---|---|---|---|---|")
    for hold in (False, True):
        for seed in args.seeds:
            before, after, accuracy, accepted = run(seed, hold, data)
            print(f"| {'held' if hold else 'free'} | {seed} | {before:,.0f} | {after:,.0f} | {after / before:.2f} | "
                  f"{accuracy[0]:.4f} | {accuracy[1]:.4f} | {accepted:.1%} |", flush=True)


if __name__ == "__main__":
    main()
