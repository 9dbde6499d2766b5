"""HGQ2's digits transformer, for comparison with ``transformer_digits.py``: run with HGQ2's own Python.

HGQ2 (PyPI ``hgq2``) installs a top-level ``hgq`` module too, so it lives in its own virtual environment (see
``docs/benchmarks.md``). Data, training recipe, timing, the hls4ml comparison, the neutral BOPs count and the report
are those of ``transformer_digits.py``, shared through ``transformer_common.py`` (which imports no quantization
library). The model, HGQ2's layers with its defaults (``kbi`` kernel quantizers, ``kif`` input quantizers with only
the batch axis shared, output quantizers off except inside the attention, EBOPs on) and ``beta0`` on every layer:
``QEinsumDense`` embedding per token → ``QMultiHeadAttention(num_heads=2, key_dim=8)`` (its ``QEinsumDense``
projections and ``QSoftmax``) with a residual ``QAdd`` → ``QEinsumDense`` MLP with a residual ``QAdd`` →
``QMaxPooling1D(8)`` → ``Flatten`` → ``QDense(10)``. Export as HGQ2's documentation does it:
``hgq.utils.trace_minmax`` (here on the training set), ``hls4ml.converters.convert_from_keras_model`` on the HGQ2 model
itself (Vitis, ``io_parallel``, Latency by default), compared with the HGQ2 model.

hls4ml 1.3.0 registers its handler of HGQ2's attention as ``hgq.layers.multi_head_attention.QMultiHeadAttention``;
HGQ2 0.2.0 defines the class in ``hgq.layers.attn.mha``, so hls4ml does not find it (it falls back to da4ml's tracer,
which fails). ``export`` registers the same handler under the class's present path; nothing else is changed.

    /tmp/hgq2venv/bin/python benchmarks/transformer_digits_hgq2.py [--backend tensorflow|jax] [--x64] [--epochs N] ...
"""

import transformer_common as common  # first: it sets KERAS_BACKEND from --backend before Keras is imported

import keras  # after the backend is chosen
from hgq.layers import QAdd, QDense, QEinsumDense, QMaxPooling1D, QMultiHeadAttention  # HGQ2's
from hgq.utils import trace_minmax

BETA = 3e-5


def hgq2_transformer(beta):
    tokens = keras.Input((8, 8))
    x = QEinsumDense(**common.EMBEDDING, name="embedding", beta0=beta)(tokens)
    attention = QMultiHeadAttention(**common.HEADS, name="attention", beta0=beta)(x, x)
    x = QAdd(name="residual1", beta0=beta)([x, attention])
    x = QAdd(name="residual2", beta0=beta)([x, QEinsumDense(**common.MLP, name="mlp", beta0=beta)(x)])
    x = keras.layers.Flatten()(QMaxPooling1D(8, name="pool", beta0=beta)(x))
    return keras.Model(tokens, QDense(10, name="head", beta0=beta)(x), name="digits_hgq2_transformer")


def export(model, x_calibration, output_dir):
    import hls4ml
    from hls4ml.converters.keras_v3 import layer_handlers

    layer_handlers.setdefault("hgq.layers.attn.mha.QMultiHeadAttention",
                              layer_handlers["hgq.layers.multi_head_attention.QMultiHeadAttention"])
    ebops = trace_minmax(model, x_calibration)
    hls_model = hls4ml.converters.convert_from_keras_model(model, output_dir=output_dir, backend="Vitis",
                                                           io_type="io_parallel")
    return ebops, model, hls_model


if __name__ == "__main__":
    common.main(__doc__, "hgq2", hgq2_transformer, export, BETA)
