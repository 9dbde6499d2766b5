"""hls4ml's Keras-3 handler of the proxy's ``UnaryLUT``: hls4ml's Keras-2 handler of the same class name
(``hgq.families.hls4ml_handlers.keras2_handler``). Registered by being defined; ``hgq.proxy`` hands the registry to
hls4ml."""

from ..hls4ml_handlers import hls4ml_handler, keras2_handler
from .proxy import UnaryLUT


@hls4ml_handler(UnaryLUT)
def unary_lut_config(layer, in_tensors, out_tensors):
    """hls4ml's layer config of a ``UnaryLUT``."""
    from hls4ml.converters.keras.hgq_proxy_model import unary_lut_keras_handler

    return keras2_handler(unary_lut_keras_handler)(layer, in_tensors, out_tensors)
