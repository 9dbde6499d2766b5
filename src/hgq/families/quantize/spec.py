"""Specs of the layers that only quantize or declare types: model inputs, ``HQuantize``, ``Signature`` and the proxy's
``FixedPointQuantizer``."""

import keras

from ...proxy_layers.fixed_point_quantizer import FixedPointQuantizer
from ...proxy_layers.quantize import apply_quantizer, quantize_output
from ..registry import LayerSpec, OwnTypes, register
from .layer import HQuantize
from .signature import Signature


@register(keras.layers.InputLayer)
class InputSpec(LayerSpec):
    """A model input: a float, of unknown type."""


@register(HQuantize)
class HQuantizeSpec(OwnTypes):
    def is_channelwise(self, layer):
        return True

    def convert(self, layer, x, ctx):
        """One ``FixedPointQuantizer`` named like the layer."""
        return quantize_output(layer, x, ctx, name=layer.name)


@register(Signature)
class SignatureSpec(OwnTypes):
    def convert(self, layer, x, ctx):
        """The declared input type, truncating and wrapping (it changes no value of a conforming input)."""
        return apply_quantizer(x, layer.kbi(), "TRN", "WRAP", layer.name)


@register(FixedPointQuantizer)
class FixedPointQuantizerSpec(LayerSpec):
    """The proxy's quantizer: its stored types (``hgq.proxy.saturation`` narrows them first, as hls4ml does)."""

    def output_kif(self, layer, input_kifs):
        return layer.kif()
