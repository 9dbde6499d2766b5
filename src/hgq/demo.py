"""End-to-end demo: train an H-model on scikit-learn's digits, export it, and check hls4ml bit for bit.

Run it with ``hgq demo`` or ``python -m hgq demo``; ``run()`` returns the numbers it prints.
"""

import tempfile
import time

import keras
import numpy as np

from .calibration import trace_minmax
from .layers import HDense, HQuantize
from .proxy import convert_to_hls4ml, hls4ml_predict, to_proxy_model

DEFAULT_EPOCHS = 60
DEFAULT_BETA = 1e-6


def load_data(seed=0):
    """Digits (8x8 images, 10 classes) scaled to [0, 1], split 75/25 with a fixed seed."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    x, y = load_digits(return_X_y=True)
    x = (x / 16.0).astype(np.float32)
    return train_test_split(x, y, test_size=0.25, random_state=seed, stratify=y)


def build_model(beta):
    """HQuantize -> HDense(64, relu) -> HDense(32, relu) -> HDense(10) logits."""
    return keras.Sequential([
        keras.Input((64,)),
        HQuantize(paq_conf={"init_bw": 6}),
        HDense(64, activation="relu", beta=beta, paq_conf={"init_bw": 6}),
        HDense(32, activation="relu", beta=beta, paq_conf={"init_bw": 6}),
        HDense(10, beta=beta, paq_conf={"init_bw": 6}),
    ], name="digits_hgq")


def train(model, x_train, y_train, epochs, verbose):
    """Fit with Adam on sparse categorical cross-entropy from logits."""
    model.compile(optimizer=keras.optimizers.Adam(3e-3),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    model.fit(x_train, y_train, epochs=epochs, batch_size=64, verbose=1 if verbose else 0)


def export(model, x_train, output_dir):
    """Calibrate on ``x_train``, build the proxy and compile it with hls4ml; return ``(bops, proxy, hls_model)``."""
    bops = trace_minmax(model, x_train)
    proxy = to_proxy_model(model, aggressive=True)
    hls_model = convert_to_hls4ml(proxy, output_dir)
    hls_model.compile()
    return bops, proxy, hls_model


def evaluate(proxy, hls_model, x_test, y_test):
    """Accuracies of the proxy and of hls4ml, and the fraction of samples whose outputs agree bit for bit."""
    y_proxy = np.asarray(proxy.predict(x_test, verbose=0), dtype=np.float64)
    y_hls = hls4ml_predict(hls_model, x_test, proxy.output_shape[1:])
    return {
        "proxy_accuracy": float(np.mean(np.argmax(y_proxy, axis=1) == y_test)),
        "hls4ml_accuracy": float(np.mean(np.argmax(y_hls, axis=1) == y_test)),
        "bit_exact_fraction": float(np.all(y_proxy == y_hls, axis=1).mean()),
    }


def format_report(result):
    """The demo's summary block as text."""
    return "\n".join([
        "== hgq demo: digits ==",
        f"proxy test accuracy   {result['proxy_accuracy']:.4f}",
        f"hls4ml test accuracy  {result['hls4ml_accuracy']:.4f}",
        f"BOPs                  {result['bops']:,.0f}",
        f"bit-exact samples     {result['bit_exact_fraction']:.2%} of {result['n_test']}",
        f"hls4ml project        {result['output_dir']}",
        f"runtime               {result['seconds']:.1f} s",
    ])


def run(epochs=DEFAULT_EPOCHS, beta=DEFAULT_BETA, output_dir=None, seed=0, verbose=True):
    """Train, calibrate, export and compare with hls4ml; return the numbers as a dict.

    Args:
        epochs: training epochs.
        beta: BOPs weight in the loss of every H-layer.
        output_dir: hls4ml project folder; a temporary one (deleted afterwards) if ``None``.
        seed: seed for the data split and Keras.
        verbose: show Keras's progress bar and print the summary.

    Returns:
        dict with ``proxy_accuracy``, ``hls4ml_accuracy``, ``bops``, ``bit_exact_fraction``, ``n_test``,
        ``output_dir`` and ``seconds``.
    """
    start = time.perf_counter()
    keras.utils.set_random_seed(seed)
    x_train, x_test, y_train, y_test = load_data(seed)
    model = build_model(beta)
    train(model, x_train, y_train, epochs, verbose)
    with tempfile.TemporaryDirectory(prefix="hgq_demo_") as tmp:
        project = output_dir if output_dir is not None else tmp
        bops, proxy, hls_model = export(model, x_train, project)
        result = evaluate(proxy, hls_model, x_test, y_test)
    result.update(bops=float(bops), n_test=len(x_test), output_dir=None if output_dir is None else str(output_dir),
                  seconds=time.perf_counter() - start)
    if verbose:
        print(format_report(result))
    return result
