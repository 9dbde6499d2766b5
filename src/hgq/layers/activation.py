"""HActivation: an activation function followed by a quantizer."""

import keras

from .base import HLayer


@keras.saving.register_keras_serializable(package="hgq")
class HActivation(HLayer):
    """Apply ``activation`` then quantize the result (``paq_conf``).

    ``linear`` and ``relu`` export bit-exactly to hls4ml. ``sigmoid``, ``tanh`` and ``softmax`` train and
    export, but hls4ml evaluates them with its own lookup tables, so that layer is not bit-exact.

    Args:
        activation: a Keras activation name or function.
        beta: accepted for uniformity; HActivation has no BOPs.
        paq_conf: quantizer options overriding the defaults.

    Example:
        >>> y = HActivation("relu")(x)
    """

    def __init__(self, activation, beta=0.0, paq_conf=None, **kwargs):
        super().__init__(beta=beta, paq_conf=paq_conf, **kwargs)
        self.activation = keras.activations.get(activation)

    def build(self, input_shape):
        self.paq.build(input_shape)
        self.built = True

    def call(self, inputs, training=None):
        return self.paq(self.activation(inputs), training=training)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        cfg = super().get_config()
        cfg.update(activation=keras.activations.serialize(self.activation))
        return cfg
