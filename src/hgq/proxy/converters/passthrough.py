"""Proxy converters of the P-layers: the plain Keras layer, in float64.

Flattening, reshaping, concatenating and max pooling move values without changing them, and an average over a
power-of-two pool is exact in float64 (hls4ml's bit-exact flow derives its accumulator).
"""

from ...layers.passthrough import PLAIN_LAYERS
from ..convert import PROXY_DTYPE
from ..registry import register


def plain_layer(layer):
    """The plain Keras layer equal to the P-layer ``layer``, computing in float64."""
    cfg = layer.get_config()
    cfg["dtype"] = PROXY_DTYPE
    plain = next(PLAIN_LAYERS[cls] for cls in type(layer).__mro__ if cls in PLAIN_LAYERS)
    return plain.from_config(cfg)


@register(*PLAIN_LAYERS)
def convert_plain(layer, x, ctx):
    return plain_layer(layer)(x)
