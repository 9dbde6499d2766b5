"""HSoftmax: softmax as hls4ml's firmware computes it (tables of exponentials and inverses), then a quantizer."""

import math

import keras
import numpy as np
from keras import ops

from ...quantizer.config import MAX_FRACTIONAL_BITS
from ...validation import check_int
from ..hlayer import HLayer
from ...quantizer.fixed_type import FixedType
from .tables import IMPLEMENTATIONS, TYPES, SoftmaxTables, table_softmax

#: Widest index of a table (``norm_bits``, ``sum_bits``, the width of ``input_type``): a table has ``2**n`` entries,
#: built one by one with the C library's ``expf``, and a table index is exact in float32 up to 24 bits.
MAX_TABLE_BITS = 24
#: Widest value of a table (``exp_bits``, ``inv_bits``): their product must fit float64's 53-bit significand with the
#: other at least 1 bit wide (the pair, and the sum, are checked against the compute dtype when the layer is built).
MAX_VALUE_BITS = 52
#: ``HSoftmax``'s width arguments (``check_widths``).
WIDTH_ARGUMENTS = ("exp_bits", "inv_bits", "sum_bits", "norm_bits", "norm_integer_bits", "input_type")


def _integer_bits(value):
    """The fewest integer bits of an unsigned type holding ``value > 0``."""
    return max(math.floor(math.log2(value)) + 1, 0)


def check_widths(owner, exp_bits=10, inv_bits=10, sum_bits=10, norm_bits=8, norm_integer_bits=4, input_type=(1, 3, 4),
                 prefix=""):
    """``HSoftmax``'s width arguments, normalized, or ``ValueError`` naming ``owner``, the argument (``prefix`` before
    its name), its allowed range and the value. Every width is at least 1 bit (hls4ml's ``ap_ufixed`` has no width 0);
    integer and fractional bits may be negative, their powers of two within float32's normal range (``2**±126``)."""
    e = MAX_FRACTIONAL_BITS
    widths = {name: check_int(owner, prefix + name, value, 1, high) for name, value, high in (
        ("exp_bits", exp_bits, MAX_VALUE_BITS), ("inv_bits", inv_bits, MAX_VALUE_BITS),
        ("sum_bits", sum_bits, MAX_TABLE_BITS), ("norm_bits", norm_bits, MAX_TABLE_BITS))}
    # ufixed<norm_bits, norm_integer_bits>: the saturation bound 2**I and the step 2**-(norm_bits - I)
    widths["norm_integer_bits"] = check_int(owner, prefix + "norm_integer_bits", norm_integer_bits,
                                            widths["norm_bits"] - e, e)
    if not isinstance(input_type, (list, tuple)) or len(input_type) != 3:
        raise ValueError(f"{owner}: {prefix}input_type must be a (k, i, f) triple of integers, got {input_type!r}")
    k, i, f = (check_int(owner, f"{letter} of {prefix}input_type={tuple(input_type)!r}", value, low, high)
               for letter, value, low, high in zip("kif", input_type, (0, -e, -e), (1, e, e)))
    check_int(owner, f"the width k + i + f of {prefix}input_type={tuple(input_type)!r}", k + i + f, 1, MAX_TABLE_BITS)
    widths["input_type"] = (k, i, f)
    return widths


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

    The layer's forward pass *is* the firmware's arithmetic (``hgq.families.softmax.tables``): an exponential looked
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
        exp_bits: width of the exponentials (the exp table's values), in ``[1, 52]``.
        inv_bits: width of the inverses (the inverse table's values), in ``[1, 52]``.
        sum_bits: width of the sum (the inverse table has ``2**sum_bits`` entries), in ``[1, 24]``.
        norm_bits: ``stable``: width of ``max(x) - x`` (the exp table has ``2**norm_bits`` entries), in ``[1, 24]``.
        norm_integer_bits: ``stable``: integer bits of ``max(x) - x``, in ``[norm_bits - 126, 126]``.
        input_type: ``latency``: the ``(k, i, f)`` of the input: ``k`` 0 or 1, ``i`` and ``f`` in ``[-126, 126]``,
            the width ``k + i + f`` in ``[1, 24]``.
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
        widths = check_widths(f"HSoftmax {self.name!r}", exp_bits, inv_bits, sum_bits, norm_bits, norm_integer_bits,
                              input_type)
        self.exp_bits, self.inv_bits, self.sum_bits = widths["exp_bits"], widths["inv_bits"], widths["sum_bits"]
        self.norm_bits, self.norm_integer_bits = widths["norm_bits"], widths["norm_integer_bits"]
        self.input_type = widths["input_type"]
        self.scale = float(scale)

    def build(self, input_shape):
        n_slice = int(input_shape[self.axis])
        limit = MAX_FRACTIONAL_BITS if self.compute_dtype == "float32" else 1022  # the normal powers of two
        try:
            self.tables = table_types(self.implementation, n_slice, self.exp_bits, self.inv_bits, self.sum_bits,
                                      self.norm_bits, self.norm_integer_bits, self.input_type, self.scale)
            types = [getattr(self.tables, name) for name in TYPES] + [self.tables.accum_t]
            widest = max(abs(v) for t in types for v in (t.k + t.i, t.f))
        except OverflowError:  # latency: exp of the largest input beyond float64
            widest = math.inf
        if widest > limit:
            raise ValueError(f"HSoftmax {self.name!r}: input_type={self.input_type} with scale={self.scale}: the "
                             f"exponential of the largest input needs types beyond {self.compute_dtype}'s powers of "
                             f"two (2**±{limit}); narrow input_type's integer bits or lower the scale")
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
        """One product per output element, of an exponential by an inverse (a constant of the layer;
        ``SoftmaxTables.bops``, which the cost model counts too)."""
        return ops.convert_to_tensor(self.tables.bops(self.elements), dtype=dtype)

    def get_config(self):
        cfg = super().get_config()
        cfg.update(axis=self.axis, implementation=self.implementation, exp_bits=self.exp_bits,
                   inv_bits=self.inv_bits, sum_bits=self.sum_bits, norm_bits=self.norm_bits,
                   norm_integer_bits=self.norm_integer_bits, input_type=list(self.input_type), scale=self.scale)
        return cfg
