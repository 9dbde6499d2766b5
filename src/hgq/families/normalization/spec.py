"""Specs of batch normalization: the plain ``keras.layers.BatchNormalization`` (of float models, and of proxies, where
hls4ml converts it to ``x * scale + bias``) and ``HBatchNormalization``, which exports to the plain one.

A batch normalization multiplies each input element by its channel's scale: for the cost model (``kernel_costs``) the
scale is a kernel of one weight per channel (``normalization_geometry``), seen through ``ScaleView``. It is not among
the spec's ``kernels``: pruning and hls4ml's reuse factors, which read those, treat weight matrices.
"""

import keras
import numpy as np
from keras import ops

from ... import graph
from ...proxy_layers.precision import PROXY_DTYPE, refuse_wide_accumulator
from ...proxy_layers.quantize import quantize_output
from ...quantizer.intervals import linear_kif
from ...quantizer.types import as_numpy, minimal_kif
from ..costs import LayerCosts, accumulator_bits, kernel_costs
from ..copy import copy_batchnorm
from ..kernel.spec import with_batch_axis, without_batch_axis
from ..kernel_view import HKernelView, PlainKernelView
from ..registry import LayerSpec, OwnTypes, register
from .layer import HBatchNormalization, normalization_geometry
from .proxy import BatchNormalization

#: The proxy's ``BatchNormalization`` holds ``moving_variance = PROXY_VARIANCE`` and ``epsilon = PROXY_EPSILON``:
#: powers of two whose float64 sum is exactly 1 (see ``HBatchNormalizationSpec.convert``).
PROXY_EPSILON = 0.5
PROXY_VARIANCE = 0.5

#: hls4ml's BatchNormalization finds the channel of inputs of at most this many feature axes.
HLS4ML_MAX_FEATURE_AXES = 3


def hls4ml_scale_and_bias(layer):
    """hls4ml's ``scale = gamma / sqrt(var + epsilon)`` and ``bias = beta - scale * mean`` of a plain
    ``BatchNormalization``, computed as hls4ml computes them (NumPy, in the weights' own dtype), as float64."""
    def weight(variable, default):
        return default if variable is None else ops.convert_to_numpy(variable)

    gamma = weight(layer.gamma if layer.scale else None, 1)
    beta = weight(layer.beta if layer.center else None, 0)
    scale = gamma / np.sqrt(ops.convert_to_numpy(layer.moving_variance) + layer.epsilon)
    bias = beta - scale * ops.convert_to_numpy(layer.moving_mean)
    return np.asarray(scale, np.float64), np.asarray(bias, np.float64)


class ScaleView:
    """Mixin of a ``KernelView``: the per-channel scale of a batch normalization as a kernel of one weight per
    channel; hls4ml stores the scale and the bias, one of each per channel."""

    @property
    def variable(self):
        return self.weights()[0]

    def sizes(self):
        n = int(np.size(self.variable))
        return n, n


class HScaleView(ScaleView, HKernelView):
    """The quantized scale and offset of an ``HBatchNormalization`` (``exported_kernel_and_bias``)."""


class PlainScaleView(ScaleView, PlainKernelView):
    """hls4ml's scale and bias of a plain ``BatchNormalization``, each value of its smallest type."""

    def weights(self):
        scale, bias = hls4ml_scale_and_bias(self.layer)
        return scale, bias, minimal_kif(bias)


