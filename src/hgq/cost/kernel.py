"""Multiplying layers seen through one protocol (``KernelView``): an H kernel layer (HDense, HConv1D, HConv2D and
their batch-norm fused versions), or a plain Keras ``Dense``/``Conv1D``/``Conv2D`` of a proxy model, whose weights'
types are each value's smallest fixed-point type."""

import keras
import numpy as np
from keras import ops

from .. import graph
from ..layers.geometry import conv_weight_input_bits, dense_weight_input_bits
from ..layers.kernel import QuantizedKernelMixin
from ..proxy.fixed_point_quantizer import FixedPointQuantizer
from ..quantizer import fixed_point as fxp
from .types import as_numpy, total_bits, value_kif

#: The plain Keras layers of proxy models that multiply by a kernel.
PLAIN_KERNEL_LAYERS = (keras.layers.Dense, keras.layers.Conv1D, keras.layers.Conv2D)


class KernelView:
    """What the cost model needs of a multiplying layer, as NumPy (float64).

    Attributes:
        layer: the layer.
        is_conv: whether it is a convolution (it reuses its multipliers over its output positions).
    """

    def __init__(self, layer):
        self.layer = layer
        self.is_conv = isinstance(layer, (keras.layers.Conv1D, keras.layers.Conv2D))

    def linear(self, x, w):
        """The layer's multiply-accumulate of inputs ``x`` by a kernel ``w`` (no bias)."""
        return as_numpy(self._linear(ops.convert_to_tensor(x), ops.convert_to_tensor(w)))

    def weight_input_bits(self, in_bits):
        """For each weight (broadcastable to the kernel's shape), the sum of ``in_bits`` (one value per input
        element, shaped ``(1, *input features)``) over the input elements it multiplies at all output positions."""
        return as_numpy(self._weight_input_bits(ops.convert_to_tensor(np.asarray(in_bits, np.float64))))

    def output_positions(self):
        """Output positions (pixels of a convolution, leading axes of a Dense) of the layer's call."""
        return int(np.prod(graph.output_shapes(self.layer)[0][1:-1]))

    def sizes(self):
        """``(kernel size, bias size)``: the number of weights and of biases (0 without a bias)."""
        bias = self.layer.bias if self.layer.use_bias else None
        return int(np.prod(self.layer.kernel.shape)), 0 if bias is None else int(np.prod(bias.shape))


class HKernelView(KernelView):
    """An H kernel layer: the quantized weights, with their quantizers' types; its own geometry."""

    def _linear(self, x, w):
        return self.layer.linear(x, w)

    def _weight_input_bits(self, in_bits):
        return self.layer.weight_input_bits(in_bits)

    def exact_bops(self):
        """The layer's own BOPs: exactly what ``trace_minmax`` sums (raises while its input widths are unknown)."""
        return self.layer.bops()

    def weight_bits(self):
        """Width of each weight, shaped like the kernel (0: pruned)."""
        return as_numpy(self.layer.weight_bits())

    def weights(self):
        """``(kernel, kernel kif, bias, bias kif)`` (a zero bias of zero width without one)."""
        layer = self.layer
        kernel = layer.quantized_kernel(False)
        w_kif = layer.kq.kif(kernel)
        if layer.use_bias:
            bias = layer.quantized_bias()
            b_kif = fxp.kif_from_range(bias, bias, ops.cast(layer.bias_fractional_bits(), bias.dtype))
        else:
            bias = np.zeros(kernel.shape[-1])
            b_kif = (bias, bias, bias)
        return as_numpy(kernel), tuple(as_numpy(a) for a in w_kif), as_numpy(bias), tuple(as_numpy(a) for a in b_kif)


class PlainKernelView(KernelView):
    """A plain Keras layer of a proxy model: each weight's type is the smallest that holds its value."""

    def _linear(self, x, w):
        return self.layer.convolution_op(x, w) if self.is_conv else ops.matmul(x, w)

    def _weight_input_bits(self, in_bits):
        # the same rules as the H-layers
        layer = self.layer
        if self.is_conv:
            return conv_weight_input_bits(in_bits, layer.kernel_size, layer.strides, layer.padding)
        return dense_weight_input_bits(in_bits)

    def exact_bops(self):
        return None  # counted from the input types that the caller gives

    def weight_bits(self):
        return total_bits(value_kif(as_numpy(self.layer.kernel)))

    def weights(self):
        kernel = as_numpy(self.layer.kernel)
        bias = as_numpy(self.layer.bias) if self.layer.use_bias else np.zeros(kernel.shape[-1])
        return kernel, value_kif(kernel), bias, value_kif(bias)


def kernel_view(layer):
    """The ``KernelView`` of a multiplying layer, or ``None`` for any other layer."""
    if isinstance(layer, QuantizedKernelMixin):
        return HKernelView(layer)
    if isinstance(layer, PLAIN_KERNEL_LAYERS):
        return PlainKernelView(layer)
    return None


def weight_bops(layer, in_bits=None):
    """BOPs of each weight of a multiplying layer, shaped like its kernel: ``weight_input_bits(in_bits)`` times
    the weight's width (zero for a pruned weight). For an H-layer they sum to ``layer.bops()``.

    Args:
        layer: an H kernel layer, or a plain Keras Dense/Conv of a proxy model.
        in_bits: width of each input element, shaped ``(1, *input features)``; default: the H-layer's
            ``input_bits()`` (from its calibrated input).
    """
    view = kernel_view(layer)
    if view is None:
        raise ValueError(f"weight_bops: {type(layer).__name__} {layer.name!r} does not multiply by a kernel")
    in_bits = as_numpy(layer.input_bits()) if in_bits is None else in_bits
    w_bits = view.weight_bits()
    return np.broadcast_to(view.weight_input_bits(in_bits) * w_bits, w_bits.shape)


def parallel_factors(model):
    """``{layer name: parallel factor}`` of every convolution of ``model`` (the output positions it computes at
    once): an H-layer's own ``parallel_factor``; for a plain convolution of a proxy model the
    ``parallelization_factor`` of the hls4ml ``overrides`` that its output ``FixedPointQuantizer`` carries
    (1 without)."""
    overrides = {}
    for layer in graph.layers_of_type(model, FixedPointQuantizer):
        for name, cfg in layer.overrides.get("layers", {}).items():
            overrides[name] = int(cfg.get("parallelization_factor", 1))
    return {layer.name: getattr(layer, "parallel_factor", overrides.get(layer.name, 1))
            for layer in graph.layers_of_type(model, (keras.layers.Conv1D, keras.layers.Conv2D))}
