"""hls4ml's side of the proxy's ``LayerNormalization``: its Keras-3 handler (hls4ml's ``LayerNormalization`` with the
proxy's accumulator, table type, table size and range, for inputs of any rank: the rows are the leading axes) and its
rules in hls4ml's bit-exact pass, which has none: the output's exact type, and the layer's own types kept. Registered
by being defined; ``hgq.proxy`` hands the registries to hls4ml."""

import math

import numpy as np

from ...quantizer.types import as_numpy
from ..hls4ml_handlers import bit_exact_rule, hls4ml_handler, precision_rule
from .proxy import LayerNormalization


@hls4ml_handler(LayerNormalization)
def layer_normalization_config(layer, in_tensors, out_tensors):
    """hls4ml's layer config of a proxy ``LayerNormalization``."""
    a = layer.arithmetic
    n_in = math.prod(in_tensors[0].shape[1:])
    return {"class_name": "LayerNormalization", "n_in": n_in, "n_out": n_in, "seq_len": n_in // a.dim, "axis": 2,
            "gamma_data": as_numpy(layer.gamma), "beta_data": as_numpy(layer.beta),
            "epsilon_power_of_10": a.epsilon_power_of_10, "table_range_power2": layer.range_power2,
            "table_size": a.table_size, "accum_t": layer.accum_t.to_hls4ml(), "table_t": a.table_t.to_hls4ml(),
            "hgq_output_kif": layer.output_kif(tuple(in_tensors[0].shape[1:]))}


@bit_exact_rule("LayerNormalization")
def exact_output(node):
    """The exact type of each output element, as the proxy layer computes it (``hgq_output_kif``)."""
    return tuple(np.asarray(a, dtype=np.int16) for a in node.attributes["hgq_output_kif"])


@precision_rule("LayerNormalization")
def keep_accumulator_and_table(node):
    """hls4ml's types of the layer, but the accumulator and the table as the proxy sets them (hls4ml's default
    rule makes the accumulator the output's type)."""
    from hls4ml.model.optimizer.passes.bit_exact import default_register_precision

    kept = {name: node.attributes[name] for name in ("accum_t", "table_t")}
    default_register_precision(node)
    node.attributes.update(kept)
