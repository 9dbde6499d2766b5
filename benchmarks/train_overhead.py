"""Training overhead of HGQ: epoch time of an H-model divided by that of the same float Keras model.

MLP 16-64-32-32-5 on generated 5-class data, both models trained in this process with Adam and the
same loss. Each model runs ``--repeats`` fit calls of ``--epochs`` epochs, the two models taking turns
(so that a slow spell of a shared machine hits both); the first epoch of every fit call is a warm-up and
is dropped. Reported: the median and fastest epoch time of each model and their ratios.

    python benchmarks/train_overhead.py [--epochs N] [--repeats N] [--samples N] [--batch-size N] [--jit-compile]
"""

import argparse
import statistics
import time

import keras
import numpy as np

from hgq.layers import HDense, HQuantize

BETA = 1e-6  # on every H-layer, so that the BOPs loss is part of the training step


class EpochTimer(keras.callbacks.Callback):
    """Records the wall time of every epoch."""

    def __init__(self):
        super().__init__()
        self.times = []

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.times.append(time.perf_counter() - self._start)


def make_data(samples, seed=0):
    """Gaussian features; the label is the argmax of a fixed random projection (5 classes)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(samples, 16)).astype("float32")
    y = np.argmax(x @ rng.normal(size=(16, 5)), axis=1)
    return x, y


def float_model():
    inp = keras.Input((16,))
    x = keras.layers.Dense(64, activation="relu")(inp)
    x = keras.layers.Dense(32, activation="relu")(x)
    x = keras.layers.Dense(32, activation="relu")(x)
    return keras.Model(inp, keras.layers.Dense(5)(x))


def hgq_model():
    inp = keras.Input((16,))
    x = HQuantize(beta=BETA)(inp)
    x = HDense(64, activation="relu", beta=BETA)(x)
    x = HDense(32, activation="relu", beta=BETA)(x)
    x = HDense(32, activation="relu", beta=BETA)(x)
    return keras.Model(inp, HDense(5, beta=BETA)(x))


def epoch_times(model, x, y, epochs, batch_size):
    """Wall times of epochs 2..N of one fit call (the first one is a warm-up)."""
    timer = EpochTimer()
    model.fit(x, y, epochs=epochs, batch_size=batch_size, verbose=0, callbacks=[timer])
    return timer.times[1:]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=6, help="epochs per fit call, the first is warm-up (default 6)")
    parser.add_argument("--repeats", type=int, default=3, help="fit calls per model, alternating (default 3)")
    parser.add_argument("--samples", type=int, default=65536, help="training samples (default 65536)")
    parser.add_argument("--batch-size", type=int, default=512, help="batch size (default 512)")
    parser.add_argument("--jit-compile", action="store_true",
                        help="compile both models with XLA (Keras leaves it off on CPU by default)")
    args = parser.parse_args()
    if args.epochs < 2 or args.repeats < 1:
        parser.error("need --epochs >= 2 (the first epoch of each fit call is warm-up) and --repeats >= 1")

    x, y = make_data(args.samples)
    jit = True if args.jit_compile else "auto"
    models = {"float": float_model(), "HGQ": hgq_model()}
    for model in models.values():
        model.compile(optimizer=keras.optimizers.Adam(1e-3),
                      loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), jit_compile=jit)
    times = {name: [] for name in models}
    for _ in range(args.repeats):
        for name, model in models.items():
            times[name] += epoch_times(model, x, y, args.epochs, args.batch_size)

    print(f"Keras {keras.__version__}, backend {keras.backend.backend()}, jit_compile={jit}; MLP 16-64-32-32-5, "
          f"{args.samples} samples, batch {args.batch_size}; {len(times['float'])} timed epochs per model")
    print(f"{'model':<8}{'median epoch [s]':>18}{'fastest epoch [s]':>19}")
    for name, t in times.items():
        print(f"{name:<8}{statistics.median(t):>18.3f}{min(t):>19.3f}")
    print(f"HGQ/float (fastest): {min(times['HGQ']) / min(times['float']):.2f}x")
    print(f"HGQ/float (medians): {statistics.median(times['HGQ']) / statistics.median(times['float']):.2f}x")


if __name__ == "__main__":
    main()
