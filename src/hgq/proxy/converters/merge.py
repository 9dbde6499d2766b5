"""Proxy converter of ``HAdd``: float64 ``keras.layers.Add`` (exact: the inputs are fixed-point), then the output
``FixedPointQuantizer``."""

import keras

from ...layers import HAdd
from ..convert import PROXY_DTYPE, quantize_output
from ..registry import register


@register(HAdd)
def convert_add(layer, inputs, ctx):
    """More than two inputs become a chain of two-input adds (hls4ml's merge takes two), named ``<name>``,
    ``<name>_1``, ..."""
    layer.quantized_input_layers()  # every input must be quantized (names the layers otherwise)
    tensors = list(inputs)
    y = tensors[0]
    for n, t in enumerate(tensors[1:]):
        y = keras.layers.Add(name=layer.name if n == 0 else f"{layer.name}_{n}", dtype=PROXY_DTYPE)([y, t])
    return quantize_output(layer, y, ctx)
