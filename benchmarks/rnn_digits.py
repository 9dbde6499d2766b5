"""Our digits GRU against HGQ2's: test accuracy, neutral BOPs, bit-exactness through hls4ml, epoch time over float
Keras. Run with this project's Python (the one that imports this ``hgq``).

The model is ``hgq demo --model rnn``'s (``hgq.cli.demo.build_rnn_model``: ``HQuantize``, ``HGRU(16)`` with 1024-entry
12-bit tables, ``HDense(10)``; 6-bit initial activation widths, ``beta`` on every H-layer). Data, recipe, timing, the
neutral BOPs count and the report are shared with ``rnn_digits_hgq2.py`` through ``rnn_common.py`` (see its
docstring). Export as our users do it: ``hgq.trace_minmax`` on the training set, ``hgq.to_proxy_model``,
``hgq.proxy.convert_to_hls4ml``; the proxy is what hls4ml is compared with.

    python benchmarks/rnn_digits.py [--backend tensorflow|jax] [--x64] [--epochs N] [--chunks N] [--beta B] [--seed N]

On JAX the layer (float64) needs ``--x64``. The last line of the output, ``RESULT {...}``, is JSON for
``benchmarks/compare_rnn_hgq2.py``.
"""

import rnn_common as common  # first: it sets KERAS_BACKEND from --backend before Keras is imported

import numpy as np  # after the backend is chosen

from hgq import to_proxy_model, trace_minmax
from hgq.cli.demo import build_rnn_model
from hgq.proxy import convert_to_hls4ml
from hgq.quantizer.types import as_numpy

BETA = 1e-4


def export(model, x_calibration, output_dir):
    bops = trace_minmax(model, x_calibration)
    proxy = to_proxy_model(model, aggressive=True)
    return bops, proxy, convert_to_hls4ml(proxy, output_dir)


def widths(model):
    """The widths of ``rnn_common.neutral_gru_bops``: the firmware's types (the tables' values at the table's width,
    the recurrent candidate ``ĥ`` in the accumulator)."""
    gru, head = model.get_layer("gru"), model.get_layer("head")  # the demo's names
    units = gru.units
    (fw,) = gru.firmware(False)
    state, accum, table = gru.state_t([fw]).width, gru.accum_t([fw]).width, gru.arithmetic.table_t.width
    input_bits = np.max(as_numpy(gru.input_bits()).reshape(-1, fw.kernel.shape[0]), axis=0)
    return {"input": input_bits, "kernel": as_numpy(gru.kq.bits(gru.quantized_kernels(False)[0])),
            "state": np.full(units, state), "recurrent_kernel": as_numpy(gru.rkq.bits(gru.quantized_kernels(False)[1])),
            "r": np.full(units, table), "z": np.full(units, table), "recurrent_candidate": np.full(units, accum),
            "candidate": np.full(units, table), "head_input": np.full(units, state),
            "head_kernel": as_numpy(head.weight_bits())}


def build(beta, cell):
    if cell != "gru":
        raise SystemExit("rnn_digits.py: --cell gru only (hgq refuses a SimpleRNN, which hls4ml never computes)")
    return build_rnn_model(beta)


if __name__ == "__main__":
    common.main(__doc__, "hgq", build, export, widths, BETA)
