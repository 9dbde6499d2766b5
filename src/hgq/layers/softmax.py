"""HSoftmax: softmax as hls4ml's firmware computes it (tables of exponentials and inverses), then a quantizer."""

import math

import keras
import numpy as np
from keras import ops

from ..quantizer.table_softmax import IMPLEMENTATIONS, FixedType, SoftmaxTables, table_softmax
from .base import HLayer


def _integer_bits(value):
    """The fewest integer bits of an unsigned type holding ``value > 0``."""
    return max(math.floor(math.log2(value)) + 1, 0)


def table_types(implementation, n_slice, exp_bits, inv_bits, sum_bits, norm_bits, norm_integer_bits, input_type,
                scale=1.0):
    """The ``SoftmaxTables`` of ``HSoftmax``'s arguments (its docstring says how each type follows)."""
    if implementation == "stable":
        norm_t = FixedType(0, norm_integer_bits, norm_bits - norm_integer_bits, "TRN", "SAT")  # d = max(x) - x
        exp_t = FixedType(0, 1, exp_bits - 1, "RND", "SAT")  # exp(-d) in (0, 1]
        sum_integer = _integer_bits(n_slice)  # the sum lies in [1, n]: the maximum contributes exp(0) = 1
    else:
        norm_t = FixedType(*input_type, "RND", "SAT")
        exp_integer = _integer_bits(math.exp(scale * (2.0 ** input_type[1] - 2.0 ** -input_type[2])))
        exp_t = FixedType(0, exp_integer, exp_bits - exp_integer, "RND", "SAT")
        sum_integer = exp_integer + (math.ceil(math.log2(n_slice)) if n_slice > 1 else 0)
    inv_inp_t = FixedType(0, sum_integer, sum_bits - sum_integer, "TRN", "SAT")
    inv_integer = 1 if implementation == "stable" else inv_inp_t.f + 1  # 1 / (the smallest sum)
    inv_t = FixedType(0, inv_integer, inv_bits - inv_integer, "RND", "SAT")
    return SoftmaxTables(implementation, n_slice, norm_t, exp_t, inv_inp_t, inv_t, float(np.float32(scale)))


