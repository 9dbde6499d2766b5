"""Kernels seen through one protocol (``KernelView``): the kernel of an H-layer, with its quantizers' widths, or of a
plain Keras layer of a proxy model, whose weights' widths are each value's smallest type. A layer's spec gives its
kernels (``LayerSpec.kernels``); the cost model, hls4ml's settings and pruning read them (``hgq.cost.kernel_views``).
Everything here is NumPy (float64)."""

import numpy as np
from keras import ops

from ..quantizer import fixed_point as fxp
from ..quantizer.types import as_numpy, minimal_kif, total_bits


class KernelView:
    """What the cost model, hls4ml's settings and pruning need of one kernel.

    Args:
        layer: the layer that owns the kernel (for an attention layer, the projection that does).
        geometry: how the kernel meets its input (``hgq.families.kernel.geometry``): ``weight_input_bits``,
            ``columns``, ``kernel_matrix``, ``output_features``.
        reuses_multipliers: whether the firmware reuses the multipliers over the output positions (a convolution,
            by its ``parallel_factor``) instead of one multiplier per product.
    """

    def __init__(self, layer, geometry, reuses_multipliers=False):
        self.layer, self.geometry, self.reuses_multipliers = layer, geometry, reuses_multipliers

    @property
    def variable(self):
        """The float kernel variable (what pruning masks)."""
        return self.layer.kernel

    @property
    def name(self):
        return self.layer.name

    def weight_input_bits(self, in_bits):
        """For each weight (broadcastable to the kernel's shape), the sum of ``in_bits`` (one value per input element,
        shaped ``(1, *input features)``) over the input elements it multiplies at all output positions."""
        return as_numpy(self.geometry.weight_input_bits(ops.convert_to_tensor(np.asarray(in_bits, np.float64))))

    def multiplications(self):
        """``(n_in, n_out)``: the terms summed into one output and the outputs of one kernel multiplication (hls4ml's
        matrix-vector product, whose reuse factor must fit it)."""
        _, terms, outputs = self.geometry.kernel_matrix(np.zeros(self.variable.shape)).shape
        return int(terms), int(outputs)

    def output_positions(self):
        """How many times the kernel is applied: pixels of a convolution, leading axes of a Dense."""
        return int(self.geometry.columns(np.zeros(self.geometry.input_shape)).shape[1])

    def macs(self):
        """Multiplications of one inference: each weight at every output position."""
        return self.output_positions() * int(np.prod(self.variable.shape))

    def sizes(self):
        """``(kernel size, bias size)``: the number of weights and of biases (0 without a bias)."""
        bias = self.layer.bias
        return int(np.prod(self.variable.shape)), 0 if bias is None else int(np.prod(bias.shape))

    def fan_in(self, w_bits):
        """The largest number of non-zero products summed into one output (``w_bits``: each weight's width)."""
        nonzero = self.geometry.kernel_matrix(np.asarray(w_bits) > 0)
        return int(np.max(np.sum(nonzero, axis=1), initial=0))


class HKernelView(KernelView):
    """The kernel of an H-layer: the quantized weights, with their quantizers' types."""

    def exact_bops(self):
        """The layer's own BOPs: exactly what ``trace_minmax`` sums (raises while its input widths are unknown)."""
        return self.layer.bops()

    def weight_bits(self):
        """Width of each weight, shaped like the kernel (0: pruned)."""
        return as_numpy(self.layer.weight_bits())

    def weights(self):
        """``(kernel, bias, bias kif)``: the values the proxy model holds (``exported_kernel_and_bias``; a zero bias
        without one) and the type of the quantized bias (its range at ``bias_fractional_bits``), which the weight
        memory counts."""
        layer = self.layer
        kernel, bias, _ = layer.exported_kernel_and_bias()
        if bias is None:
            zero = np.zeros(1)
            return kernel, zero, (zero, zero, zero)
        quantized = layer.quantized_bias()
        b_kif = fxp.kif_from_range(quantized, quantized, ops.cast(layer.bias_fractional_bits(), quantized.dtype))
        return kernel, bias, tuple(as_numpy(a) for a in b_kif)


class PlainKernelView(KernelView):
    """The kernel of a plain Keras layer of a proxy model: each weight's type is the smallest that holds its value."""

    def exact_bops(self):
        return None  # counted from the input types that the caller gives

    def weight_bits(self):
        return total_bits(minimal_kif(as_numpy(self.variable)))

    def weights(self):
        kernel = as_numpy(self.variable)
        bias = np.zeros(1) if self.layer.bias is None else as_numpy(self.layer.bias)
        return kernel, bias, minimal_kif(bias)

