"""What ``rnn_digits.py`` (ours) and ``rnn_digits_hgq2.py`` (HGQ2, run in its own virtual environment) share: the
data, the float Keras GRU, the training recipe and its timing, the hls4ml comparison, the neutral BOPs count and the
report. It imports no quantization library, so either script can use it.

Import it before Keras: through ``transformer_common`` it imports ``overhead_common``, which sets ``KERAS_BACKEND``
from ``--backend`` (and ``JAX_ENABLE_X64`` from ``--x64``) at import.

**Data and recipe**: those of ``transformer_common`` (digits, each image's 8 rows read as 8 time steps of 8 pixels
in [0, 1], the 30 % test split of ``random_state=0``; Adam with a cosine-decayed learning rate from ``3e-3``, batch
64, the quantized and the float model taking turns chunk by chunk, epoch times without each fit call's first).

**Architecture** (both libraries and the float model): a GRU of 16 units (``reset_after=True``), its last state, a
``Dense(10)`` head (logits). Each library with its own defaults: ours ``HGRU`` (hls4ml's sigmoid and tanh tables),
HGQ2's ``QGRU`` (its activations are hard sigmoid and hard tanh, made by its quantizers). ``--cell simple_rnn``: a
SimpleRNN of 16 units instead (HGQ2's ``QSimpleRNN``; we refuse a SimpleRNN, which hls4ml never computes).

**Neutral BOPs** (``neutral_gru_bops``), one rule for both libraries, counted from the widths each library gives the
values of one time step (the firmware reuses that hardware for every step) and of the head: the products of a
``reset_after`` GRU, input x kernel, state x recurrent kernel, ``r`` x the recurrent candidate ``ĥ``, ``z`` x the
candidate and ``z`` x the state, summed over their elements; the head's input x kernel. A weight counts its
significant bits (0 when pruned); an activation the width its library's quantizer gives it (ours: its type in the
firmware, the tables' values at the table's width, ``ĥ`` at the accumulator's). Additions, biases and table look-ups
are not counted.

**Export**: the library's calibration on the training set, then hls4ml (Vitis, ``io_parallel``, Latency) on what the
library exports; when hls4ml converts and compiles it, the bit-exact fraction of the test samples. A library whose
model hls4ml cannot convert reports the error instead.
"""

import argparse
import json
import statistics
import tempfile
import time

import transformer_common as common  # first: it sets KERAS_BACKEND from --backend before Keras is imported

import keras  # after the backend is chosen
import numpy as np

UNITS = 16


def float_rnn(cell):
    """The architecture in float Keras (the reference of the epoch-time ratio): a GRU, or a SimpleRNN."""
    rows = keras.Input((8, 8))
    layer = keras.layers.GRU if cell == "gru" else keras.layers.SimpleRNN
    x = layer(UNITS, name="rnn")(rows)
    return keras.Model(rows, keras.layers.Dense(10, name="head")(x), name=f"digits_float_{cell}")


def neutral_gru_bops(widths):
    """Neutral BOPs (module docstring) from ``widths``: a dict of NumPy arrays: ``input`` (per input feature),
    ``kernel`` (``(n_in, gates · units)``), ``state`` (per unit), ``recurrent_kernel`` (``(units, gates · units)``),
    ``head_input`` (per feature), ``head_kernel``, and a GRU's ``r``, ``z``, ``recurrent_candidate``, ``candidate`` (per
    unit; a SimpleRNN has none of these products)."""
    w = {key: np.asarray(value, np.float64) for key, value in widths.items()}
    rnn = np.sum(w["input"][:, None] * w["kernel"]) + np.sum(w["state"][:, None] * w["recurrent_kernel"])
    if "r" in w:
        rnn += (np.sum(w["r"] * w["recurrent_candidate"]) + np.sum(w["z"] * w["candidate"])
                + np.sum(w["z"] * w["state"]))
    head = np.sum(w["head_input"][:, None] * w["head_kernel"])
    return {"rnn": float(rnn), "head": float(head)}


