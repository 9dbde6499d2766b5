"""HQuantize: quantizes a float input (the entry point of an H-model)."""

import keras

from ..hlayer import HLayer


@keras.saving.register_keras_serializable(package="hgq")
class HQuantize(HLayer):
    """Quantize its input with trainable per-element bit widths (``paq_conf``).

    Place it right after the model's inputs: every H-layer that multiplies needs a quantized input.
    ``rnd_strategy="auto"`` floors here (there is no bias to absorb a rounding offset).

    Args:
        beta: accepted for uniformity; HQuantize has no BOPs.
        paq_conf: quantizer options overriding the defaults (see ``get_default_paq_conf``).

    Example:
        >>> x = keras.Input((16,))
        >>> xq = HQuantize(paq_conf={"init_bw": 6})(x)
    """

    def build(self, input_shape):
        self.paq.build(input_shape)
        self.built = True

    def call(self, inputs, training=None):
        return self.paq(inputs, training=training)

    def compute_output_shape(self, input_shape):
        return input_shape
