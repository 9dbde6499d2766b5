"""End-to-end demo: train an H-model on scikit-learn's digits, export it and check hls4ml bit for bit.

Run it with ``hgq demo`` or ``python -m hgq demo`` (an MLP on the 64 pixels), ``hgq demo --model cnn`` (an ``HConv2D``
model on the 8x8x1 images), ``hgq demo --model transformer`` (attention over the 8 rows as tokens), ``hgq demo
--model mixer`` (an MLP-mixer over the 8 rows as tokens) or ``hgq demo --model rnn`` (a GRU reading the 8 rows as 8
time steps); ``run()`` returns the numbers it prints.
"""

import contextlib
import math
import tempfile
import time

import keras
import numpy as np

from ..calibration import trace_minmax
from ..layers import (HGRU, HAdd, HConv2D, HDense, HEinsumDense, HMultiHeadAttention, HQuantize, PFlatten,
                      PGlobalAveragePooling1D, PMaxPooling1D, PMaxPooling2D, PPermute)
from ..outputs import OutputFolder
from ..proxy import convert_to_hls4ml, hls4ml_predict, proxy_predict, to_proxy_model
from ..proxy.hls import quiet
from ..proxy.verify import compare
from .datasets import digits

DEFAULT_EPOCHS = 60
DEFAULT_BETA = 1e-4
BATCH_SIZE = 64
LEARNING_RATE = 3e-3


def build_model(beta):
    """HQuantize -> HDense(64, relu) -> HDense(32, relu) -> HDense(10) logits, 6-bit initial activations."""
    paq_conf = {"init_bw": 6}
    return keras.Sequential([
        keras.Input((64,)),
        HQuantize(paq_conf=paq_conf),
        HDense(64, activation="relu", beta=beta, paq_conf=paq_conf),
        HDense(32, activation="relu", beta=beta, paq_conf=paq_conf),
        HDense(10, beta=beta, paq_conf=paq_conf),
    ], name="digits_hgq")


def build_cnn_model(beta):
    """On 8x8x1 images: HQuantize -> HConv2D(8, 3, relu) -> PMaxPooling2D(2) -> PFlatten -> HDense(10) logits."""
    paq_conf = {"init_bw": 6}
    return keras.Sequential([
        keras.Input((8, 8, 1)),
        HQuantize(paq_conf=paq_conf),
        HConv2D(8, 3, activation="relu", beta=beta, paq_conf=paq_conf),
        PMaxPooling2D(2),
        PFlatten(),
        HDense(10, beta=beta, paq_conf=paq_conf),
    ], name="digits_hgq_cnn")


def build_transformer_model(beta):
    """On the 8 rows of each image as 8 tokens of 8 pixels: an HEinsumDense embedding per row (16 features), a
    self-attention block (HMultiHeadAttention, 2 heads of 8, a residual HAdd) and an HEinsumDense MLP block (a
    residual HAdd), max pooling over the tokens, an HDense(10) head (logits)."""
    paq_conf = {"init_bw": 6}
    common = dict(beta=beta, paq_conf=paq_conf)
    tokens = keras.Input((8, 8))
    x = HQuantize(paq_conf=paq_conf)(tokens)
    # each row has its own embedding weights (the letter b is in the kernel): the position of the token
    x = HEinsumDense("abc,bcd->abd", (8, 16), bias_axes="bd", activation="relu", name="embedding", **common)(x)
    attention = HMultiHeadAttention(num_heads=2, key_dim=8, name="attention", **common)(x, x)
    x = HAdd(name="residual1", paq_conf=paq_conf)([x, attention])
    mlp = HEinsumDense("abc,cd->abd", (8, 16), bias_axes="d", activation="relu", name="mlp", **common)(x)
    x = HAdd(name="residual2", paq_conf=paq_conf)([x, mlp])
    x = PFlatten()(PMaxPooling1D(8, name="pool")(x))
    return keras.Model(tokens, HDense(10, name="head", **common)(x), name="digits_hgq_transformer")


def build_mixer_model(beta):
    """A particle-style MLP-mixer on the 8 rows of each image as 8 tokens of 8 pixels: an HEinsumDense embedding per
    row (16 features), token mixing (PPermute, an HEinsumDense across the 8 tokens, PPermute back, a residual HAdd),
    channel mixing (an HEinsumDense across the 16 features, a residual HAdd), global average pooling over the
    tokens, an HDense(10) head (logits)."""
    paq_conf = {"init_bw": 6}
    common = dict(beta=beta, paq_conf=paq_conf)
    tokens = keras.Input((8, 8))
    x = HQuantize(paq_conf=paq_conf)(tokens)
    x = HEinsumDense("abc,bcd->abd", (8, 16), bias_axes="bd", activation="relu", name="embedding", **common)(x)
    mixed = PPermute((2, 1), name="to_channels")(x)                                       # (16 features, 8 tokens)
    mixed = HEinsumDense("abc,cd->abd", (16, 8), bias_axes="d", activation="relu", name="token_mixing", **common)(mixed)
    x = HAdd(name="residual1", paq_conf=paq_conf)([x, PPermute((2, 1), name="to_tokens")(mixed)])
    mixed = HEinsumDense("abc,cd->abd", (8, 16), bias_axes="d", activation="relu", name="channel_mixing", **common)(x)
    x = HAdd(name="residual2", paq_conf=paq_conf)([x, mixed])
    x = PGlobalAveragePooling1D(name="pool")(x)
    return keras.Model(tokens, HDense(10, name="head", **common)(x), name="digits_hgq_mixer")


