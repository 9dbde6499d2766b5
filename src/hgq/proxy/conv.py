"""Proxy converters of HConv1D and HConv2D: a float64 Keras convolution plus the output ``FixedPointQuantizer``."""

import functools

import keras

from ..layers import HConv1D, HConv2D
from .convert import convert_layer, export_kernel_layer


@convert_layer.register(HConv1D)
@convert_layer.register(HConv2D)
def _(layer, x, ctx):
    plain = keras.layers.Conv1D if isinstance(layer, HConv1D) else keras.layers.Conv2D
    geometry = functools.partial(plain, layer.filters, layer.kernel_size, strides=layer.strides, padding=layer.padding)
    # hls4ml reads the firmware parallelism of the convolution from its output quantizer
    overrides = {"layers": {layer.name: {"parallelization_factor": layer.parallel_factor}}}
    return export_kernel_layer(layer, geometry, x, ctx, overrides=overrides)
