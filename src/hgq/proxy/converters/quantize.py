"""Proxy converters of the layers that only quantize: ``HQuantize`` and ``Signature``, each one
``FixedPointQuantizer`` named like the layer."""

from ...layers import HQuantize
from ...layers.passthrough import Signature
from ..convert import apply_quantizer, quantize_output
from ..registry import register


@register(HQuantize)
def convert_quantize(layer, x, ctx):
    return quantize_output(layer, x, ctx, name=layer.name)


@register(Signature)
def convert_signature(layer, x, ctx):
    """The declared input type, truncating and wrapping (it changes no value of a conforming input)."""
    return apply_quantizer(x, layer.kbi(), "TRN", "WRAP", layer.name)
