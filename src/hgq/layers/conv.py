"""HConv1D and HConv2D: convolutions with a per-weight quantized kernel and a quantized output."""

import keras
import numpy as np
from keras import ops

from ..quantizer import config as qconfig
from .base import HLayer
from .geometry import output_size_and_padding
from .kernel import QuantizedKernelMixin, check_activation


def _axis_taps(in_size, kernel, stride, padding):
    """0/1 matrix ``(in_size, kernel)`` along one spatial axis: 1 where kernel tap ``t`` of some output
    position reads input ``y = p * stride + t - pad`` (a padded zero is read by no entry)."""
    out, pad = output_size_and_padding(in_size, kernel, stride, padding)
    matrix = np.zeros((in_size, kernel))
    for p in range(out):
        for t in range(kernel):
            if 0 <= p * stride + t - pad < in_size:
                matrix[p * stride + t - pad, t] = 1.0
    return matrix


def _tap_matrix(spatial_shape, kernel_size, strides, padding):
    """0/1 matrix ``(input positions, kernel taps)``, both flattened in row-major order: the Kronecker
    product of the per-axis matrices of ``_axis_taps``."""
    matrix = np.ones((1, 1))
    for n, k, s in zip(spatial_shape, kernel_size, strides):
        matrix = np.kron(matrix, _axis_taps(int(n), int(k), int(s), padding))
    return matrix


def _positions(shape):
    """Number of positions (pixels) of a channels-last ``(batch, *spatial, channels)`` shape."""
    n = 1
    for s in shape[1:-1]:
        n *= int(s)
    return n


class HConvBase(QuantizedKernelMixin, HLayer):
    """Shared part of ``HConv1D`` and ``HConv2D`` (see ``HConv2D`` for the arguments)."""

    def __init__(self, filters, kernel_size, activation=None, beta=0.0, kq_conf=None, paq_conf=None,
                 parallel_factor=1, **kwargs):
        super().__init__(filters=filters, kernel_size=kernel_size, activation=activation, beta=beta,
                         paq_conf=paq_conf, **kwargs)
        check_activation(self.name, activation)
        what = type(self).__name__
        if self.padding not in ("valid", "same"):
            raise ValueError(f"{what} {self.name!r}: padding={self.padding!r}; use 'valid' or 'same'")
        if any(int(d) != 1 for d in self.dilation_rate):
            raise ValueError(f"{what} {self.name!r}: dilation_rate={self.dilation_rate} is not supported "
                             "(hls4ml ignores dilation); use 1")
        if self.groups != 1:
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
        return _positions(self.output.shape)

    def parallel_bops(self):
        """BOPs of the firmware's ``parallel_factor`` kernel instances, reused over the output positions:
        ``bops() / output_positions() * parallel_factor`` (an estimate of the multiplier logic; ``bops()``,
        the loss and ``trace_minmax`` keep the full sum)."""
        return self.bops() / self.output_positions() * self.parallel_factor

    def _linear(self, inputs, kernel):
        return self.convolution_op(inputs, kernel)

    def _bops(self, in_bits, w_bits):
        # sum over positions p, taps t, channels c, filters o of b_in[p*s + t - pad, c] * b_w[t, c, o]
        #   = sum over t, c of reads[t, c] * sum_o b_w[t, c, o], where reads[t, c] sums the input widths that
        # tap t reads over all positions: one small matmul by a 0/1 matrix instead of a convolution of the widths
        taps = _tap_matrix(in_bits.shape[1:-1], self.kernel_size, self.strides, self.padding)
        channels = in_bits.shape[-1]
        reads = ops.matmul(ops.convert_to_tensor(taps.T, dtype=in_bits.dtype), ops.reshape(in_bits, (-1, channels)))
        return ops.sum(reads * ops.reshape(ops.sum(w_bits, axis=-1), (-1, channels)))

    def get_config(self):
        cfg = super().get_config()
        cfg.update(kq_conf=qconfig.serialize(self.kq_conf), parallel_factor=self.parallel_factor)
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
        kernel_size, strides: as in Keras.
        padding: ``"valid"`` or ``"same"``.
        activation: ``None``/``"linear"`` or ``"relu"``.
        beta: BOPs weight in the loss.
        kq_conf: kernel-quantizer options overriding the defaults (see ``get_default_kq_conf``).
        paq_conf: output-quantizer options overriding the defaults (see ``get_default_paq_conf``).
        parallel_factor: output positions computed in parallel in firmware (hls4ml's
            ``ParallelizationFactor``); must divide the number of output positions. It does not change
            ``bops()``: see ``docs/conv.md``.
        **kwargs: any other ``keras.layers.Conv2D`` argument (``dilation_rate`` and ``groups`` must be 1,
            ``data_format`` ``"channels_last"``).

    Example:
        >>> x = keras.Input((8, 8, 1))
        >>> y = HConv2D(4, 3, strides=2, padding="same", activation="relu", beta=1e-5)(HQuantize()(x))
    """
