"""Proxy converters of the P-layers: the plain Keras layer, in float64.

Flattening, reshaping, concatenating and max pooling move values without changing them, and an average over a
power-of-two pool is exact in float64 (hls4ml's bit-exact flow derives its accumulator).
"""

import keras

from ...layers.passthrough import (
    PAveragePooling1D,
    PAveragePooling2D,
    PConcatenate,
    PFlatten,
    PMaxPooling1D,
    PMaxPooling2D,
    PReshape,
)
from ..convert import PROXY_DTYPE
from ..registry import register

#: The plain Keras layer of each P-layer.
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
    plain = next(PLAIN_LAYERS[cls] for cls in type(layer).__mro__ if cls in PLAIN_LAYERS)
    return plain.from_config(cfg)


@register(*PLAIN_LAYERS)
def convert_plain(layer, x, ctx):
    return plain_layer(layer)(x)
