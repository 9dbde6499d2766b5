"""HAdd: element-wise sum of quantized inputs, followed by a quantizer."""

import keras

from .merge import HMerge


@keras.saving.register_keras_serializable(package="hgq")
class HAdd(HMerge, keras.layers.Add):
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
