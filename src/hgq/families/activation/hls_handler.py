"""hls4ml's Keras-3 handler of the proxy's ``UnaryLUT``: hls4ml's Keras-2 handler of the same class name
(``hgq.families.hls4ml_handlers.keras2_handler``); and the type rule of hls4ml's ``PReLU`` in its bit-exact pass,
whose rule for activations does not know it (and fails on it). Registered by being defined; ``hgq.proxy`` hands the
registries to hls4ml."""

import numpy as np

from ..hls4ml_handlers import bit_exact_rule, hls4ml_handler, keras2_handler
from .prelu import prelu_kif
from .proxy import UnaryLUT


@hls4ml_handler(UnaryLUT)
def unary_lut_config(layer, in_tensors, out_tensors):
    """hls4ml's layer config of a ``UnaryLUT``."""
    from hls4ml.converters.keras.hgq_proxy_model import unary_lut_keras_handler

    return keras2_handler(unary_lut_keras_handler)(layer, in_tensors, out_tensors)


@bit_exact_rule("PReLU")
def prelu_types(node):
    """Each output element of hls4ml's PReLU, ``x > 0 ? x : alpha * x``: ``prelu_kif`` of its input and slope."""
    from hls4ml.model.optimizer.passes.bit_exact import get_input_kifs, get_output_shape

    kif = get_input_kifs(node)[0]
    alpha = np.reshape(node.attributes["param"].data, get_output_shape(node))
    return tuple(np.asarray(a).astype(np.int16) for a in prelu_kif(kif, alpha))
