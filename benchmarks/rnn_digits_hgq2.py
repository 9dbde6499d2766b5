"""HGQ2's digits GRU, for comparison with ``rnn_digits.py``: run with HGQ2's own Python.

HGQ2 (PyPI ``hgq2``) installs a top-level ``hgq`` module too, so it lives in its own virtual environment (see
``docs/benchmarks.md``). Data, recipe, timing, the neutral BOPs count and the report are those of ``rnn_digits.py``,
shared through ``rnn_common.py`` (which imports no quantization library). The model, HGQ2's layers with their
defaults (its ``QGRU``: hard sigmoid and hard tanh made by its quantizers, input, state, kernel and recurrent
quantizers; EBOPs on) and ``beta0`` on every layer: ``QGRU(16)`` (``--cell simple_rnn``: ``QSimpleRNN(16)``) →
``QDense(10)``. Export as HGQ2's documentation does
it: ``hgq.utils.trace_minmax`` on the training set, ``hls4ml.converters.convert_from_keras_model`` on the HGQ2 model
itself (Vitis, ``io_parallel``).

    /tmp/hgq2venv/bin/python benchmarks/rnn_digits_hgq2.py [--backend tensorflow|jax] [--x64] [--epochs N] ...
"""

import rnn_common as common  # first: it sets KERAS_BACKEND from --backend before Keras is imported

import keras  # after the backend is chosen
import numpy as np
from hgq.layers import QGRU, QDense, QSimpleRNN  # HGQ2's
from hgq.utils import trace_minmax

BETA = 3e-5


def hgq2_rnn(beta, cell):
    rows = keras.Input((8, 8))
    x = (QGRU if cell == "gru" else QSimpleRNN)(common.UNITS, name="rnn", beta0=beta)(rows)
    return keras.Model(rows, QDense(10, name="head", beta0=beta)(x), name=f"digits_hgq2_{cell}")


def export(model, x_calibration, output_dir):
    import hls4ml

    ebops = trace_minmax(model, x_calibration)
    hls_model = hls4ml.converters.convert_from_keras_model(model, output_dir=output_dir, backend="Vitis",
                                                           io_type="io_parallel")
    return ebops, model, hls_model


def widths(model):
    """The widths of ``rnn_common.neutral_gru_bops``: HGQ2's quantizers' (``bits_``, as its EBOPs count them)."""
    cell, head = model.get_layer("rnn").cell, model.get_layer("head")
    units, n_in = cell.units, int(cell.kernel.shape[0])

    def bits(quantizer, shape):
        return np.asarray(keras.ops.convert_to_numpy(quantizer.bits_(shape)), np.float64)

    widths = {"input": bits(cell.iq, (1, n_in))[0], "kernel": bits(cell.kq, tuple(cell.kernel.shape)),
              "state": bits(cell.sq if getattr(cell, "enable_sq", True) else cell.paq, (1, units))[0],
              "recurrent_kernel": bits(cell.rkq, tuple(cell.recurrent_kernel.shape)),
              "head_input": bits(head.iq, (1, units))[0], "head_kernel": bits(head.kq, tuple(head.kernel.shape))}
    if hasattr(cell, "praq"):  # a GRU's gate products
        zr = bits(cell.praq, (1, 2 * units))[0]
        widths.update(z=zr[:units], r=zr[units:], recurrent_candidate=bits(cell.rhq, (1, units))[0],
                      candidate=bits(cell.paq, (1, units))[0])
    return widths


if __name__ == "__main__":
    common.main(__doc__, "hgq2", hgq2_rnn, export, widths, BETA)
