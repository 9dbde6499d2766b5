"""hls4ml's static GRU and LSTM (``nnet_recurrent.h``: ``gru_static``, ``lstm_static``), emulated exactly.

Per time step, with the accumulator type ``A``, the state type ``S`` (the layer's result type: rounding half up,
wide enough that it never overflows) and ``σ``, ``tanh`` read from hls4ml's tables (``σ`` over [-8, 8), ``tanh``
over [-4, 4), ``N`` entries each, one ``table_t``; the index ``trunc(v · N / 16) + N / 2`` (``trunc(v · N / 8) + N /
2`` for ``tanh``), clamped; the value cast to ``A``):

- GRU (``reset_after=True``; gates ``z, r, h`` in Keras' order): ``x̂ = x·W + b``, ``ĥ = h·U + b_r``;
  ``z, r = σ(x̂_zr + ĥ_zr)``; ``g = tanh(x̂_h + A(r · ĥ_h))``; ``h = S(g · (1 - z) + h · z)``. ``A`` truncates; hgq
  makes it wide and fine enough that the dense products, their sums and the biases are exact.
- LSTM (gates ``i, f, c, o``; no recurrent bias): ``a = x·W + b + h·U``; ``i, f, o = σ(a_i, a_f, a_o)``,
  ``g = tanh(a_c)``; ``c = S(g · i + c · f)``; ``h = S(o · tanh(c))`` (``tanh`` indexed by the state's value).
  hls4ml's ``lstm_stack`` also instantiates the non-static ``lstm``, which compiles only when the input, the
  accumulator and the state are one type: so they are (``one_type``), rounding half up, and each dense product is
  rounded to it. A bidirectional LSTM calls the static code only: its types are a GRU's (an exact accumulator).

The states start at 0. The tables are filled as the C++ fills them: ``table_t(float(1.0 / (1 + expf(-v))))`` and
``table_t(tanhf(v))`` for ``v = float(2 · 8 · (k - N/2) / N)`` (``2 · 4 · ...`` for ``tanh``), with the C library's
float32 functions. ``|h| <= 1`` (a GRU's state is a mix of values in [-1, 1], an LSTM's a gate times a tanh) and
``|c| <= T`` after ``T`` steps (``|c_t| <= 1 + |c_(t-1)|``): the state type's integer bits hold them.

Every value is computed in float64 with ``keras.ops``, exactly while ``exact_bits`` is at most 53. Each rounding
passes the gradient straight through; each table lookup has the gradient of the function it tabulates.
"""

import math
from dataclasses import asdict, dataclass

import numpy as np
from keras import ops

from ...quantizer import fixed_point as fxp
from ...quantizer.c_math import c_float_function
from ...quantizer.fixed_type import FixedType

#: The widest exact float64 computation: every product and sum of the emulation must fit its significand.
EXACT_BITS = 53
#: Gates per unit of each cell.
GATES = {"gru": 3, "lstm": 4}
#: The input spans of hls4ml's ``sigmoid`` and ``tanh`` tables: ``[-span/2, span/2)``.
SPANS = {"sigmoid": 16, "tanh": 8}


def straight_through(x, value):
    """``value`` in the forward pass, the gradient of ``x`` in the backward pass."""
    return x + ops.stop_gradient(value - x)


def trunc(x):
    """``x`` truncated toward zero (a C ``int`` conversion of a fixed-point value), float64."""
    return ops.sign(x) * fxp.floor(ops.abs(x))


