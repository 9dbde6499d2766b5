"""What ``train_overhead.py`` (ours) and ``train_overhead_hgq2.py`` (HGQ2, run in its own virtual environment)
share: the backend chosen from the command line before Keras is imported, the data, the float models, the timing
and the report. It imports no quantization library, so either script can use it.

Import it before Keras: ``--backend`` sets ``KERAS_BACKEND`` (and ``--x64`` ``JAX_ENABLE_X64``) at import.
"""

import argparse
import json
import os
import statistics
import sys
import time


def _backend_from_argv():
    """Set ``KERAS_BACKEND`` (and ``JAX_ENABLE_X64``) from the command line before Keras is imported."""
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

BETA = 1e-6  # on every quantized layer, so that the BOPs loss is part of the training step


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


def make_image_data(samples, seed=0):
    """32x32x3 Gaussian images; the label is the argmax of a fixed random projection of the
    4x4-average-pooled image (10 classes)."""
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


def float_cnn():
    inp = keras.Input((32, 32, 3))
    x = keras.layers.Conv2D(16, 3, activation="relu")(inp)
    x = keras.layers.MaxPooling2D(2)(x)
    x = keras.layers.Conv2D(32, 3, activation="relu")(x)
    x = keras.layers.MaxPooling2D(2)(x)
    x = keras.layers.Flatten()(x)
    return keras.Model(inp, keras.layers.Dense(10)(x))


# per workload: data, float model, description, defaults (epochs, repeats, samples, batch size)
WORKLOADS = {
    "mlp": (make_data, float_model, "MLP 16-64-32-32-5", (6, 3, 65536, 512)),
    "cnn": (make_image_data, float_cnn, "CNN 32x32x3-conv16-pool-conv32-pool-dense10", (5, 3, 4096, 64)),
}


def epoch_times(model, x, y, epochs, batch_size):
    """Wall times of epochs 2..N of one fit call (the first one is a warm-up)."""
    timer = EpochTimer()
    model.fit(x, y, epochs=epochs, batch_size=batch_size, verbose=0, callbacks=[timer])
    return timer.times[1:]


def backend_versions():
    """``Keras x, backend y (framework version)``, and JAX's 64-bit mode."""
    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        detail = f"JAX {jax.__version__}, x64={bool(jax.config.jax_enable_x64)}"
    elif backend == "tensorflow":
        import tensorflow as tf

        detail = f"TensorFlow {tf.__version__}"
    else:
        detail = backend
    return f"Keras {keras.__version__}, backend {backend} ({detail}), NumPy {np.__version__}"


def main(doc, project, label, quantized, flags=None):
    """Parse the command line, train the float model and the quantized one taking turns, print the report and the
    ``RESULT`` line.

    Args:
        doc: the script's docstring (its first line describes the command).
        project: ``"hgq"`` or ``"hgq2"`` (in the ``RESULT`` line).
        label: the quantized model's name in the report.
        quantized: ``{"mlp": builder, "cnn": builder}``; a builder takes the ``flags`` as keyword arguments.
        flags: ``{name: help}`` of extra boolean options (``--frozen-input`` -> ``frozen_input``).
    """
    flags = flags or {}
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--backend", choices=("tensorflow", "jax"),
                        help="Keras backend (default: KERAS_BACKEND, else Keras' default)")
    parser.add_argument("--x64", action="store_true", help="JAX 64-bit mode (JAX_ENABLE_X64=1); not needed to train")
    parser.add_argument("--model", choices=sorted(WORKLOADS), default="mlp", help="workload (default mlp)")
    parser.add_argument("--epochs", type=int, help="epochs per fit call, the first is warm-up (default 6; cnn 5)")
    parser.add_argument("--repeats", type=int, help="fit calls per model, alternating (default 3)")
    parser.add_argument("--samples", type=int, help="training samples (default 65536; cnn 4096)")
    parser.add_argument("--batch-size", type=int, help="batch size (default 512; cnn 64)")
    parser.add_argument("--jit-compile", action="store_true",
                        help="compile both models with XLA (Keras leaves it off on CPU by default)")
    for name, text in flags.items():
        parser.add_argument("--" + name.replace("_", "-"), action="store_true", help=text)
    args = parser.parse_args()
    data_fn, float_fn, description, defaults = WORKLOADS[args.model]
    for key, default in zip(("epochs", "repeats", "samples", "batch_size"), defaults):
        if getattr(args, key) is None:
            setattr(args, key, default)
    if args.epochs < 2 or args.repeats < 1:
        parser.error("need --epochs >= 2 (the first epoch of each fit call is warm-up) and --repeats >= 1")

    x, y = data_fn(args.samples)
    jit = True if args.jit_compile else "auto"
    options = {name: getattr(args, name) for name in flags}
    models = {"float": float_fn(), label: quantized[args.model](**options)}
    for model in models.values():
        model.compile(optimizer=keras.optimizers.Adam(1e-3),
                      loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), jit_compile=jit)
    times = {name: [] for name in models}
    for _ in range(args.repeats):
        for name, model in models.items():
            times[name] += epoch_times(model, x, y, args.epochs, args.batch_size)

    settings = "".join(f", {name}={value}" for name, value in options.items())
    print(f"{project} {backend_versions()}, jit_compile={jit}{settings}; {description}, {args.samples} samples, "
          f"batch {args.batch_size}; {len(times['float'])} timed epochs per model")
    print(f"{'model':<8}{'median epoch [s]':>18}{'fastest epoch [s]':>19}")
    for name, t in times.items():
        print(f"{name:<8}{statistics.median(t):>18.3f}{min(t):>19.3f}")
    print(f"{label}/float (fastest): {min(times[label]) / min(times['float']):.2f}x")
    print(f"{label}/float (medians): {statistics.median(times[label]) / statistics.median(times['float']):.2f}x")
    print("RESULT " + json.dumps({"project": project, "backend": keras.backend.backend(), "model": args.model,
                                  "float": statistics.median(times["float"]),
                                  "quantized": statistics.median(times[label])}))
