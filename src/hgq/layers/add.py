"""HAdd: element-wise sum of quantized inputs, followed by a quantizer."""

import keras
from keras import ops

from .base import HLayer


@keras.saving.register_keras_serializable(package="hgq")
class HAdd(HLayer, keras.layers.Add):
    """``keras.layers.Add`` (any number of inputs of the same shape) followed by an output quantizer (``paq_conf``).

    Every input must be quantized (an H-layer, a P-layer or ``Signature`` before it): the sum of fixed-point
    numbers is then exact, and hls4ml derives the adder's width from the input types. An adder has no
    multiplication, so ``HAdd`` costs **0 BOPs** (see ``docs/bops.md``). ``rnd_strategy="auto"`` floors (there
    is no bias to absorb a rounding offset).

    Args:
        beta: accepted for uniformity; HAdd has no BOPs.
        paq_conf: output-quantizer options overriding the defaults (see ``get_default_paq_conf``).
        **kwargs: any other ``keras.layers.Add`` argument.

    Example:
        >>> y = HAdd()([HDense(8)(h), h])   # a residual connection
    """

    def __init__(self, beta=0.0, paq_conf=None, **kwargs):
        super().__init__(beta=beta, paq_conf=paq_conf, **kwargs)

    def build(self, input_shape):
        super().build(input_shape)
        self.paq.build(keras.layers.Add.compute_output_shape(self, input_shape))
        self.built = True

    def call(self, inputs, training=None):
        return self.paq(super().call(inputs), training=training)

    def compute_output_shape(self, input_shape):
        return keras.layers.Add.compute_output_shape(self, input_shape)

    def compute_bops(self, dtype="float32"):
        # No multiplication: 0 BOPs. Checking the inputs here makes an unquantized input an error as soon as
        # BOPs are needed (trace_minmax, total_bops), like the P-layers.
        self.quantized_input_layers()
        return ops.zeros((), dtype=dtype)
