"""Specs of ``HEmbedding`` (exported as an index quantizer, a plain ``Embedding`` with the padded quantized table and
the output quantizer) and of the float ``keras.layers.Embedding`` that ``quantize_model`` turns into one."""

import keras
import numpy as np

from ...proxy_layers.precision import PROXY_DTYPE
from ...proxy_layers.quantize import apply_quantizer, quantize_output
from ...quantizer.types import as_numpy, minimal_kif, total_bits, union_kif
from .. import estimates
from ..copy import copy_weight
from ..costs import LayerCosts, width_stats
from ..registry import LayerSpec, OwnTypes, register
from .layer import HEmbedding, index_bits


def table_costs(w_bits):
    """The costs of a lookup table whose entries have the widths ``w_bits``: no multiplication, its memory."""
    stats = width_stats(w_bits)
    return LayerCosts(params=stats["size"], macs=0, bops=0.0, weight_bits_mean=stats["mean"],
                      weight_bits_max=stats["max"], pruned_fraction=stats["pruned"],
                      weight_memory_bits=int(np.sum(w_bits)), lut_est=0.0, dsp_est=0.0,
                      latency_est_cycles=estimates.OUTPUT_CYCLES)


@register(keras.layers.Embedding)
class EmbeddingSpec(LayerSpec):
    """The plain ``keras.layers.Embedding``: each output element one of its table's values (their union type); its
    costs its table; ``quantize_model`` makes an ``HEmbedding`` of it, its table copied, and gives the model input it
    reads (``reads_indices``) no ``HQuantize``."""

    reads_indices = True

    def output_kif(self, layer, input_kifs):
        union = union_kif(minimal_kif(as_numpy(layer.embeddings)))
        return None if union is None else tuple(np.full((1, 1), float(a)) for a in union)

    def costs(self, layer, input_kifs, parallel_factor, dsp_min_bits):
        return table_costs(total_bits(minimal_kif(as_numpy(layer.embeddings))))

    def quantized(self, layer, args, kwargs, options):
        cfg = layer.get_config()
        if cfg.get("mask_zero"):
            raise ValueError(f"quantize_model: Embedding {layer.name!r} has mask_zero=True; hls4ml computes no mask")
        h = HEmbedding(cfg["input_dim"], cfg["output_dim"], name=layer.name, **options.h_kwargs())
        y = h(args[0])
        copy_weight(h.embeddings, layer.embeddings)
        return y


@register(HEmbedding)
class HEmbeddingSpec(OwnTypes, EmbeddingSpec):
    """The index quantizer (``ufixed<n, n>``, truncating and wrapping: ``floor(x) mod 2^n``, what the H-layer reads),
    a plain ``Embedding`` of ``2^n`` rows (the quantized table, zero rows after it: every wrapped index is in the
    table, which hls4ml does not check) and the output quantizer."""

    def costs(self, layer, input_kifs, parallel_factor, dsp_min_bits):
        return table_costs(as_numpy(layer.kq.bits(layer.kq(layer.embeddings, training=False))))

    def convert(self, layer, x, ctx):
        n = index_bits(layer.input_dim)
        index = apply_quantizer(x, (0, n, n), "TRN", "WRAP", f"{layer.name}_index")
        plain = keras.layers.Embedding(layer.rows(), layer.output_dim, name=layer.name, dtype=PROXY_DTYPE)
        y = plain(index)
        plain.set_weights([as_numpy(layer.quantized_table(False))])
        return quantize_output(layer, y, ctx)