@dataclass(frozen=True)
class RecurrentArithmetic:
    """The constants of one hls4ml recurrent layer.

    Args:
        cell: ``"gru"`` or ``"lstm"``.
        units: the state's length.
        n_steps: the sequence length ``T``.
        table_size: ``N``, the entries of each activation table.
        table_t: the type of the tables' values (signed: ``tanh`` is negative below 0).
        one_type: whether the input, the accumulator and the state are one type, so that each dense product is cast
            to it; else the dense products are exact in the accumulator. hls4ml's ``lstm_stack`` also instantiates
            the non-static ``lstm``, whose dense calls compile only when they are one type: ``None`` means
            ``cell == "lstm"``; a bidirectional layer calls the static code only (``False``).
    """

    cell: str
    units: int
    n_steps: int
    table_size: int
    table_t: FixedType
    one_type: bool | None = None

    def __post_init__(self):
        if self.one_type is None:
            object.__setattr__(self, "one_type", self.cell == "lstm")

    @property
    def gates(self):
        return GATES[self.cell]

    def accum_rounding(self):
        """How casts to the accumulator round: the one type rounds half up; else truncation."""
        return "standard_round" if self.one_type else "floor"

    def state_integer_bits(self, accum_integer_bits):
        """Integer bits (the sign excluded) of the state type: 1 for a GRU (``|h| <= 1``), those of ``T`` for an
        LSTM (``|c| <= T``); the one type has the accumulator's (``accum_integer_bits``, which hold ``|c| <= T``)."""
        if self.one_type:
            return accum_integer_bits
        return math.floor(math.log2(self.n_steps)) + 1 if self.cell == "lstm" else 1

    def state_t(self, fractional_bits, accum_integer_bits):
        """The state type (hls4ml's result type): rounding half up; nothing overflows."""
        return FixedType(1, int(self.state_integer_bits(accum_integer_bits)), int(fractional_bits), "RND", "WRAP")

    def accum_t(self, integer_bits, fractional_bits):
        """The accumulator type: signed, wrapping (nothing overflows); the one type rounds half up, else truncating."""
        rounding = "RND" if self.one_type else "TRN"
        return FixedType(1, int(integer_bits), int(fractional_bits), rounding, "WRAP")

    def table_inputs(self, function):
        """The float32 inputs of the ``N`` entries of ``function``'s table (``"sigmoid"`` or ``"tanh"``)."""
        n = self.table_size
        return (SPANS[function] * (np.arange(n) - n / 2.0) / n).astype(np.float32)

    def table(self, function):
        """The ``N`` entries of ``function``'s table (float64), as ``init_sigmoid_table`` and ``init_tanh_table``
        fill them."""
        v = self.table_inputs(function)
        if function == "tanh":
            return self.table_t.cast(c_float_function("tanhf")(v))
        denominator = (np.float32(1) + c_float_function("expf")(-v).astype(np.float32)).astype(np.float64)
        return self.table_t.cast((1.0 / denominator).astype(np.float32).astype(np.float64))

    def tables(self):
        """The sigmoid table and the tanh table, one row each."""
        return np.stack([self.table("sigmoid"), self.table("tanh")])

    def exact_bits(self, accum_t, state_t, weight_width):
        """The most significant bits any step of the emulation holds (``<= EXACT_BITS`` for exact float64): the
        accumulator, a product of gate values (at most ``table_t``'s fractional bits) with each other, with the state
        and, in a GRU, with the accumulator (``r · ĥ``), the sums of two such products and, where the dense products
        are rounded (the one type), a product of the input with a weight (``weight_width``: the widest weight's)."""
        t = min(self.table_t.f, accum_t.f)
        products = [2 * t + 1, state_t.i + state_t.f + t + 1]
        if self.cell == "gru":
            products.append(accum_t.width + t)
        if self.one_type:
            products.append(accum_t.width + weight_width)
        return int(max(accum_t.width, state_t.width, max(products) + 1))

    def accum_fractional_bits(self, input_f, kernel_f, recurrent_f, state_f):
        """The accumulator's fractional bits (``keras.ops``, a float scalar). The one type: the state's ``state_f``.
        Else the finest of the dense products (``input_f``: each input feature's finest step, ``(n_in, 1)``;
        ``kernel_f``, ``recurrent_f``: each weight's, ``-inf`` where a product is always 0) and of the tables'
        values: the biases are rounded to it, so that the dense products, their sums and the biases are exact."""
        if self.one_type:
            return state_f
        finest = ops.maximum(ops.max(input_f + kernel_f), ops.max(recurrent_f) + state_f)
        return ops.maximum(finest, float(self.table_t.f))

    def accum_integer_bits(self, input_bound, kernel, bias, recurrent_kernel, recurrent_bias, accum_f):
        """The accumulator's integer bits (the sign excluded; ``keras.ops``, a float scalar): those of the largest
        ``Σ |x| |w| + |b|`` over both dense products and their sum (``input_bound``: each input feature's largest
        magnitude, ``(n_in, 1)``; ``|h| <= 1``), at least 1 (the tables' values). The one type also holds the cell
        state (``|c| <= T``), half a step more per rounded product and input, and the input with an integer bit to
        spare (``hgq.families.recurrent.spec.one_type_input``)."""
        slack = 0.5 * fxp.pow2_and_inverse(ops.cast(accum_f, "float64"))[1] if self.one_type else 0.0
        bound = (ops.sum(ops.abs(kernel) * (input_bound + slack) + slack, axis=0) + ops.abs(bias)
                 + ops.sum(ops.abs(recurrent_kernel) + slack, axis=0) + ops.abs(recurrent_bias))
        largest = ops.max(bound)
        if self.one_type:
            largest = ops.maximum(ops.maximum(largest, float(self.n_steps)), 2.0 * (ops.max(input_bound) + slack))
        return ops.maximum(fxp.int_bits(largest), 1.0)

    def bops(self, input_weight_bops, recurrent_weight_bops, state_width, accum_width):
        """The BOPs of the hardware of one time step (hls4ml reuses it ``T`` times): the two dense products (their
        BOPs given), and per unit the products of gate values (``table_t``-wide) with the state, with each other and,
        in a GRU, with the accumulator (``r · ĥ``). The training loss and the cost model both count this."""
        t = self.table_t.width
        if self.cell == "gru":
            per_unit = t * accum_width + t * t + t * state_width
        else:
            per_unit = 2 * t * t + t * state_width
        return input_weight_bops + recurrent_weight_bops + self.units * per_unit

    def get_config(self):
        """Plain data (JSON), for the layers' ``get_config``."""
        return asdict(self)

    @classmethod
    def from_config(cls, config):
        return cls(str(config["cell"]), int(config["units"]), int(config["n_steps"]), int(config["table_size"]),
                   FixedType(**config["table_t"]), config.get("one_type"))


