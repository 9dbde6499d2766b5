"""hls4ml's layer normalization (``nnet_layernorm.h``, ``layernorm_1d``), emulated exactly.

For each row ``x`` of ``dim`` values (the last axis), in the accumulator type ``A`` (truncating) and with
``k = A(1 / dim)``, hls4ml computes:

- ``mean = A(Σ A(x) · k)``, ``d = A(x) - mean``, ``var = A(Σ A(d · d) · k)``;
- the index ``trunc(var · N · 2^p)`` (a C ``int``: 32 bits, wrapping), clamped to ``[0, N - 1]``, of a table of
  ``N`` entries ``table_t(1 / sqrt(float(10^-e) + float(2^-p / N) · n))`` (float32 arithmetic and ``sqrtf``, the
  division in double): ``1 / sqrt(var + epsilon)`` for variances in ``[0, 2^-p)``; larger variances read the last entry;
- the output ``d · table[index] · scale + bias``, exact (the layer's result type is what the quantizer after it
  keeps).

hls4ml's table covers ``[0, 2^-p)`` with ``p >= 0`` only (``table_range_power2``), so hgq scales the input by a power
of two ``2^-s`` first (a ``BatchNormalization`` of that scale in the firmware: a shift), with ``s`` and ``p`` chosen
from the largest variance recorded in training and calibration so that the scaled variances lie below ``2^-p`` with
``p`` 0 or 1 (``variance_scaling``): the table then spans the variances seen, whatever their scale (the effective
epsilon is ``epsilon · 4^s``). hgq chooses ``A`` wide enough that nothing overflows (its integer bits from the scaled
input's type, ``accum_t``), so that only its fractional bits ``accum_f`` enter the arithmetic.
"""

import math
from dataclasses import asdict, dataclass

import numpy as np
from keras import ops

from ...quantizer import fixed_point as fxp
from ...quantizer.fixed_type import FixedType

#: The widest exact float64 computation: every product and sum of the emulation must fit its significand.
EXACT_BITS = 53
#: The scaled input's variance lies below ``2^-p`` for ``p`` in ``RANGE_POWERS2`` (hls4ml's ``table_range_power2``).
RANGE_POWERS2 = (0, 1)
#: The largest input scale ``2^±s``: variances from ``4^-MAX_SHIFT`` to ``4^MAX_SHIFT`` are covered.
MAX_SHIFT = 16


@dataclass(frozen=True)
class LayerNormArithmetic:
    """The constants of one hls4ml layer normalization.

    Args:
        dim: the length of a row (the normalized axis).
        accum_f: fractional bits of the accumulator type.
        epsilon_power_of_10: ``e`` of the firmware's epsilon ``10^-e`` (a float32).
        table_size: ``N``, the entries of the ``1 / sqrt`` table.
        table_t: the type of the table's values (unsigned).
    """

    dim: int
    accum_f: int
    epsilon_power_of_10: int
    table_size: int
    table_t: FixedType

    def epsilon(self):
        """The firmware's epsilon: ``pow(10.0f, -e)`` (a double, as C++ computes ``pow(float, int)``) as a float."""
        return np.float32(10.0 ** -self.epsilon_power_of_10)

    def table(self, range_power2):
        """The ``N`` entries of the table for ``p = range_power2`` (float64), as ``init_invert_sqr_table`` fills it."""
        step = np.float32(2.0**-range_power2) / np.float32(self.table_size)
        variances = self.epsilon() + step * np.arange(self.table_size, dtype=np.float32)  # float32 arithmetic
        return self.table_t.cast(1.0 / np.sqrt(variances).astype(np.float64))

    def tables(self):
        """The tables of every ``p`` of ``RANGE_POWERS2``, one row each."""
        return np.stack([self.table(p) for p in RANGE_POWERS2])

    def index_scale(self, range_power2):
        """``N · 2^p``: the variance's scale to a table index."""
        return self.table_size * 2.0**range_power2

    def inverse_dim(self):
        """``A(1.0 / dim)``: truncated to the accumulator's fractional bits."""
        return math.floor(2.0**self.accum_f / self.dim) * 2.0**-self.accum_f

    def accum_integer_bits(self, input_integer_bits):
        """The accumulator's integer bits (the sign excluded) for inputs of ``input_integer_bits`` (a number or a
        tensor; ``keras.ops``): they hold the inputs, their sum, the squared deviations ``d · d < 2^(2i + 2)`` and
        their sum."""
        i = input_integer_bits
        log_dim = math.ceil(math.log2(self.dim)) if self.dim > 1 else 0
        return ops.maximum(ops.maximum(i + log_dim, 2 * i + 2 + log_dim), 1)

    def accum_t(self, integer_bits):
        """The accumulator type of ``integer_bits`` integer bits (``accum_integer_bits``): signed, truncating, wrapping
        (nothing overflows)."""
        return FixedType(1, int(integer_bits), self.accum_f, "TRN", "WRAP")

    def output_kif(self, accum_t, scale_kif, bias_kif):
        """The exact type of ``d · table[index] · scale + bias`` (NumPy, shaped as ``scale_kif``)."""
        t = self.table_t
        scale_i, scale_f = np.asarray(scale_kif[1], np.float64), np.asarray(scale_kif[2], np.float64)
        bias_i, bias_f = np.asarray(bias_kif[1], np.float64), np.asarray(bias_kif[2], np.float64)
        product_i = accum_t.i + t.k + t.i + np.maximum(scale_i, 0.0) + 1.0  # 1: the sign of a negative scale
        integer = np.maximum(product_i, bias_i) + 1.0  # the sum's carry
        fractional = np.maximum(accum_t.f + t.f + np.maximum(scale_f, 0.0), np.maximum(bias_f, 0.0))
        return np.ones_like(integer), integer, fractional

    def exact_bits(self, accum_t, scale_kif, bias_kif):
        """The most significant bits any step of the emulation holds (``<= EXACT_BITS`` for exact float64)."""
        width = accum_t.width
        out = self.output_kif(accum_t, scale_kif, bias_kif)
        return int(max(2 * width, width + self.accum_f, np.max(out[0] + out[1] + out[2])))

    def bops(self, rows, accum_width, scale_bits_sum):
        """The BOPs of ``rows`` rows: per row the mean and the variance (two products by ``1 / dim``), ``dim``
        squares, ``dim`` products by the table's value and one product by each scale (``scale_bits_sum``: the sum of
        the scales' widths). The training loss (``HLayerNormalization``) and the cost model both count this."""
        a, t = accum_width, self.table_t.width
        return rows * ((2 + self.dim) * a * a + self.dim * a * t + (a + t) * scale_bits_sum)

    def get_config(self):
        """Plain data (JSON), for the layers' ``get_config``."""
        return asdict(self)

    @classmethod
    def from_config(cls, config):
        return cls(int(config["dim"]), int(config["accum_f"]), int(config["epsilon_power_of_10"]),
                   int(config["table_size"]), FixedType(**config["table_t"]))


