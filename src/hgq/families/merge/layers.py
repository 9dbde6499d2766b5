"""The element-wise merges of quantized inputs, each followed by a quantizer: ``HAdd``, ``HSubtract``, ``HMultiply``,
``HMaximum``, ``HMinimum``, ``HAverage``, on a common base ``HMerge``."""

import keras
from keras import ops

from ...quantizer import fixed_point as fxp
from ..hlayer import HLayer


class HMerge(HLayer):
    """Base of the H-merges: the Keras merge of the inputs (the other base class), then the output quantizer
    ``paq``. Every input must be quantized (an H-layer, a P-layer or ``Signature`` before it). Without a
    multiplication the layer costs 0 BOPs; ``rnd_strategy="auto"`` floors (there is no bias to absorb a rounding
    offset)."""

    def __init__(self, beta=0.0, paq_conf=None, **kwargs):
        super().__init__(beta=beta, paq_conf=paq_conf, **kwargs)

    def build(self, input_shape):
        super().build(input_shape)
        self.paq.build(self.compute_output_shape(input_shape))
        self.built = True

    def call(self, inputs, training=None):
        out = super().call(inputs)
        self.add_bops_loss(training)  # only a layer that multiplies adds to the loss
        return self.paq(out, training=training)

    def input_kifs(self, dtype="float32"):
        """``(k, i, f)`` of each input element, in ``dtype``, every input broadcast to the output's features
        ``(1, *features)``. Checks that every input is quantized (naming the layers otherwise)."""
        producers = self.quantized_input_layers()
        out_shape = (1, *self.compute_output_shape([(None, *s[1:]) for s in self.input_feature_shapes()])[1:])
        return [tuple(ops.broadcast_to(ops.cast(a, dtype), out_shape) for a in producer.output_kif())
                for producer in producers]

    def compute_bops(self, dtype="float32"):
        # No multiplication: 0 BOPs. Checking the inputs here makes an unquantized input an error as soon as
        # BOPs are needed (trace_minmax, total_bops), like the P-layers.
        self.quantized_input_layers()
        return ops.zeros((), dtype=dtype)


def _bounds(kif):
    """``(low, high, f)`` of each element of the type ``kif`` (``(0, 0, 0)`` where the width is zero), as tensors:
    ``hgq.quantizer.intervals.bounds`` in ``keras.ops``."""
    k, i, f = kif
    live = k + i + f > 0
    two_i, _ = fxp.pow2_and_inverse(i)
    _, step = fxp.pow2_and_inverse(f)
    return ops.where(live, -k * two_i, 0.0), ops.where(live, two_i - step, 0.0), ops.where(live, f, 0.0)


def product_kif(kif_a, kif_b):
    """The type hls4ml's bit-exact pass gives the product of two typed tensors (``keras.ops``): the interval of the
    four corner products on the grid ``2^-(f_a + f_b)``. The range carries no gradient, ``f`` does."""
    (low_a, high_a, f_a), (low_b, high_b, f_b) = _bounds(kif_a), _bounds(kif_b)
    corners = [ops.stop_gradient(x * y) for x in (low_a, high_a) for y in (low_b, high_b)]
    low = ops.minimum(ops.minimum(corners[0], corners[1]), ops.minimum(corners[2], corners[3]))
    high = ops.maximum(ops.maximum(corners[0], corners[1]), ops.maximum(corners[2], corners[3]))
    return fxp.kif_from_range(low, high, f_a + f_b)


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


@keras.saving.register_keras_serializable(package="hgq")
class HSubtract(HMerge, keras.layers.Subtract):
    """``keras.layers.Subtract`` (``a - b``, exactly two inputs of the same shape) followed by an output quantizer
    (``paq_conf``). 0 BOPs; exported to a plain ``Subtract`` (hls4ml's type: the interval of the difference).

    Args:
        beta: accepted for uniformity; HSubtract has no BOPs.
        paq_conf: output-quantizer options overriding the defaults (see ``get_default_paq_conf``).
        **kwargs: any other ``keras.layers.Subtract`` argument.

    Example:
        >>> y = HSubtract()([HDense(8)(h), h])
    """

    def build(self, input_shape):
        if len(input_shape) != 2:
            raise ValueError(f"HSubtract {self.name!r} takes exactly two inputs [a, b] (it computes a - b), got "
                             f"{len(input_shape)}; to subtract a sum, add first: HSubtract()([a, HAdd()([b, c])])")
        super().build(input_shape)


