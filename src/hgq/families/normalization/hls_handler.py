"""hls4ml's Keras-3 handler of the proxy's ``BatchNormalization``: hls4ml's Keras-2 handler of batch normalization
(``hgq.families.hls4ml_handlers.keras2_handler``). Registered by being defined; ``hgq.proxy`` hands the registry to
hls4ml."""

from ..hls4ml_handlers import hls4ml_handler, keras2_handler
from .proxy import BatchNormalization


@hls4ml_handler(BatchNormalization)
def batch_normalization_config(layer, in_tensors, out_tensors):
    """hls4ml's layer config of a proxy ``BatchNormalization``."""
    from hls4ml.converters.keras.core import parse_batchnorm_layer

    return keras2_handler(parse_batchnorm_layer)(layer, in_tensors, out_tensors)