def main(doc, project, build, export, widths, default_beta):
    """Parse the command line, train the quantized and the float model taking turns, export, compare with hls4ml
    where it converts, print the report and the ``RESULT`` line.

    Args:
        doc: the script's docstring (its first line describes the command).
        project: ``"hgq"`` or ``"hgq2"`` (in the ``RESULT`` line).
        build: ``(beta, cell) -> `` the library's (not yet trained) model (``cell``: ``"gru"`` or ``"simple_rnn"``).
        export: ``(model, x_calibration, output_dir) -> (own_bops, reference, hls_model)``: the library's
            calibration and its BOPs (or EBOPs), the Keras model its users compare with hls4ml and the converted (not
            yet compiled) hls4ml model; it raises where hls4ml cannot convert the model.
        widths: ``model -> `` the widths of ``neutral_gru_bops``.
        default_beta: the BOPs weight of the library's layers unless ``--beta`` is given.
    """
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--model", choices=("rnn",), default="rnn", help="the workload (for compare_hgq2.run_one)")
    parser.add_argument("--cell", choices=("gru", "simple_rnn"), default="gru",
                        help="the recurrent layer (default gru; simple_rnn: HGQ2's QSimpleRNN only)")
    args = common.parse_recipe_arguments(parser, default_beta)

    x_train, x_test, y_train, y_test = common.digits_tokens()
    keras.utils.set_random_seed(args.seed)
    models = {"quantized": build(args.beta, args.cell), "float": float_rnn(args.cell)}
    times = common.train_taking_turns(models, x_train, y_train, args.epochs, args.chunks)
    float_accuracy = float(np.mean(np.argmax(models["float"].predict(x_test, verbose=0), axis=1) == y_test))

    with tempfile.TemporaryDirectory(prefix=f"{project}_rnn_") as tmp:
        start = time.perf_counter()
        try:
            own_bops, reference, hls_model = export(models["quantized"], x_train, tmp)
            converts, error = True, None
        except Exception as failure:  # noqa: BLE001 (the report says what hls4ml raised)
            converts, error = False, f"{type(failure).__name__}: {str(failure).splitlines()[0][:160]}"
        convert_seconds = time.perf_counter() - start
        if converts:
            check = common.compare_with_hls4ml(hls_model, reference, x_test, y_test)
        else:
            y_pred = models["quantized"].predict(x_test, verbose=0)
            check = {"accuracy": float(np.mean(np.argmax(y_pred, axis=1) == y_test)), "hls4ml_accuracy": None,
                     "bit_exact_fraction": None, "max_abs_difference": None}
            own_bops = float("nan")
    neutral = neutral_gru_bops(widths(models["quantized"]))

    quantized, float_ = statistics.median(times["quantized"]), statistics.median(times["float"])
    result = {"project": project, "backend": keras.backend.backend(), "model": args.model, "cell": args.cell,
              "beta": args.beta,
              "epochs": args.epochs, "accuracy": check["accuracy"], "hls4ml_accuracy": check["hls4ml_accuracy"],
              "float_accuracy": float_accuracy, "bops": sum(neutral.values()), "neutral_parts": neutral,
              "own_bops": float(own_bops), "converts": converts, "hls4ml_error": error,
              "bit_exact_fraction": check["bit_exact_fraction"], "quantized": quantized, "float": float_,
              "ratio": quantized / float_, "convert_seconds": convert_seconds}
    print(f"{project} {common.overhead_common.backend_versions()}; digits rows as 8 steps, {args.cell}({UNITS}), "
          f"{len(x_train)} training / {len(x_test)} test samples, {args.epochs} epochs, beta={args.beta:g}")
    print(f"test accuracy {check['accuracy']:.4f} (float {float_accuracy:.4f}); neutral BOPs {result['bops']:,.0f} "
          f"({', '.join(f'{k} {v:,.0f}' for k, v in neutral.items())}); hls4ml converts: "
          f"{'yes' if converts else 'no (' + error + ')'}"
          + (f", bit-exact samples {check['bit_exact_fraction']:.2%}" if converts else ""))
    print(f"median epoch: quantized {quantized:.3f} s, float {float_:.3f} s, ratio {quantized / float_:.2f}x")
    print("RESULT " + json.dumps(result))
