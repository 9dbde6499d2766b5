"""hls4ml's Keras-3 handler of the proxy's ``FixedPointQuantizer``: hls4ml's Keras-2 handler of the same class name
(``hgq.families.hls4ml_handlers.keras2_handler``). Registered by being defined; ``hgq.proxy`` hands the registry to
hls4ml."""

from ...proxy_layers.fixed_point_quantizer import FixedPointQuantizer
from ..hls4ml_handlers import hls4ml_handler, keras2_handler


@hls4ml_handler(FixedPointQuantizer)
def fixed_point_quantizer_config(layer, in_tensors, out_tensors):
    """hls4ml's layer config of a ``FixedPointQuantizer``."""
    from hls4ml.converters.keras.hgq_proxy_model import fixedpoint_quantizer_handler

    return keras2_handler(fixedpoint_quantizer_handler)(layer, in_tensors, out_tensors)