@keras.saving.register_keras_serializable(package="hgq")
class HSoftmax(HLayer):
    """Softmax along ``axis`` computed as hls4ml's firmware computes it, then an output quantizer (``paq_conf``).

    The layer's forward pass *is* the firmware's arithmetic (``hgq.quantizer.table_softmax``): an exponential looked
    up in a table, the sum, its inverse looked up in a second table, the product; the gradient is that of the float
    softmax (straight through). The proxy holds the same tables, and the hls4ml config it writes gives hls4ml the same
    types, so that hls4ml's C simulation equals the proxy bit for bit.

    ``implementation="stable"`` (hls4ml's ``softmax_stable``): ``d = max(x) - x`` in ``ufixed<norm_bits,
    norm_integer_bits>`` (saturating: differences beyond ``2**norm_integer_bits`` count as that), ``exp(-d)`` in
    ``ufixed<exp_bits, 1>``, the sum (in ``[1, n]``) in ``sum_bits`` bits, its inverse in ``ufixed<inv_bits, 1>``.
    Tables of ``2**norm_bits`` and ``2**sum_bits`` entries.
    ``implementation="latency"`` (``softmax_latency``): the input is quantized to ``input_type = (k, i, f)`` (rounded,
    saturating), ``exp(x)`` tabulated for each of its ``2**(k+i+f)`` values (integer bits for ``exp`` of the largest),
    the sum in ``sum_bits`` bits, its inverse in ``inv_bits`` bits (integer bits for the smallest sum).

    Args:
        axis: the softmax axis.
        implementation: ``"stable"`` or ``"latency"``.
        exp_bits: width of the exponentials (the exp table's values).
        inv_bits: width of the inverses (the inverse table's values).
        sum_bits: width of the sum (the inverse table has ``2**sum_bits`` entries).
        norm_bits: ``stable``: width of ``max(x) - x`` (the exp table has ``2**norm_bits`` entries).
        norm_integer_bits: ``stable``: integer bits of ``max(x) - x``.
        input_type: ``latency``: the ``(k, i, f)`` of the input.
        scale: ``softmax(scale * x)`` (attention's ``1 / sqrt(key_dim)``; hls4ml's ``exp_scale``, a float32).
        beta: BOPs weight in the loss (the products of the two tables' values; a constant).
        paq_conf: output-quantizer options overriding the defaults (see ``get_default_paq_conf``).

    Example:
        >>> probabilities = HSoftmax(axis=-1, exp_bits=10, inv_bits=10)(scores)
    """

    multiplies = True

    def __init__(self, axis=-1, implementation="stable", exp_bits=10, inv_bits=10, sum_bits=10, norm_bits=8,
                 norm_integer_bits=4, input_type=(1, 3, 4), scale=1.0, beta=0.0, paq_conf=None, **kwargs):
        super().__init__(beta=beta, paq_conf=paq_conf, **kwargs)
        if implementation not in IMPLEMENTATIONS:
            raise ValueError(f"HSoftmax {self.name!r}: implementation={implementation!r}; allowed: "
                             f"{', '.join(IMPLEMENTATIONS)}")
        self.axis, self.implementation = int(axis), implementation
        self.exp_bits, self.inv_bits, self.sum_bits = int(exp_bits), int(inv_bits), int(sum_bits)
        self.norm_bits, self.norm_integer_bits = int(norm_bits), int(norm_integer_bits)
        self.input_type = tuple(int(v) for v in input_type)
        self.scale = float(scale)

    def build(self, input_shape):
        n_slice = int(input_shape[self.axis])
        self.tables = table_types(self.implementation, n_slice, self.exp_bits, self.inv_bits, self.sum_bits,
                                  self.norm_bits, self.norm_integer_bits, self.input_type, self.scale)
        accum = self.tables.accum_t
        bits = max(self.exp_bits + self.inv_bits, accum.k + accum.i + self.tables.exp_t.f)  # products, the sum
        exact = 24 if self.compute_dtype == "float32" else 53
        if bits > exact:
            raise ValueError(f"HSoftmax {self.name!r}: its sums and products need up to {bits} bits, more than "
                             f"{self.compute_dtype} holds exactly ({exact}); lower exp_bits or inv_bits, or pass "
                             "dtype='float64'")
        self.elements = math.prod(int(n) for n in input_shape[1:])
        self.exp_table = self.add_weight(name="exp_table", shape=(2**self.tables.norm_t.width,), trainable=False,
                                         initializer=keras.initializers.Constant(self.tables.exp_table()))
        self.inv_table = self.add_weight(name="inv_table", shape=(2**self.tables.inv_inp_t.width,), trainable=False,
                                         initializer=keras.initializers.Constant(self.tables.inv_table()))
        self.paq.build(input_shape)
        self.built = True

    def quantized_input(self, inputs):
        """``latency``: the input in its fixed type, rounded and saturating as hls4ml builds that quantizer: the
        bound ``2^i - 2^-f`` narrowed to the fractional bits of the values that reach it (``hgq.proxy.saturation``),
        element by element."""
        t = self.tables.norm_t
        f_in = ops.cast(self.quantized_input_layers()[0].output_kif()[2], inputs.dtype)
        bound = 2.0**t.i - ops.power(2.0, -ops.minimum(float(t.f), f_in))
        return ops.minimum(t.apply(inputs), bound)

    def call(self, inputs, training=None):
        x = inputs if self.implementation == "stable" else self.quantized_input(inputs)
        y = table_softmax(x, self.tables, ops.convert_to_tensor(self.exp_table), ops.convert_to_tensor(self.inv_table),
                          self.axis)
        smooth = ops.softmax(inputs * self.tables.exp_scale, axis=self.axis)
        self.add_bops_loss(training)
        return self.paq(smooth + ops.stop_gradient(y - smooth), training=training)

    def compute_output_shape(self, input_shape):
        return input_shape

    def compute_bops(self, dtype="float32"):
        """One product per output element, of an exponential by an inverse (a constant of the layer)."""
        return ops.convert_to_tensor(float(self.elements * self.exp_bits * self.inv_bits), dtype=dtype)

    def get_config(self):
        cfg = super().get_config()
        cfg.update(axis=self.axis, implementation=self.implementation, exp_bits=self.exp_bits,
                   inv_bits=self.inv_bits, sum_bits=self.sum_bits, norm_bits=self.norm_bits,
                   norm_integer_bits=self.norm_integer_bits, input_type=list(self.input_type), scale=self.scale)
        return cfg
