"""Proxy converters of the kernel layers (``HDense``, ``HConv1D``, ``HConv2D`` and their subclasses): a float64
Keras layer of the same geometry holding the exported kernel and bias, then the output ``FixedPointQuantizer``."""

import functools

import keras
import numpy as np

from ...layers import HConv1D, HConv2D, HDense
from ...layers.kernel import check_activation
from ..convert import PROXY_DTYPE, as_numpy, exported_kernel_bias, quantize_output
from ..registry import register

EXACT_ACCUMULATOR_BITS = 53  # float64's significand: the proxy's sums are exact up to this width


def check_accumulator(layer, ctx):
    """Refuse a layer whose sums ``Σ x·w + b`` need more than ``EXACT_ACCUMULATOR_BITS`` (the proxy would round
    them; hls4ml would not)."""
    from ...cost import layer_costs  # the cost model reads proxy types: imported here, not at module level

    shape = layer.input_feature_shapes()[0]
    in_kif = tuple(np.broadcast_to(as_numpy(a), shape) for a in layer.quantized_input_layers()[0].output_kif())
    bits = layer_costs(layer, [in_kif]).accumulator_bits
    if bits is not None and bits > EXACT_ACCUMULATOR_BITS:
        raise ValueError(f"{ctx.caller}: layer {layer.name!r} needs a {bits}-bit accumulator, but the proxy computes "
                         f"in float64, exact up to {EXACT_ACCUMULATOR_BITS} bits; train with a larger beta or "
                         "calibrate on data of a smaller range to narrow its input or weight types")


def export_kernel_layer(layer, plain_layer, x, ctx, overrides=None):
    """The proxy of a kernel layer: ``plain_layer(activation=, use_bias=, name=, dtype=)`` (a Keras layer of the
    same geometry) holding the exported kernel and bias, then the output quantizer. A layer whose accumulator is
    wider than float64 holds exactly is refused."""
    check_accumulator(layer, ctx)
    kernel, bias, rounding = exported_kernel_bias(layer)
    activation = check_activation(layer.name, layer.activation)
    plain = plain_layer(activation=None if activation == "linear" else activation, use_bias=bias is not None,
                        name=layer.name, dtype=PROXY_DTYPE)
    y = plain(x)
    plain.set_weights([kernel] if bias is None else [kernel, bias])
    return quantize_output(layer, y, ctx, rounding, overrides=overrides)


@register(HDense)
def convert_dense(layer, x, ctx):
    return export_kernel_layer(layer, functools.partial(keras.layers.Dense, layer.units), x, ctx)


@register(HConv1D, HConv2D)
def convert_conv(layer, x, ctx):
    plain = keras.layers.Conv1D if isinstance(layer, HConv1D) else keras.layers.Conv2D
    geometry = functools.partial(plain, layer.filters, layer.kernel_size, strides=layer.strides, padding=layer.padding)
    # hls4ml reads the firmware parallelism of the convolution from its output quantizer
    overrides = {"layers": {layer.name: {"parallelization_factor": layer.parallel_factor}}}
    return export_kernel_layer(layer, geometry, x, ctx, overrides=overrides)