def lookup(v, tables, function, arithmetic, accum):
    """``function``'s table (row 0 sigmoid, row 1 tanh) at ``v`` as hls4ml indexes it, cast to the accumulator
    (``accum``); the gradient of the function itself."""
    n = arithmetic.table_size
    span = SPANS[function]
    offset = (span // 2) * n // span
    index = ops.clip(trunc(v * (n / span)) + offset, 0, n - 1)
    value = accum(ops.take(tables[0 if function == "sigmoid" else 1], ops.cast(index, "int32")))
    smooth = ops.sigmoid(v) if function == "sigmoid" else ops.tanh(v)
    return straight_through(smooth, value)


def dense(x, kernel, bias, accum, round_products):
    """``x · kernel + bias`` as hls4ml's dense computes it in the accumulator: each product cast to it
    (``round_products``; else they are exact), summed from the bias."""
    if round_products:
        return ops.sum(accum(ops.expand_dims(x, -1) * kernel), axis=-2) + bias
    return ops.matmul(x, kernel) + bias


def recurrence(x, kernel, recurrent_kernel, bias, recurrent_bias, arithmetic, tables, accum, quantize_state,
               round_products, return_sequences):
    """hls4ml's recurrent layer on ``x`` (``(batch, T, n_in)``, float64 on the input's grid), with the quantized
    weights and biases (float64, on the accumulator's grid; ``recurrent_bias`` is a GRU's), ``tables``
    (``arithmetic.tables()``), the casts to the accumulator (``accum``) and to the state type (``quantize_state``),
    and whether the dense products are cast to the accumulator (``round_products``: they are exact unless the
    accumulator is the one type of an LSTM): the states ``(batch, T, units)``, or the last ``(batch, units)``.
    Exact while ``arithmetic.exact_bits`` is at most ``EXACT_BITS``."""
    u = arithmetic.units
    inputs = dense(x, kernel, bias, accum, round_products)
    h = ops.zeros((ops.shape(x)[0], u), dtype=x.dtype)
    c = h
    states = []
    for t in range(arithmetic.n_steps):
        x_t = inputs[:, t, :]
        h_part = dense(h, recurrent_kernel, recurrent_bias, accum, round_products)
        if arithmetic.cell == "gru":
            zr = lookup(x_t[:, :2 * u] + h_part[:, :2 * u], tables, "sigmoid", arithmetic, accum)
            z, r = zr[:, :u], zr[:, u:]
            g = lookup(x_t[:, 2 * u:] + accum(r * h_part[:, 2 * u:]), tables, "tanh", arithmetic, accum)
            h = quantize_state(g * (1.0 - z) + h * z)
        else:
            a = x_t + h_part
            i, f = (lookup(a[:, k * u:(k + 1) * u], tables, "sigmoid", arithmetic, accum) for k in (0, 1))
            g = lookup(a[:, 2 * u:3 * u], tables, "tanh", arithmetic, accum)
            o = lookup(a[:, 3 * u:], tables, "sigmoid", arithmetic, accum)
            c = quantize_state(g * i + c * f)
            h = quantize_state(o * lookup(c, tables, "tanh", arithmetic, accum))
        states.append(h)
    return ops.stack(states, axis=1) if return_sequences else h
