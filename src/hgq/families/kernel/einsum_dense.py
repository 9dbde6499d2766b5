"""HEinsumDense: an EinsumDense layer with a per-weight quantized kernel and a quantized output."""

import keras
from keras import ops

from ..hlayer import HLayer
from .einsum_geometry import EinsumGeometry
from .mixin import QuantizedKernelMixin, check_activation


@keras.saving.register_keras_serializable(package="hgq")
class HEinsumDense(QuantizedKernelMixin, HLayer, keras.layers.EinsumDense):
    """``keras.layers.EinsumDense`` with heterogeneous quantization: any equation Keras accepts.

    The kernel gets one trainable fractional bit width per weight (``kq_conf``); the output, after the activation, is
    quantized by ``paq`` (``paq_conf``). The bias (``bias_axes``) is rounded to one fractional bit more than the finest
    step of the outputs it is added to. While training, ``beta * BOPs`` joins the loss: each weight's width times the
    widths of the input elements it multiplies, over every position of the einsum.

    Export: a plain ``EinsumDense`` and its output quantizer, which hls4ml builds bit-exactly with ``io_parallel``
    (it has no ``io_stream`` EinsumDense, and refuses equations that sum a letter of one operand only).

    Args:
        equation: the einsum equation of the input and the kernel, batch axis included (``"abc,cd->abd"``).
        output_shape: the output's shape without the batch axis (an int for one axis).
        activation: ``None``/``"linear"`` or ``"relu"``.
        bias_axes: the output letters the bias spans, or ``None`` for no bias.
        beta: BOPs weight in the loss.
        kq_conf: kernel-quantizer options overriding the defaults (see ``get_default_kq_conf``).
        paq_conf: output-quantizer options overriding the defaults (see ``get_default_paq_conf``).
        **kwargs: any other ``keras.layers.EinsumDense`` argument.

    Example:
        >>> x = keras.Input((8, 16))                               # 8 tokens of 16 features
        >>> y = HEinsumDense("abc,cd->abd", (8, 32), bias_axes="d", activation="relu")(HQuantize()(x))
    """

    def __init__(self, equation, output_shape, activation=None, bias_axes=None, beta=0.0, kq_conf=None,
                 paq_conf=None, **kwargs):
        check_activation(kwargs.get("name"), activation)
        super().__init__(equation=equation, output_shape=output_shape, activation=activation, bias_axes=bias_axes,
                         beta=beta, paq_conf=paq_conf, **kwargs)
        self._init_kernel_quantizer(kq_conf)

    @property
    def use_bias(self):
        return self.bias_axes is not None

    def build(self, input_shape):
        super().build(input_shape)
        self.kq.build(self.kernel.shape)
        self.paq.build(self.compute_output_shape(input_shape))

    def compute_output_shape(self, input_shape):
        # from the equation itself: Keras' EinsumDense gets it wrong for an ellipsis (Keras 3.15)
        return (input_shape[0], *self.geometry(input_shape).output_shape)

    def geometry(self, input_shape=None):
        """The layer's ``EinsumGeometry`` on its input (the input of its call in the model by default)."""
        shape = self.input_shapes()[0] if input_shape is None else input_shape
        return EinsumGeometry(self.equation, shape[1:], self.kernel.shape)

    def linear(self, inputs, kernel):
        return ops.einsum(self.equation, inputs, kernel)
