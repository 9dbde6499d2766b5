"""HEinsum: the einsum of two quantized tensors (no weights), followed by a quantizer."""

import keras
from keras import ops

from ..hlayer import HLayer
from ..kernel.einsum_geometry import spell_out


@keras.saving.register_keras_serializable(package="hgq")
class HEinsum(HLayer):
    """``ops.einsum(equation, a, b)`` of the layer's two quantized inputs ``[a, b]``, then an output quantizer
    (``paq_conf``): the products of attention (queries by keys, scores by values).

    Both inputs must be quantized (an H-layer, a P-layer or ``Signature`` before each). Every product multiplies two
    activations: the layer's BOPs are the sum over all products of the two widths, an einsum of the width arrays
    with the layer's own equation. ``rnd_strategy="auto"`` floors (no bias absorbs a rounding offset).

    Export: a proxy ``Einsum`` layer (``hgq.proxy.Einsum``) and the output quantizer, which hls4ml builds bit-exactly
    with ``io_parallel`` when the batch axis is the first of both inputs and of the output and no letter is summed
    in one input only (``convert_to_hls4ml`` refuses other equations by name).

    Args:
        equation: the einsum equation of the two inputs, batch axis included (``"abc,adc->abd"``).
        beta: BOPs weight in the loss.
        paq_conf: output-quantizer options overriding the defaults (see ``get_default_paq_conf``).

    Example:
        >>> scores = HEinsum("abhc,adhc->ahbd", beta=1e-5)([queries, keys])   # per head, tokens x tokens
    """

    multiplies = True

    def __init__(self, equation, beta=0.0, paq_conf=None, **kwargs):
        super().__init__(beta=beta, paq_conf=paq_conf, **kwargs)
        if equation.count(",") != 1 or equation.count("->") != 1:
            raise ValueError(f"HEinsum {self.name!r}: equation {equation!r} must name two inputs and the output, "
                             "as 'abc,adc->abd'")
        self.equation = equation

    def build(self, input_shape):
        if len(input_shape) != 2:
            raise ValueError(f"HEinsum {self.name!r} takes two inputs, got {len(input_shape)}")
        a, b, out = spell_out(self.equation, *(len(shape) for shape in input_shape))
        if not a[0] == b[0] == out[0]:
            raise ValueError(f"HEinsum {self.name!r}: equation {self.equation!r} must keep the batch axis first: the "
                             "first letter of both inputs and of the output must be the same")
        self.paq.build(self.compute_output_shape(input_shape))
        self.built = True

    def compute_output_shape(self, input_shape):
        a, b = (keras.KerasTensor((1, *shape[1:])) for shape in input_shape)
        return (input_shape[0][0], *ops.einsum(self.equation, a, b).shape[1:])

    def call(self, inputs, training=None):
        out = ops.einsum(self.equation, inputs[0], inputs[1])
        self.add_bops_loss(training)
        return self.paq(out, training=training)

    def compute_bops(self, dtype="float32"):
        a, b = (ops.cast(self.input_bits(n), dtype) for n in (0, 1))
        return ops.sum(ops.einsum(self.equation, a, b))

    def get_config(self):
        cfg = super().get_config()
        cfg.update(equation=self.equation)
        return cfg
