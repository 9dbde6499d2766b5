"""What ``pareto_digits.py`` (ours) and ``pareto_digits_hgq2.py`` (HGQ2, run in its own virtual environment) share:
the data, the float MLP, the neutral BOPs count and the report of a front. It imports no quantization library.

Import it before Keras: it imports ``overhead_common``, which sets ``KERAS_BACKEND`` from ``--backend`` at import.

**Data.** scikit-learn's digits, 64 pixels scaled to [0, 1], ``train_test_split(test_size=0.3, random_state=0)``:
1257 training and 540 test samples; a fifth of the training samples (``validation_split``, 252) is held out for
choosing. Both libraries train on the other 1005, pick their front on the validation samples and report the accuracy
of every front design on the untouched test samples: the same protocol for both.

**Architecture.** 64-32-32-10 MLP, ReLU, logits.

**Neutral BOPs** (``neutral_bops``), one rule for every library, on the hls4ml ``ModelGraph`` after conversion (the
bit-exact pass has set every precision): for every ``Dense`` node, the sum over its nonzero weights of the input
element's width times the weight's significant bits (``k + i + f`` of ``hls4ml.utils.qinterval.minimal_kif`` of its
exact value). The input element's width is the per-element width of the ``FixedPointQuantizer`` node feeding it
(``mask_kbi``'s ``B``; 0 for a pruned input), or the declared width of its input variable where no such node is there.
Any other node with weights is refused rather than counted as 0.
"""

import argparse
import json
import statistics
import sys
import time

import overhead_common  # noqa: F401  first: it sets KERAS_BACKEND from --backend

import keras  # after the backend is chosen
import numpy as np

TEST_SIZE = 0.3
VALIDATION_SIZE = 0.2  # of the training split
SPLIT_SEED = 0
GOAL = (0.95, 3350)  # test accuracy at least, neutral BOPs at most


