"""HDense: a Dense layer with a per-weight quantized kernel and a quantized output."""

import keras
from keras import ops

from ..hlayer import HLayer
from .geometry import dense_weight_input_bits
from .mixin import QuantizedKernelMixin, check_activation


@keras.saving.register_keras_serializable(package="hgq")
class HDense(QuantizedKernelMixin, HLayer, keras.layers.Dense):
    """Dense layer with heterogeneous quantization.

    The kernel gets one trainable fractional bit width per weight (``kq_conf``); the output, after the
    activation, is quantized by ``paq`` (``paq_conf``). The bias is rounded to one fractional bit more
    than the output so that the export is exact. While training, ``beta * BOPs`` joins the loss.

    Args:
        units: output size.
        activation: ``None``/``"linear"`` or ``"relu"``.
        beta: BOPs weight in the loss.
        kq_conf: kernel-quantizer options overriding the defaults (see ``get_default_kq_conf``).
        paq_conf: output-quantizer options overriding the defaults (see ``get_default_paq_conf``).
        **kwargs: any other ``keras.layers.Dense`` argument.

    Example:
        >>> x = keras.Input((16,))
        >>> y = HDense(5, activation="relu", beta=1e-5)(HQuantize()(x))
    """

    def __init__(self, units, activation=None, beta=0.0, kq_conf=None, paq_conf=None, **kwargs):
        check_activation(kwargs.get("name"), activation)
        super().__init__(units=units, activation=activation, beta=beta, paq_conf=paq_conf, **kwargs)
        self._init_kernel_quantizer(kq_conf)

    def build(self, input_shape):
        super().build(input_shape)
        self.kq.build(self.kernel.shape)
        self.paq.build((None, *input_shape[1:-1], self.units))

    def linear(self, inputs, kernel):
        return ops.matmul(inputs, kernel)

    def weight_input_bits(self, in_bits):
        return dense_weight_input_bits(in_bits)
