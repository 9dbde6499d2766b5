"""HConv1D and HConv2D: convolutions with a per-weight quantized kernel and a quantized output."""

import keras

from ... import backend, graph
from ..hlayer import HLayer
from .conv_gradient import convolution_with_matmul_input_gradient
from .geometry import conv_weight_input_bits
from .mixin import QuantizedKernelMixin, check_activation


def _positions(shape):
    """Number of positions (pixels) of a channels-last ``(batch, *spatial, channels)`` shape."""
    n = 1
    for s in shape[1:-1]:
        n *= int(s)
    return n


class HConvBase(QuantizedKernelMixin, HLayer):
    """Shared part of the convolutions ``HConv1D``/``HConv2D`` and ``HDepthwiseConv1D``/``HDepthwiseConv2D`` (see
    ``HConv2D`` for the arguments): the options hls4ml computes, ``parallel_factor``, the BOPs over positions."""

    def __init__(self, filters, kernel_size, activation=None, beta=0.0, kq_conf=None, paq_conf=None,
                 parallel_factor=1, **kwargs):
        super().__init__(filters=filters, kernel_size=kernel_size, activation=activation, beta=beta,
                         paq_conf=paq_conf, **kwargs)
        self._init_convolution(activation, kq_conf, parallel_factor)

    def _init_convolution(self, activation, kq_conf, parallel_factor):
        """Refuse what hls4ml cannot compute (by name), keep ``parallel_factor``, make the kernel quantizer."""
        check_activation(self.name, activation)
        what = type(self).__name__
        if self.padding not in ("valid", "same"):
            raise ValueError(f"{what} {self.name!r}: padding={self.padding!r}; use 'valid' or 'same'")
        if any(int(d) != 1 for d in self.dilation_rate):
            raise ValueError(f"{what} {self.name!r}: dilation_rate={self.dilation_rate} is not supported "
                             "(hls4ml ignores dilation); use 1")
        if getattr(self, "groups", 1) != 1:
            raise ValueError(f"{what} {self.name!r}: groups={self.groups} is not supported; use 1")
        if self.data_format != "channels_last":
            raise ValueError(f"{what} {self.name!r}: data_format={self.data_format!r}; use 'channels_last'")
        if isinstance(parallel_factor, bool) or int(parallel_factor) != parallel_factor or parallel_factor < 1:
            raise ValueError(f"{what} {self.name!r}: parallel_factor must be an integer >= 1, "
                             f"got {parallel_factor!r}")
        self.parallel_factor = int(parallel_factor)
        self._init_kernel_quantizer(kq_conf)

    def build(self, input_shape):
        super().build(input_shape)
        out_shape = self.compute_output_shape(input_shape)
        positions = _positions(out_shape)
        if positions % self.parallel_factor:
            raise ValueError(f"{type(self).__name__} {self.name!r}: parallel_factor={self.parallel_factor} must "
                             f"divide the number of output positions ({positions})")
        self.kq.build(self.kernel.shape)
        self.paq.build((None, *out_shape[1:]))

    def output_positions(self):
        """Number of output positions (pixels) of the built layer."""
        return _positions(graph.output_shapes(self)[0])

    def parallel_bops(self):
        """BOPs of the firmware's ``parallel_factor`` kernel instances, reused over the output positions:
        ``bops() / output_positions() * parallel_factor`` (an estimate of the multiplier logic; ``bops()``,
        the loss and ``trace_minmax`` keep the full sum)."""
        return self.bops() / self.output_positions() * self.parallel_factor

    def linear(self, inputs, kernel):
        if backend.conv_input_gradient_by_matmul(int(inputs.shape[-1])):
            return convolution_with_matmul_input_gradient(self.convolution_op, inputs, kernel, self.strides,
                                                          self.padding)
        return self.convolution_op(inputs, kernel)

    def weight_input_bits(self, in_bits):
        return conv_weight_input_bits(in_bits, self.kernel_size, self.strides, self.padding)

    def get_config(self):
        cfg = super().get_config()
        cfg.update(parallel_factor=self.parallel_factor)
        return cfg


@keras.saving.register_keras_serializable(package="hgq")
class HConv1D(HConvBase, keras.layers.Conv1D):
    """1D convolution with heterogeneous quantization (arguments as ``HConv2D``, on ``(batch, steps, channels)``).

    Example:
        >>> x = keras.Input((32, 3))
        >>> y = HConv1D(8, 3, activation="relu", beta=1e-5, parallel_factor=2)(HQuantize()(x))
    """


@keras.saving.register_keras_serializable(package="hgq")
class HConv2D(HConvBase, keras.layers.Conv2D):
    """2D convolution with heterogeneous quantization.

    The kernel gets one trainable fractional bit width per weight (``kq_conf``); the output, after the
    activation, is quantized by ``paq`` (``paq_conf``). The bias is rounded to one fractional bit more
    than the finest output step of its channel, so that the export is exact. While training,
    ``beta * BOPs`` joins the loss, with BOPs summed over every output and kernel position.

    Args:
        filters: number of output channels.
        kernel_size: as in Keras.
        activation: ``None``/``"linear"`` or ``"relu"``.
        beta: BOPs weight in the loss.
        kq_conf: kernel-quantizer options overriding the defaults (see ``get_default_kq_conf``).
        paq_conf: output-quantizer options overriding the defaults (see ``get_default_paq_conf``).
        parallel_factor: output positions computed in parallel in firmware (hls4ml's
            ``ParallelizationFactor``); must divide the number of output positions. It does not change
            ``bops()``: see ``docs/conv.md``.
        **kwargs: any other ``keras.layers.Conv2D`` argument: ``strides`` as in Keras, ``padding``
            ``"valid"`` or ``"same"`` (``dilation_rate`` and ``groups`` must be 1, ``data_format``
            ``"channels_last"``).

    Example:
        >>> x = keras.Input((8, 8, 1))
        >>> y = HConv2D(4, 3, strides=2, padding="same", activation="relu", beta=1e-5)(HQuantize()(x))
    """
