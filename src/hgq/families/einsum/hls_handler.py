"""hls4ml's Keras-3 handler of the proxy's ``Einsum``: hls4ml's ``Einsum`` layer (the one it builds for HGQ2's
``QEinsum``), batch axis stripped. Registered by being defined; ``hgq.proxy`` hands the registry to hls4ml."""

from ..hls4ml_handlers import hls4ml_handler
from .proxy import Einsum


@hls4ml_handler(Einsum)
def einsum_config(layer, in_tensors, out_tensors):
    """hls4ml's layer config of a proxy ``Einsum``."""
    from hls4ml.converters.keras_v3.einsum_dense import strip_batch_dim

    shapes = [tuple(t.shape[1:]) for t in (*in_tensors, *out_tensors)]
    return {"class_name": "Einsum", "equation": strip_batch_dim(layer.equation, einsum_dense=False),
            "inp0_shape": shapes[0], "inp1_shape": shapes[1], "out_shape": shapes[2] or (1,)}
