"""Specs of the softmax family: the float ``keras.layers.Softmax`` (which ``quantize_model`` makes an ``HSoftmax``),
``HSoftmax`` and the proxy's ``Softmax`` (hls4ml's table softmax). Registered by being defined."""

import keras
import numpy as np

from ...proxy_layers.quantize import apply_quantizer, quantize_output
from ...quantizer.types import kbi_from_kif
from .. import estimates
from ..costs import LayerCosts
from ..registry import LayerSpec, OwnTypes, register
from .layer import HSoftmax
from .proxy import Softmax


@register(keras.layers.Softmax)
class SoftmaxLayerSpec(LayerSpec):
    """A float model's ``Softmax`` layer, which ``quantize_model`` makes an ``HSoftmax``."""

    def quantized(self, layer, args, kwargs, options):
        return HSoftmax(axis=layer.axis, name=layer.name, **options.h_kwargs(kernel=False))(args[0])


@register(Softmax)
class SoftmaxSpec(LayerSpec):
    """hls4ml's bit-exact Softmax: its output type follows from the two tables' types; it costs one product per
    element (``SoftmaxTables.bops``, as ``HSoftmax`` counts in training) and the memory of its tables. Refused with
    ``io_stream`` (not built bit-exactly there by hgq's tests)."""

    io_stream = False

    def output_kif(self, layer, input_kifs):
        return layer.tables.output_kif()

    def costs(self, layer, input_kifs, parallel_factor, dsp_min_bits):
        t = layer.tables
        elements = int(np.prod(np.shape(input_kifs[0][0]))) if input_kifs[0] is not None else None
        exp_width, inv_width = t.exp_t.width, t.inv_t.width
        bops = None if elements is None else t.bops(elements)
        on_dsp = exp_width >= dsp_min_bits and inv_width >= dsp_min_bits
        sizes = (2**t.norm_t.width, 2**t.inv_inp_t.width)
        return LayerCosts(params=sum(sizes), macs=elements, bops=bops,
                          weight_memory_bits=sizes[0] * exp_width + sizes[1] * inv_width,
                          lut_est=None if bops is None else (0.0 if on_dsp else bops),
                          dsp_est=None if elements is None else float(elements if on_dsp else 0),
                          latency_est_cycles=3 + estimates.reduction_latency(t.n_slice))


@register(HSoftmax)
class HSoftmaxSpec(OwnTypes, SoftmaxSpec):
    def convert(self, layer, x, ctx):
        """``latency``: the input quantized to its fixed type first; the proxy ``Softmax`` with the layer's tables;
        then the output quantizer."""
        tables = layer.tables
        if tables.implementation == "latency":
            t = tables.norm_t
            x = apply_quantizer(x, kbi_from_kif((t.k, t.i, t.f)), t.rounding, t.overflow, f"{layer.name}_in")
        return quantize_output(layer, Softmax(tables, layer.axis, name=layer.name)(x), ctx)
