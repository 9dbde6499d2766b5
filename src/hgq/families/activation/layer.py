"""HActivation: an activation function followed by a quantizer; the activations computed exactly without a table."""

import keras

from ..hlayer import HLayer

#: The activations computed exactly without a table (hls4ml's linear and ReLU): what a kernel layer can fuse.
EXACT_ACTIVATIONS = ("linear", "relu")


@keras.saving.register_keras_serializable(package="hgq")
class HActivation(HLayer):
    """Apply ``activation`` then quantize the result (``paq_conf``).

    ``activation`` may be any element-wise function: a Keras activation name (``"tanh"``, ``"sigmoid"``,
    ``"silu"``, ...) or a callable. A custom callable must be registered to save and load the model and to
    export it: decorate it with ``@keras.saving.register_keras_serializable()``.

    Export (``to_proxy_model``): ``linear`` and ``relu`` export as such; any other element-wise function becomes a
    ``UnaryLUT`` table indexed by the input's bits, bit-exact with hls4ml, when the input type has at most
    ``unary_lut_max_table_size`` values (default 1024). Otherwise built-in activations fall back to hls4ml's own
    implementation (not bit-exact, with a warning) and custom functions raise. ``softmax`` and ``log_softmax`` are
    not element-wise and are refused: use ``HSoftmax``, which hls4ml computes bit-exactly.

    Args:
        activation: a Keras activation name or an element-wise function (registered serializable).
        beta: accepted for uniformity; HActivation has no BOPs.
        paq_conf: quantizer options overriding the defaults.

    Example:
        >>> y = HActivation("relu")(x)
    """

    def __init__(self, activation, beta=0.0, paq_conf=None, **kwargs):
        super().__init__(beta=beta, paq_conf=paq_conf, **kwargs)
        self.activation = keras.activations.get(activation)
        if keras.activations.serialize(self.activation) in ("softmax", "log_softmax"):
            raise ValueError(f"HActivation {self.name!r}: {activation!r} is not an element-wise function; use "
                             "HSoftmax(axis=...), whose tables hls4ml computes bit-exactly")

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