def build_rnn_model(beta):
    """The 8 rows of each image read as 8 time steps of 8 pixels: an HGRU of 16 units (its last state), an HDense(10)
    head (logits)."""
    paq_conf = {"init_bw": 6}
    common = dict(beta=beta, paq_conf=paq_conf)
    rows = keras.Input((8, 8))
    x = HQuantize(paq_conf=paq_conf)(rows)
    x = HGRU(16, table_size=1024, table_bits=12, name="gru", beta=beta)(x)
    return keras.Model(rows, HDense(10, name="head", **common)(x), name="digits_hgq_rnn")


# model name -> (builder taking beta, shape of one input sample)
MODELS = {"mlp": (build_model, (64,)), "cnn": (build_cnn_model, (8, 8, 1)),
          "transformer": (build_transformer_model, (8, 8)), "mixer": (build_mixer_model, (8, 8)),
          "rnn": (build_rnn_model, (8, 8))}


def train(model, x_train, y_train, epochs, verbose):
    """Fit with Adam (cosine-decayed learning rate) on sparse categorical cross-entropy from logits."""
    steps = epochs * math.ceil(len(x_train) / BATCH_SIZE)
    optimizer = keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(LEARNING_RATE, steps))
    model.compile(optimizer=optimizer, loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    model.fit(x_train, y_train, epochs=epochs, batch_size=BATCH_SIZE, verbose=1 if verbose else 0)


def export(model, x_train, output_dir, verbose):
    """Calibrate on ``x_train``, build the proxy, convert and compile it with hls4ml (as ``hgq verify`` does).

    Returns ``bops, proxy, hls_model``; hls4ml's and the compiler's messages are hidden unless ``verbose``.
    """
    bops = trace_minmax(model, x_train)
    proxy = to_proxy_model(model, aggressive=True)
    with quiet(not verbose):
        hls_model = convert_to_hls4ml(proxy, output_dir)
        hls_model.compile()
    return bops, proxy, hls_model


def evaluate(proxy, hls_model, x_test, y_test):
    """Test accuracy of the proxy and of hls4ml, and the fraction of samples whose outputs agree bit for bit
    (``hgq.proxy.verify.compare``, the comparison of ``hgq verify``)."""
    x_test = np.asarray(x_test, np.float64)
    y_hls = hls4ml_predict(hls_model, x_test, proxy)
    y_proxy = proxy_predict(proxy, x_test)
    check = compare(proxy, x_test, [y_hls])
    return {
        "proxy_accuracy": float(np.mean(np.argmax(y_proxy, axis=1) == y_test)),
        "hls4ml_accuracy": float(np.mean(np.argmax(y_hls, axis=1) == y_test)),
        "bit_exact_fraction": check.exact_fraction[0],
        "mismatches": check.mismatches,
    }


def format_report(result):
    """The demo's summary block."""
    return "\n".join([
        f"== hgq demo: digits, {result.get('model', 'mlp')}, {result['epochs']} epochs, beta={result['beta']:g} ==",
        f"proxy test accuracy   {result['proxy_accuracy']:.4f}",
        f"hls4ml test accuracy  {result['hls4ml_accuracy']:.4f}",
        f"BOPs                  {result['bops']:,.0f}",
        f"bit-exact samples     {result['bit_exact_fraction']:.2%} of {result['n_test']}",
        f"hls4ml project        {result['output_dir'] or '(temporary, deleted)'}",
        f"runtime               {result['seconds']:.1f} s",
    ])


def run(epochs=DEFAULT_EPOCHS, beta=DEFAULT_BETA, output_dir=None, seed=0, verbose=True, model="mlp",
        show_tools=False):
    """Train, calibrate, export and compare with hls4ml; return the numbers as a dict.

    Args:
        epochs: training epochs.
        beta: BOPs weight in the loss of every H-layer.
        output_dir: hls4ml project folder, kept (new, empty, or one that hgq wrote); a temporary one, deleted
            afterwards, if ``None``.
        seed: seed of the data split and of Keras.
        verbose: show Keras's progress bar and print the summary.
        show_tools: show hls4ml's and the compiler's messages.
        model: ``"mlp"`` (dense layers on the 64 pixels), ``"cnn"`` (``HConv2D`` on the 8x8x1 images) or
            ``"transformer"`` (attention over the 8 rows of 8 pixels), ``"mixer"`` (an MLP-mixer over them) or
            ``"rnn"`` (a GRU reading them as 8 time steps).

    Returns:
        dict with ``proxy_accuracy``, ``hls4ml_accuracy``, ``bops``, ``bit_exact_fraction``, ``n_test``,
        ``model``, ``epochs``, ``beta``, ``output_dir`` (``None`` if temporary) and ``seconds``.
    """
    if model not in MODELS:
        raise ValueError(f"model must be one of {sorted(MODELS)}, got {model!r}")
    builder, input_shape = MODELS[model]
    if output_dir is not None:  # refused before training, not after it
        OutputFolder(output_dir, "hgq demo").own_all()
    start = time.perf_counter()
    keras.utils.set_random_seed(seed)
    x_train, x_test, y_train, y_test = digits(seed)
    x_train = x_train.reshape((-1, *input_shape))
    x_test = x_test.reshape((-1, *input_shape))
    h_model = builder(beta)
    train(h_model, x_train, y_train, epochs, verbose)
    if output_dir is None:
        project = tempfile.TemporaryDirectory(prefix="hgq_demo_")
    else:
        project = contextlib.nullcontext(output_dir)
    with project as project_dir:
        bops, proxy, hls_model = export(h_model, x_train, project_dir, show_tools)
        result = evaluate(proxy, hls_model, x_test, y_test)
    result.update(bops=float(bops), n_test=len(x_test), model=model, epochs=epochs, beta=beta,
                  output_dir=None if output_dir is None else str(output_dir), seconds=time.perf_counter() - start)
    if verbose:
        print(format_report(result))
    return result
