"""Our digits transformer against HGQ2's: test accuracy, neutral BOPs, bit-exactness through hls4ml, epoch time over
float Keras. Run with this project's Python (the one that imports this ``hgq``).

The model is ``hgq demo --model transformer``'s (``hgq.cli.demo.build_transformer_model``: ``HQuantize``, an
``HEinsumDense`` embedding per token, ``HMultiHeadAttention(num_heads=2, key_dim=8)`` with a residual ``HAdd``, an
``HEinsumDense`` MLP with a residual ``HAdd``, ``PMaxPooling1D(8)``, ``PFlatten``, ``HDense(10)``; 6-bit initial
activation widths, ``beta`` on every H-layer). Data, training recipe, timing, the hls4ml comparison, the neutral BOPs
count and the report are shared with ``transformer_digits_hgq2.py`` through ``transformer_common.py`` (see its
docstring). Export as our users do it: ``hgq.trace_minmax`` on the training set, ``hgq.to_proxy_model``,
``hgq.proxy.convert_to_hls4ml`` (Vitis, ``io_parallel``, Latency); the proxy is what hls4ml is compared with.

    python benchmarks/transformer_digits.py [--backend tensorflow|jax] [--x64] [--epochs N] [--chunks N] [--beta B]
                                            [--seed N] [--output-dir DIR]

On JAX the proxy (float64) needs ``--x64`` (``JAX_ENABLE_X64=1``). The last line of the output, ``RESULT {...}``, is
JSON for ``benchmarks/compare_transformer_hgq2.py``.
"""

import transformer_common as common  # first: it sets KERAS_BACKEND from --backend before Keras is imported

from hgq import to_proxy_model, trace_minmax  # after the backend is chosen
from hgq.cli.demo import build_transformer_model
from hgq.proxy import convert_to_hls4ml

BETA = 1e-6


def export(model, x_calibration, output_dir):
    bops = trace_minmax(model, x_calibration)
    proxy = to_proxy_model(model, aggressive=True)
    return bops, proxy, convert_to_hls4ml(proxy, output_dir)


if __name__ == "__main__":
    common.main(__doc__, "hgq", build_transformer_model, export, BETA)
