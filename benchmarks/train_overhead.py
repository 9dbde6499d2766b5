"""Training overhead of HGQ: epoch time of an H-model divided by that of the same float Keras model.

MLP 16-64-32-32-5 on generated 5-class data, both models trained in this process with Adam and the
same loss; the reported time is the median over the epochs after the first (warm-up) one.

    python benchmarks/train_overhead.py [--epochs N] [--samples N] [--batch-size N]
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


def median_epoch_time(model, x, y, epochs, batch_size):
    """Median wall time of epochs 2..N (the first one traces and compiles the training step)."""
    model.compile(optimizer=keras.optimizers.Adam(1e-3),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    timer = EpochTimer()
    model.fit(x, y, epochs=epochs, batch_size=batch_size, verbose=0, callbacks=[timer])
    return statistics.median(timer.times[1:])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=6, help="epochs per model, the first is warm-up (default 6)")
    parser.add_argument("--samples", type=int, default=65536, help="training samples (default 65536)")
    parser.add_argument("--batch-size", type=int, default=512, help="batch size (default 512)")
    args = parser.parse_args()
    if args.epochs < 2:
        parser.error("--epochs must be at least 2 (the first epoch is warm-up)")

    x, y = make_data(args.samples)
    t_float = median_epoch_time(float_model(), x, y, args.epochs, args.batch_size)
    t_hgq = median_epoch_time(hgq_model(), x, y, args.epochs, args.batch_size)

    print(f"Keras {keras.__version__}, backend {keras.backend.backend()}; MLP 16-64-32-32-5, "
          f"{args.samples} samples, batch {args.batch_size}, median of {args.epochs - 1} epochs after warm-up")
    print(f"{'model':<8}{'epoch time [s]':>16}")
    print(f"{'float':<8}{t_float:>16.3f}")
    print(f"{'HGQ':<8}{t_hgq:>16.3f}")
    print(f"HGQ/float: {t_hgq / t_float:.2f}x")


if __name__ == "__main__":
    main()
