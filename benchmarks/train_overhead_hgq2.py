"""HGQ2's training overhead on the workloads of ``train_overhead.py``, for comparison: run with HGQ2's own Python.

HGQ2 (PyPI ``hgq2``) installs a top-level ``hgq`` module too, so it lives in its own virtual environment, e.g.
``python3 -m venv /tmp/hgq2venv && /tmp/hgq2venv/bin/pip install hgq2==0.2.0 tensorflow jax``. The data, the
float models, the timing and the output are those of ``train_overhead.py`` (this file does not import it: the
two scripts run in different environments); the quantized models use HGQ2's layers with its defaults (``kbi``
kernel quantizers, ``kif`` input quantizers with only the batch axis shared, input quantization on, output
quantization off, EBOPs on), ``beta0=1e-6`` on every quantized layer like ``BETA`` there:

- MLP: ``QDense(64, relu)`` → ``QDense(32, relu)`` → ``QDense(32, relu)`` → ``QDense(5)``;
- CNN: ``QConv2D(16, 3, relu)`` → ``MaxPooling2D(2)`` → ``QConv2D(32, 3, relu)`` → ``MaxPooling2D(2)`` →
  ``Flatten`` → ``QDense(10)`` (each Q-layer quantizes its own input, so the first one quantizes the image).

    /tmp/hgq2venv/bin/python benchmarks/train_overhead_hgq2.py [--backend tensorflow|jax] [--model mlp|cnn] ...
"""

import argparse
import json
import os
import statistics
import sys
import time


def _backend_from_argv():
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--backend", choices=("tensorflow", "jax"))
    pre.add_argument("--x64", action="store_true")
    args, _ = pre.parse_known_args(sys.argv[1:])
    if args.backend:
        os.environ["KERAS_BACKEND"] = args.backend
    if args.x64:
        os.environ["JAX_ENABLE_X64"] = "1"


_backend_from_argv()

# imported only now, after the backend is chosen
import keras
import numpy as np

import hgq  # HGQ2's
from hgq.layers import QConv2D, QDense

BETA = 1e-6


class EpochTimer(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.times = []

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.times.append(time.perf_counter() - self._start)


def make_data(samples, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(samples, 16)).astype("float32")
    y = np.argmax(x @ rng.normal(size=(16, 5)), axis=1)
    return x, y


def make_image_data(samples, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(samples, 32, 32, 3)).astype("float32")
    pooled = x.reshape(samples, 8, 4, 8, 4, 3).mean(axis=(2, 4)).reshape(samples, -1)
    y = np.argmax(pooled @ rng.normal(size=(pooled.shape[1], 10)), axis=1)
    return x, y


def float_model():
    inp = keras.Input((16,))
    x = keras.layers.Dense(64, activation="relu")(inp)
    x = keras.layers.Dense(32, activation="relu")(x)
    x = keras.layers.Dense(32, activation="relu")(x)
    return keras.Model(inp, keras.layers.Dense(5)(x))


def hgq2_model():
    inp = keras.Input((16,))
    x = QDense(64, activation="relu", beta0=BETA)(inp)
    x = QDense(32, activation="relu", beta0=BETA)(x)
    x = QDense(32, activation="relu", beta0=BETA)(x)
    return keras.Model(inp, QDense(5, beta0=BETA)(x))


def float_cnn():
    inp = keras.Input((32, 32, 3))
    x = keras.layers.Conv2D(16, 3, activation="relu")(inp)
    x = keras.layers.MaxPooling2D(2)(x)
    x = keras.layers.Conv2D(32, 3, activation="relu")(x)
    x = keras.layers.MaxPooling2D(2)(x)
    x = keras.layers.Flatten()(x)
    return keras.Model(inp, keras.layers.Dense(10)(x))


def hgq2_cnn():
    inp = keras.Input((32, 32, 3))
    x = QConv2D(16, 3, activation="relu", beta0=BETA)(inp)
    x = keras.layers.MaxPooling2D(2)(x)
    x = QConv2D(32, 3, activation="relu", beta0=BETA)(x)
    x = keras.layers.MaxPooling2D(2)(x)
    x = keras.layers.Flatten()(x)
    return keras.Model(inp, QDense(10, beta0=BETA)(x))


WORKLOADS = {
    "mlp": (make_data, float_model, hgq2_model, "MLP 16-64-32-32-5", (6, 3, 65536, 512)),
    "cnn": (make_image_data, float_cnn, hgq2_cnn, "CNN 32x32x3-conv16-pool-conv32-pool-dense10", (5, 3, 4096, 64)),
}


def epoch_times(model, x, y, epochs, batch_size):
    timer = EpochTimer()
    model.fit(x, y, epochs=epochs, batch_size=batch_size, verbose=0, callbacks=[timer])
    return timer.times[1:]


def backend_versions():
    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        detail = f"JAX {jax.__version__}, x64={bool(jax.config.jax_enable_x64)}"
    else:
        import tensorflow as tf

        detail = f"TensorFlow {tf.__version__}"
    return f"HGQ2 {hgq.__version__}, Keras {keras.__version__}, backend {backend} ({detail}), NumPy {np.__version__}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("tensorflow", "jax"))
    parser.add_argument("--x64", action="store_true")
    parser.add_argument("--model", choices=sorted(WORKLOADS), default="mlp")
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--repeats", type=int)
    parser.add_argument("--samples", type=int)
    parser.add_argument("--batch-size", type=int)
    parser.add_argument("--jit-compile", action="store_true")
    args = parser.parse_args()
    data_fn, float_fn, q_fn, description, defaults = WORKLOADS[args.model]
    for key, default in zip(("epochs", "repeats", "samples", "batch_size"), defaults):
        if getattr(args, key) is None:
            setattr(args, key, default)
    if args.epochs < 2 or args.repeats < 1:
        parser.error("need --epochs >= 2 and --repeats >= 1")

    x, y = data_fn(args.samples)
    jit = True if args.jit_compile else "auto"
    models = {"float": float_fn(), "HGQ2": q_fn()}
    for model in models.values():
        model.compile(optimizer=keras.optimizers.Adam(1e-3),
                      loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), jit_compile=jit)
    times = {name: [] for name in models}
    for _ in range(args.repeats):
        for name, model in models.items():
            times[name] += epoch_times(model, x, y, args.epochs, args.batch_size)

    print(f"{backend_versions()}, jit_compile={jit}; {description}, {args.samples} samples, "
          f"batch {args.batch_size}; {len(times['float'])} timed epochs per model")
    print(f"{'model':<8}{'median epoch [s]':>18}{'fastest epoch [s]':>19}")
    for name, t in times.items():
        print(f"{name:<8}{statistics.median(t):>18.3f}{min(t):>19.3f}")
    print(f"HGQ2/float (medians): {statistics.median(times['HGQ2']) / statistics.median(times['float']):.2f}x")
    print("RESULT " + json.dumps({"project": "hgq2", "backend": keras.backend.backend(), "model": args.model,
                                  "float": statistics.median(times["float"]),
                                  "quantized": statistics.median(times["HGQ2"])}))


if __name__ == "__main__":
    main()