@keras.saving.register_keras_serializable(package="hgq")
class HMultiply(HMerge, keras.layers.Multiply):
    """``keras.layers.Multiply`` (any number of inputs of the same shape) followed by an output quantizer
    (``paq_conf``).

    Each product multiplies two activations, so the layer has BOPs: for two inputs, per output element, the product
    of the two inputs' widths. ``n`` inputs multiply as the chain ``((x1·x2)·x3)·…`` that the proxy holds: each
    step costs its two factors' widths, the left factor after the first step being the previous product, of the
    type hls4ml's bit-exact pass gives it (interval arithmetic; see ``docs/merges.md``). ``beta · BOPs`` joins the
    loss while training.

    Args:
        beta: BOPs weight in the loss.
        paq_conf: output-quantizer options overriding the defaults (see ``get_default_paq_conf``).
        **kwargs: any other ``keras.layers.Multiply`` argument.

    Example:
        >>> gated = HMultiply(beta=1e-5)([HDense(8)(h), HActivation("sigmoid")(h)])
    """

    multiplies = True

    def compute_bops(self, dtype="float32"):
        kifs = self.input_kifs(dtype)
        left, bops = kifs[0], ops.zeros((), dtype=dtype)
        for right in kifs[1:]:
            bops = bops + ops.sum(fxp.total_bits(left) * fxp.total_bits(right))
            left = product_kif(left, right)
        return bops


@keras.saving.register_keras_serializable(package="hgq")
class HMaximum(HMerge, keras.layers.Maximum):
    """``keras.layers.Maximum`` (element-wise maximum of any number of inputs of the same shape) followed by an
    output quantizer (``paq_conf``). 0 BOPs; exported to a chain of plain two-input ``Maximum`` layers.

    Args:
        beta: accepted for uniformity; HMaximum has no BOPs.
        paq_conf: output-quantizer options overriding the defaults (see ``get_default_paq_conf``).
        **kwargs: any other ``keras.layers.Maximum`` argument.

    Example:
        >>> y = HMaximum()([HDense(8)(h), h])
    """


@keras.saving.register_keras_serializable(package="hgq")
class HMinimum(HMerge, keras.layers.Minimum):
    """``keras.layers.Minimum`` (element-wise minimum of any number of inputs of the same shape) followed by an
    output quantizer (``paq_conf``). 0 BOPs.

    Exported to a chain of plain two-input ``Minimum`` layers, which hls4ml types as it types ``Maximum``: the
    element-wise maximum of the inputs' ``(k, i, f)``, a type that holds the minimum exactly.

    Example:
        >>> y = HMinimum(paq_conf={"init_bw": 4})([a, b, c])   # any number of inputs

    Args:
        beta: accepted for uniformity; HMinimum has no BOPs.
        paq_conf: output-quantizer options overriding the defaults (see ``get_default_paq_conf``).
        **kwargs: any other ``keras.layers.Minimum`` argument.
    """


@keras.saving.register_keras_serializable(package="hgq")
class HAverage(HMerge, keras.layers.Average):
    """``keras.layers.Average`` of exactly two inputs of the same shape, ``(a + b) / 2``, followed by an output
    quantizer (``paq_conf``). 0 BOPs (the halving is a shift); exported to a plain ``Average``, which hls4ml computes
    exactly in the type of the sum with one more fractional bit.

    hls4ml's ``Average`` takes two inputs; the mean of more is not a chain of two-input means, so other counts raise
    ``ValueError``.

    Args:
        beta: accepted for uniformity; HAverage has no BOPs.
        paq_conf: output-quantizer options overriding the defaults (see ``get_default_paq_conf``).
        **kwargs: any other ``keras.layers.Average`` argument.

    Example:
        >>> y = HAverage()([HDense(8)(h), HDense(8)(h)])
    """

    def build(self, input_shape):
        if len(input_shape) != 2:
            raise ValueError(f"HAverage {self.name!r} takes exactly two inputs (hls4ml's Average takes two, and a mean "
                             f"of more is not a chain of two-input means), got {len(input_shape)}; average two sums "
                             "instead, e.g. HAverage()([HAdd()([a, b]), HAdd()([c, d])]) for four")
        super().build(input_shape)