def digits():
    """``x_train, x_test, y_train, y_test``: 64 pixels in [0, 1] (float32), 30 % test, ``random_state=0``."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    x, y = load_digits(return_X_y=True)
    return train_test_split((x / 16.0).astype(np.float32), y, test_size=TEST_SIZE, random_state=SPLIT_SEED)


def validation_split(x_train, y_train):
    """``x_fit, x_val, y_fit, y_val``: a fifth of the training split held out for choosing (``random_state=0``); the
    test split stays untouched."""
    from sklearn.model_selection import train_test_split

    return train_test_split(x_train, y_train, test_size=VALIDATION_SIZE, random_state=SPLIT_SEED)


def loss():
    return keras.losses.SparseCategoricalCrossentropy(from_logits=True)


def learning_rate(start, epochs, n_samples, batch_size):
    """``fit_pareto``'s learning rate for a float ``start``: decaying along a cosine to a tenth at the last step."""
    return keras.optimizers.schedules.CosineDecay(start, epochs * -(-n_samples // batch_size), alpha=0.1)


def float_mlp():
    x = keras.Input((64,), name="pixels")
    y = keras.layers.Dense(32, activation="relu", name="dense1")(x)
    y = keras.layers.Dense(32, activation="relu", name="dense2")(y)
    return keras.Model(x, keras.layers.Dense(10, name="head")(y), name="digits_mlp")


def _significant_bits(weights):
    from hls4ml.utils.qinterval import minimal_kif

    k, i, f = minimal_kif(np.asarray(weights, np.float64))
    return (k.astype(np.int64) + i + f).astype(np.int64)


def _input_element_widths(hls_model, node):
    (source,) = node.inputs
    producer = next((n for n in hls_model.graph.values() if source in n.outputs), None)
    n_in = node.weights["weight"].data.shape[0]
    if producer is not None and producer.class_name == "FixedPointQuantizer":
        widths = np.asarray(producer.mask_kbi[1]).reshape(-1).astype(np.int64)
        return np.broadcast_to(widths, (n_in,)) if widths.size == 1 else widths
    return np.full(n_in, int(node.get_input_variable().type.precision.width), np.int64)


def neutral_bops(hls_model):
    """The neutral BOPs of an hls4ml ``ModelGraph`` of an MLP (module docstring)."""
    total = 0
    for node in hls_model.graph.values():
        if node.class_name == "Dense":
            weights = node.weights["weight"].data.reshape(-1, node.get_attr("n_out"))
            total += int(np.sum(_input_element_widths(hls_model, node)[:, None] * _significant_bits(weights)))
        elif {"weight", "scale"} & set(node.weights):
            raise ValueError(f"neutral_bops: node {node.name} ({node.class_name}) has weights the rule does not cover")
    return total


def hls4ml_graph(model, output_dir):
    """``model`` (a proxy or an HGQ2 model) converted to hls4ml (Vitis, ``io_parallel``), not compiled."""
    import hls4ml

    return hls4ml.converters.convert_from_keras_model(model, output_dir=output_dir, backend="Vitis",
                                                      io_type="io_parallel")


def best_at_goal(points, key="test_accuracy"):
    """The point of ``points`` (dicts with ``key`` and ``neutral_bops``) with the fewest neutral BOPs at the goal's
    accuracy in ``key``, or ``None``."""
    good = [p for p in points if p[key] >= GOAL[0]]
    return min(good, key=lambda p: p["neutral_bops"]) if good else None


def summary(points):
    """The two numbers of a front: the fewest neutral BOPs at test accuracy >= 0.95 (the issue's measure), and the
    design a user picks without the test data, the fewest neutral BOPs at validation accuracy >= 0.95, with its test
    accuracy."""
    by_test, by_val = best_at_goal(points), best_at_goal(points, "val_accuracy")
    return {"at_test_goal": None if by_test is None else (by_test["neutral_bops"], by_test["test_accuracy"]),
            "val_pick": None if by_val is None else (by_val["neutral_bops"], by_val["test_accuracy"])}


def pair_text(pair):
    return "none" if pair is None else f"{pair[0]:,} ({pair[1]:.4f})"


def report(project, points, seconds):
    """Print the front (fewest BOPs first) and a ``RESULT`` JSON line."""
    print(f"{project}: {len(points)} designs on the front, {seconds:.0f} s")
    print(f"  {'neutral BOPs':>12} {'own BOPs':>10} {'val acc':>8} {'test acc':>9} {'epoch':>6}")
    for p in sorted(points, key=lambda p: p["neutral_bops"]):
        print(f"  {p['neutral_bops']:>12,} {p['own_bops']:>10,.0f} {p['val_accuracy']:>8.4f} {p['test_accuracy']:>9.4f} "
              f"{p['epoch']:>6}")
    numbers = summary(points)
    print(f"  fewest BOPs at test accuracy >= {GOAL[0]}: " + pair_text(numbers["at_test_goal"]))
    print(f"  fewest BOPs at validation accuracy >= {GOAL[0]} (test accuracy): " + pair_text(numbers["val_pick"]))
    print("RESULT " + json.dumps({"project": project, "seconds": seconds, "points": points}))


def speed_arguments(description):
    """The command line of ``pareto_speed.py`` and ``pareto_speed_hgq2.py``: ``--backend``, ``--epochs``, ``--runs``."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--backend", choices=("tensorflow", "jax"))
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--runs", type=int, default=2, help="pairs of runs (a plain fit, then one with the front)")
    return parser.parse_args()


def median_times(runs, kinds):
    """``{name: median seconds}`` of ``kinds`` (``{name: function of the run's index}``), called in turn ``runs``
    times each (a line on stderr per call)."""
    times = {name: [] for name in kinds}
    for run in range(runs):
        for name, call in kinds.items():
            start = time.perf_counter()
            call(run)
            times[name].append(time.perf_counter() - start)
            print(f"run {run}: {name} {times[name][-1]:.2f} s", file=sys.stderr, flush=True)
    return {name: statistics.median(seconds) for name, seconds in times.items()}