def variance_scaling(max_variance):
    """``(s, p)`` (int32 tensors) for inputs whose variances are at most ``max_variance``: the smallest ``r`` with
    ``max_variance < 2^r`` (``|r| <= 2 · MAX_SHIFT``) is ``2s - p`` with ``p`` 0 or 1, so that the variances of
    ``x · 2^-s`` lie below ``2^-p``; ``(0, 0)`` for no positive variance. Exact comparisons with powers of two."""
    v = ops.convert_to_tensor(max_variance, "float32")
    powers = ops.convert_to_tensor(2.0 ** np.arange(-2 * MAX_SHIFT, 2 * MAX_SHIFT + 1), "float32")
    r = ops.sum(ops.cast(v >= powers, "float32")) - 2 * MAX_SHIFT
    shift = ops.where(v > 0, ops.floor((r + 1.0) / 2.0), 0.0)
    p = ops.where(v > 0, 2.0 * shift - r, 0.0)
    return ops.cast(shift, "int32"), ops.cast(p, "int32")


def layer_norm(x, arithmetic, table, index_scale, scale, bias):
    """hls4ml's layer normalization of ``x`` (float64, on the input's grid) along its last axis (``keras.ops``):
    ``table`` holds ``arithmetic.table(p)`` and ``index_scale`` is ``N · 2^p`` (``arithmetic.index_scale(p)``);
    ``scale`` and ``bias`` are the quantized ``gamma`` and ``beta`` (float64). Exact while ``arithmetic.exact_bits``
    is at most ``EXACT_BITS``."""
    grid = 2.0**arithmetic.accum_f

    def accum(v):  # A(v): truncated (nothing overflows)
        return fxp.floor(v * grid) / grid

    k_inv = arithmetic.inverse_dim()
    xa = accum(x)
    mean = accum(ops.sum(xa, axis=-1, keepdims=True) * k_inv)
    d = xa - mean
    var = accum(ops.sum(accum(d * d), axis=-1, keepdims=True) * k_inv)
    index = fxp.floor(var * ops.cast(index_scale, x.dtype))  # var >= 0: truncation is the floor
    index = ops.mod(index + 2.0**31, 2.0**32) - 2.0**31  # a C int
    index = ops.cast(ops.clip(index, 0.0, arithmetic.table_size - 1.0), "int32")
    inverse = ops.cast(ops.take(table, index), x.dtype)
    return d * inverse * scale + bias
