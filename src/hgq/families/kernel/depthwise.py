"""HDepthwiseConv1D and HDepthwiseConv2D: depthwise convolutions with a per-weight quantized kernel and a quantized
output."""

import keras
from keras import ops

from .conv import HConvBase


class HDepthwiseConvBase(HConvBase):
    """Shared part of ``HDepthwiseConv1D`` and ``HDepthwiseConv2D`` (see ``HDepthwiseConv2D``)."""

    def __init__(self, kernel_size, activation=None, beta=0.0, kq_conf=None, paq_conf=None, parallel_factor=1,
                 **kwargs):
        super(HConvBase, self).__init__(kernel_size=kernel_size, activation=activation, beta=beta, paq_conf=paq_conf,
                                        **kwargs)  # the Keras layer's arguments (no filters)
        self._init_convolution(activation, kq_conf, parallel_factor)

    def linear(self, inputs, kernel):
        return ops.depthwise_conv(inputs, kernel, strides=self.strides, padding=self.padding)


@keras.saving.register_keras_serializable(package="hgq")
class HDepthwiseConv1D(HDepthwiseConvBase, keras.layers.DepthwiseConv1D):
    """1D depthwise convolution with heterogeneous quantization (arguments as ``HDepthwiseConv2D``, on
    ``(batch, steps, channels)``).

    Example:
        >>> x = keras.Input((32, 3))
        >>> y = HDepthwiseConv1D(3, padding="same", activation="relu", beta=1e-5)(HQuantize()(x))
    """


@keras.saving.register_keras_serializable(package="hgq")
class HDepthwiseConv2D(HDepthwiseConvBase, keras.layers.DepthwiseConv2D):
    """2D depthwise convolution (each channel convolved with its own kernel) with heterogeneous quantization.

    The kernel ``(*kernel_size, channels, depth_multiplier)`` gets one trainable fractional bit width per weight
    (``kq_conf``); the output, after the activation, is quantized by ``paq`` (``paq_conf``); the bias is rounded as
    ``HConv2D``'s. While training, ``beta * BOPs`` joins the loss, with BOPs summed over every output and kernel
    position. hls4ml computes ``depth_multiplier=1`` only: a larger one trains, and export refuses it by name.

    Args:
        kernel_size: as in Keras.
        activation: ``None``/``"linear"`` or ``"relu"``.
        beta: BOPs weight in the loss.
        kq_conf: kernel-quantizer options overriding the defaults (see ``get_default_kq_conf``).
        paq_conf: output-quantizer options overriding the defaults (see ``get_default_paq_conf``).
        parallel_factor: output positions computed in parallel in firmware, as ``HConv2D``'s.
        **kwargs: any other ``keras.layers.DepthwiseConv2D`` argument: ``strides``, ``depth_multiplier`` as in
            Keras, ``padding`` ``"valid"`` or ``"same"`` (``dilation_rate`` must be 1, ``data_format``
            ``"channels_last"``).

    Example:
        >>> x = keras.Input((8, 8, 3))
        >>> y = HDepthwiseConv2D(3, padding="same", activation="relu", beta=1e-5)(HQuantize()(x))
    """
