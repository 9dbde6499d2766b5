"""hls4ml's table softmax (``nnet_activation.h``: ``softmax_latency`` and ``softmax_stable``), emulated exactly.

For each slice ``x`` along the softmax axis, hls4ml computes:

- ``stable``: ``d = x_max - x`` converted to ``inp_norm_t``; ``e = exp_table[d]``, the table holding
  ``exp_table_t(expf(-d * exp_scale))``; ``latency``: ``e = exp_table[x]``, the table holding
  ``exp_table_t(expf(x * exp_scale))`` for every value of the input's type (``exp_scale``: a float32 constant);
- ``s = Σ e`` in ``accum_t`` (wrapping), converted to ``inv_inp_t``; ``r = inv_table[s]``, the table holding
  ``inv_table_t(1 / s)`` for every value of ``inv_inp_t``;
- the output ``e * r``.

A table entry is the C++ ``float`` computation converted to the table's fixed-point type (its rounding and
overflow; an infinite value wraps to 0 or saturates), so the tables here call the C library's ``expf`` (as the
compiled C simulation does) and divide in float32. Every type is one ``FixedType``; ``accum_t`` is the one hls4ml's
bit-exact pass derives from ``inv_inp_t`` and the slice length.
"""

import math
from dataclasses import asdict, dataclass

import numpy as np
from keras import ops

from ...quantizer.c_math import c_float_function
from ...quantizer.fixed_type import FixedType

IMPLEMENTATIONS = ("stable", "latency")
#: The types a table softmax is configured with.
TYPES = ("norm_t", "exp_t", "inv_inp_t", "inv_t")


@dataclass(frozen=True)
class SoftmaxTables:
    """The types of one table softmax, and its tables.

    Args:
        implementation: ``"stable"`` or ``"latency"``.
        n_slice: the length of the softmax axis.
        exp_t: the type of the exp table's values.
        inv_inp_t: the type of the sum (the inverse table's index).
        inv_t: the type of the inverse table's values.
        norm_t: ``stable``: the type of ``x_max - x`` (the exp table's index); ``latency``: the input's type.
        exp_scale: the scale of the inputs of ``exp`` (attention's ``1 / sqrt(key_dim)``), rounded to float32.
    """

    implementation: str
    n_slice: int
    norm_t: FixedType
    exp_t: FixedType
    inv_inp_t: FixedType
    inv_t: FixedType
    exp_scale: float = 1.0

    @property
    def accum_t(self):
        """The sum's type, as hls4ml's bit-exact pass derives it from ``inv_inp_t`` (``register_precision`` of a
        bit-exact Softmax): ``2 * ceil(log2 n)`` more fractional bits than ``exp_t``, wrapping, truncating."""
        scale = math.ceil(math.log2(self.n_slice)) if self.n_slice > 1 else 0
        t = self.inv_inp_t
        integer = t.k + t.i + (scale if t.overflow != "WRAP" else 0)
        return FixedType(t.k, integer - t.k, self.exp_t.f + 2 * scale, "TRN", "WRAP")

    def exp_table(self):
        x = np.float32(self.norm_t.values()) * np.float32(self.exp_scale)  # float32, as in C++ (the values exact)
        x = -x if self.implementation == "stable" else x
        return self.exp_t.cast(c_float_function("expf")(x))

    def inv_table(self):
        with np.errstate(divide="ignore"):
            inverse = np.float32(1.0) / np.float32(self.inv_inp_t.values())  # float32 division, as in C++
        return self.inv_t.cast(inverse)

    def bops(self, elements):
        """The BOPs of ``elements`` outputs: one product each, of an exponential by an inverse (the widths of the two
        tables' values). ``HSoftmax``'s training loss and the cost model (``SoftmaxSpec.costs``) both count this."""
        return float(elements * self.exp_t.width * self.inv_t.width)

    def output_kif(self):
        """hls4ml's type of the output (``_produce_kif`` of Softmax): unsigned, the integer and fractional bits of
        both tables added (hls4ml counts a signed table's sign bit as an integer bit)."""
        return (0, self.exp_t.k + self.exp_t.i + self.inv_t.k + self.inv_t.i, self.exp_t.f + self.inv_t.f)

    def get_config(self):
        """Plain data (JSON), for the layers' ``get_config``."""
        return asdict(self)

    @classmethod
    def from_config(cls, config):
        types = {name: FixedType(**config[name]) for name in TYPES}
        return cls(config["implementation"], int(config["n_slice"]), **types,
                   exp_scale=float(config.get("exp_scale", 1.0)))


def table_softmax(x, tables, exp_table, inv_table, axis=-1):
    """hls4ml's softmax of ``x`` along ``axis`` (``keras.ops``), with the tables of ``tables`` (``exp_table`` and
    ``inv_table``, tensors holding ``tables.exp_table()`` and ``tables.inv_table()``). Exact in float32 for types of up
    to 24 bits (products of both tables' widths), in float64 beyond."""
    if tables.implementation == "stable":
        index = tables.norm_t.index(tables.norm_t.apply(ops.max(x, axis=axis, keepdims=True) - x))
    else:
        index = tables.norm_t.index(x)
    accum = tables.accum_t
    e = accum.apply(ops.cast(ops.take(exp_table, index), x.dtype))
    s = tables.inv_inp_t.apply(accum.apply(ops.sum(e, axis=axis, keepdims=True)))
    return e * ops.cast(ops.take(inv_table, tables.inv_inp_t.index(s)), x.dtype)
