"""Proxy converters of the P-layers and of ``Signature``.

The P-layers become the plain Keras layer (float64): flattening, reshaping, concatenating and max pooling
move values without changing them, and an average over a power-of-two pool is exact in float64 (hls4ml's
bit-exact flow derives its accumulator). ``Signature`` becomes a ``FixedPointQuantizer`` (TRN, WRAP).
"""

import keras
import numpy as np

from ..layers.passthrough import (PAveragePooling1D, PAveragePooling2D, PConcatenate, PFlatten, PMaxPooling1D,
                                  PMaxPooling2D, PReshape, Signature)
from .convert import PROXY_DTYPE, convert_layer
from .fixed_point_quantizer import FixedPointQuantizer

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
    k, b, integers = layer.kbi()
    arrays = [np.asarray(a, dtype=np.int32) for a in (k, b, integers)]
    homogeneous = all(np.unique(a).size == 1 for a in arrays)
    if homogeneous:
        arrays = [a.reshape(-1)[:1] for a in arrays]
    q = FixedPointQuantizer(kbi_shape=arrays[0].shape, RND="TRN", SAT="WRAP", fusible=homogeneous,
                            name=layer.name, dtype=PROXY_DTYPE)
    y = q(x)
    q.set_kbi(*arrays)
    return y