@register(keras.layers.BatchNormalization)
class BatchNormalizationSpec(LayerSpec):
    """A plain batch normalization (channels last): ``x * scale + bias`` per element, hls4ml's type rule (interval
    arithmetic on its scale and bias). In a float model: parameters and multiplications only."""

    view = PlainScaleView

    def channels_last(self, layer):
        """Whether the layer normalizes the last axis (else its types and costs are unknown here)."""
        return layer.axis in (-1, len(graph.input_shapes(layer)[0]) - 1)

    def hls4ml_refusal(self, layer):
        features = len(graph.input_shapes(layer)[0]) - 1
        if not self.channels_last(layer):
            return f"it normalizes axis {layer.axis}, and hls4ml's BatchNormalization only the last axis"
        if features > HLS4ML_MAX_FEATURE_AXES:
            return (f"its input has {features} feature axes, and hls4ml's BatchNormalization finds the channel of "
                    f"inputs of at most {HLS4ML_MAX_FEATURE_AXES}")
        return None

    def scale_view(self, layer):
        shape = graph.input_shapes(layer)[0][1:]
        return self.view(layer, normalization_geometry(shape, shape[-1]))

    def output_kif(self, layer, input_kifs):
        if input_kifs[0] is None or not self.channels_last(layer):
            return None
        view = self.scale_view(layer)
        scale, bias, _ = view.weights()
        return with_batch_axis(linear_kif(view.geometry, without_batch_axis(input_kifs[0]), scale, bias))

    def costs(self, layer, input_kifs, parallel_factor, dsp_min_bits):
        if not self.channels_last(layer):
            return LayerCosts(params=layer.count_params())
        return kernel_costs([self.scale_view(layer)], input_kifs[0] if input_kifs else None, parallel_factor,
                            dsp_min_bits)

    def is_channelwise(self, layer):
        return True

    def quantized(self, layer, args, kwargs, options):
        """A standalone ``HBatchNormalization`` (one right after a kernel layer is fused into it instead)."""
        cfg = {key: value for key, value in layer.get_config().items() if key != "synchronized"}
        h = HBatchNormalization.from_config({**cfg, **options.h_kwargs()})
        y = h(args[0])
        copy_batchnorm(h, layer)
        return y


@register(HBatchNormalization)
class HBatchNormalizationSpec(OwnTypes, BatchNormalizationSpec):
    view = HScaleView

    def convert(self, layer, x, ctx):
        """A float64 ``BatchNormalization`` (``hgq.proxy.BatchNormalization``: Keras' layer computing hls4ml's
        formula in float64 on every backend) that computes exactly ``x * s + o``, then the output quantizer.

        Its weights are ``gamma = s``, ``beta = o`` (the quantized scale and offset, the offset carrying the half
        step of rounding where each channel has one output step, as kernel layers do), ``moving_mean = 0``,
        ``moving_variance = 0.5`` and ``epsilon = 0.5``. Proof that hls4ml and the proxy then compute ``x * s + o``:

        - ``0.5 + 0.5 == 1`` exactly in float64 (powers of two), and ``sqrt(1) == 1``, ``s / 1 == s``, ``0 * s == 0``,
          ``o - 0 == o`` (IEEE square root, division, product and difference are correctly rounded, and these results
          are representable). So hls4ml's ``scale = gamma / sqrt(var + eps)`` is ``s`` and its
          ``bias = beta - scale * mean`` is ``o``, and so are the proxy layer's (Keras' own formula on TensorFlow,
          ``rsqrt(var + eps) * gamma`` and ``beta - mean * inv``, gives the same: ``rsqrt(1) == 1``).
        - ``x * s + o`` is then one product and one sum, each rounded once in float64. Both are exact when the sum's
          type (``accumulator_bits``, refused above 53 bits) fits the significand: the product lies on the sum's
          grid, and as ``x``'s range contains 0 the product's magnitude is at most the width of the sum's range.
        """
        view = self.scale_view(layer)
        in_kif = tuple(np.broadcast_to(as_numpy(a), layer.input_feature_shapes()[0])
                       for a in layer.quantized_input_layers()[0].output_kif())
        refuse_wide_accumulator(layer, accumulator_bits(view, in_kif), ctx)
        scale, offset, rounding = layer.exported_kernel_and_bias()
        return quantize_output(layer, exact_batchnorm(x, scale, offset, layer.name), ctx, rounding)


def exact_batchnorm(x, scale, offset, name):
    """``x * scale + offset`` on the proxy tensor ``x`` (per channel, the last axis): a float64
    ``BatchNormalization`` named ``name`` holding ``gamma = scale``, ``beta = offset``, ``moving_mean = 0``,
    ``moving_variance = 0.5`` and ``epsilon = 0.5``, which hls4ml and the proxy compute exactly (see
    ``HBatchNormalizationSpec.convert``)."""
    plain = BatchNormalization(epsilon=PROXY_EPSILON, name=name, dtype=PROXY_DTYPE)
    y = plain(x)
    plain.set_weights([scale, offset, np.zeros_like(scale), np.full_like(scale, PROXY_VARIANCE)])
    return y
