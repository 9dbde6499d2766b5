"""Specs of the element-wise merges: ``HAdd`` and the plain ``Add`` it exports to."""

import keras
import numpy as np

from ..cost import estimates
from ..layers import HAdd
from ..proxy.convert import PROXY_DTYPE, quantize_output
from ..quantizer.intervals import bounds, kif_of_interval
from .quantize import OwnTypes
from .registry import LayerSpec, register


class Reduction(LayerSpec):
    """An element-wise reduction of its inputs: a binary tree of ``ceil(log2 n)`` levels."""

    def latency(self, layer, input_kifs):
        return estimates.reduction_latency(len(input_kifs))


@register(keras.layers.Add)
class AddSpec(Reduction):
    """hls4ml's rule: the sum of the inputs' intervals, on the finest of their grids."""

    def output_kif(self, layer, input_kifs):
        if any(kif is None for kif in input_kifs):
            return None
        low, high, f = zip(*(bounds(kif) for kif in input_kifs))
        return kif_of_interval(sum(low), sum(high), np.maximum.reduce(f))


@register(HAdd)
class HAddSpec(OwnTypes, Reduction):
    def convert(self, layer, inputs, ctx):
        """More than two inputs become a chain of two-input adds (hls4ml's merge takes two), named ``<name>``,
        ``<name>_1``, ...; then the output quantizer."""
        layer.quantized_input_layers()  # every input must be quantized (names the layers otherwise)
        tensors = list(inputs)
        y = tensors[0]
        for n, t in enumerate(tensors[1:]):
            y = keras.layers.Add(name=layer.name if n == 0 else f"{layer.name}_{n}", dtype=PROXY_DTYPE)([y, t])
        return quantize_output(layer, y, ctx)
