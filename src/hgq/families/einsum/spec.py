"""Specs of the einsum of two activations: ``HEinsum`` and the proxy's ``Einsum`` layer."""

from ...proxy_layers.precision import refuse_wide_accumulator
from ...proxy_layers.quantize import quantize_output
from ...quantizer.intervals import einsum_kif
from ...quantizer.types import union_kif
from ..costs import product_costs
from ..kernel.einsum_geometry import spell_out
from ..registry import LayerSpec, OwnTypes, input_shapes, register
from .layer import HEinsum
from .proxy import Einsum


@register(Einsum)
class EinsumSpec(LayerSpec):
    """hls4ml's ``Einsum`` (io_parallel only, Latency or distributed arithmetic): interval arithmetic of the products,
    summed."""

    io_stream = False
    resource = False

    def equation(self, layer):
        """The layer's equation with any ellipsis spelled out for its inputs' ranks."""
        a, b, out = spell_out(layer.equation, *(len(shape) for shape in input_shapes(layer)))
        return f"{a},{b}->{out}"

    def output_kif(self, layer, input_kifs):
        if any(kif is None for kif in input_kifs):
            return None
        return einsum_kif(self.equation(layer), *input_kifs)

    def exact_bops(self, layer):
        return None  # counted from the input types

    def costs(self, layer, input_kifs, parallel_factor, dsp_min_bits):
        shapes = [shape[1:] for shape in input_shapes(layer)]
        return product_costs(self.equation(layer), input_kifs, shapes, self.exact_bops(layer), dsp_min_bits)

    def hls4ml_refusal(self, layer):
        a, b, out = self.equation(layer).replace("->", ",").split(",")
        sums = [c for c in a + b if c not in out and not (c in a and c in b)]
        return f"its equation {layer.equation!r} sums {', '.join(sums)} in one input only" if sums else None


@register(HEinsum)
class HEinsumSpec(OwnTypes, EinsumSpec):
    def exact_bops(self, layer):
        return layer.bops()

    def convert(self, layer, inputs, ctx):
        """The proxy ``Einsum`` (equation spelled out), then the output quantizer; a layer whose sums float64 cannot
        hold exactly is refused."""
        union = union_kif(einsum_kif(self.equation(layer), *layer.input_types()))
        refuse_wide_accumulator(layer, 0 if union is None else sum(union), ctx)
        return quantize_output(layer, Einsum(self.equation(layer), name=layer.name)(list(inputs)), ctx)
