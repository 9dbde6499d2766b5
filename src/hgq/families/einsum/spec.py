"""Specs of the einsum of two activations: ``HEinsum``, the proxy's ``Einsum`` layer, and the float ``Dot``, which
``quantize_model`` makes an ``HEinsum``."""

import string

import keras

from ... import graph
from ...proxy_layers.precision import refuse_wide_accumulator
from ...proxy_layers.quantize import quantize_output
from ...quantizer.intervals import einsum_kif
from ...quantizer.types import union_kif
from ..costs import product_costs
from ..kernel.einsum_geometry import spell_out
from ..passthrough import PReshape
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


def dot_axes(layer, rank_a, rank_b):
    """The axis ``Dot`` sums over in each input, as non-negative indices (batch axis included)."""
    axes = layer.axes if isinstance(layer.axes, (list, tuple)) else (layer.axes, layer.axes)
    return int(axes[0]) % rank_a, int(axes[1]) % rank_b


def dot_equation(layer, rank_a, rank_b):
    """The einsum equation of Keras' ``Dot(axes)`` on inputs of these ranks (batch axis included), and whether Keras
    then appends an axis of size 1 (when only the batch axis is left): the first input's other axes, then the
    second's."""
    axis_a, axis_b = dot_axes(layer, rank_a, rank_b)
    letters = iter(string.ascii_letters[1:])
    a = ["a"] + [next(letters) for _ in range(rank_a - 1)]
    b = ["a"] + [next(letters) for _ in range(rank_b - 1)]
    b[axis_b] = a[axis_a]
    out = ["a"] + [c for n, c in enumerate(a) if n not in (0, axis_a)]
    out += [c for n, c in enumerate(b) if n not in (0, axis_b)]
    return f"{''.join(a)},{''.join(b)}->{''.join(out)}", len(out) == 1


@register(keras.layers.Dot)
class DotSpec(LayerSpec):
    """Keras' ``Dot``: an einsum of its two inputs; ``quantize_model`` makes it an ``HEinsum``. Where only the batch
    axis is left (Keras then appends an axis of size 1), each input first gets a leading axis of size 1 (a
    ``PReshape``) that the einsum keeps: hls4ml cannot type an einsum of one output per sample."""

    def quantized(self, layer, args, kwargs, options):
        ranks = [len(shape) for shape in graph.input_shapes(layer)]
        if layer.normalize:
            raise ValueError(f"quantize_model: Dot {layer.name!r} has normalize=True (it divides by L2 norms, which "
                             "no fixed-point type holds exactly); normalize the inputs otherwise, or use normalize=False")
        if 0 in dot_axes(layer, *ranks):
            raise ValueError(f"quantize_model: Dot {layer.name!r} has axes={layer.axes!r}, which sums over the batch "
                             "axis")
        equation, expand = dot_equation(layer, *ranks)
        inputs = list(args[0])
        if expand:
            equation = ",".join(f"az{part[1:]}" for part in equation.replace("->", ",").split(","))
            equation = "->".join(equation.rsplit(",", 1))
            inputs = [PReshape((1, *t.shape[1:]), name=f"{layer.name}_in{n}")(t) for n, t in enumerate(inputs)]
        return HEinsum(equation, name=layer.name, **options.h_kwargs(kernel=False))(inputs)
