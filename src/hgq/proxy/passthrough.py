"""Proxy converters of the P-layers and of ``Signature``.

The P-layers become the plain Keras layer (float64): flattening, reshaping, concatenating and max pooling
move values without changing them, and an average over a power-of-two pool is exact in float64 (hls4ml's
bit-exact flow derives its accumulator). ``Signature`` becomes a ``FixedPointQuantizer`` (TRN, WRAP).
"""

import keras

from ..layers.passthrough import (PAveragePooling1D, PAveragePooling2D, PConcatenate, PFlatten, PMaxPooling1D,
                                  PMaxPooling2D, PReshape, Signature)
from .convert import PROXY_DTYPE, apply_quantizer, convert_layer

PLAIN_LAYERS = {
    PFlatten: keras.layers.Flatten,
    PReshape: keras.layers.Reshape,
    PConcatenate: keras.layers.Concatenate,
    PMaxPooling1D: keras.layers.MaxPooling1D,
    PMaxPooling2D: keras.layers.MaxPooling2D,
    PAveragePooling1D: keras.layers.AveragePooling1D,
    PAveragePooling2D: keras.layers.AveragePooling2D,
}


def plain_layer(layer):
    """The plain Keras layer equal to the P-layer ``layer``, computing in float64."""
    cfg = layer.get_config()
    cfg["dtype"] = PROXY_DTYPE
    return PLAIN_LAYERS[type(layer)].from_config(cfg)


def _convert_plain(layer, x, ctx):
    return plain_layer(layer)(x)


for _cls in PLAIN_LAYERS:
    convert_layer.register(_cls)(_convert_plain)


@convert_layer.register
def _(layer: Signature, x, ctx):
    return apply_quantizer(x, layer.kbi(), "TRN", "WRAP", layer.name)
