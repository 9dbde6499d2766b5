"""Fixed-point types as NumPy arrays: the one place for hls4ml's convention and for the smallest type of values.

hgq describes a type by ``(k, i, f)``: sign bit, integer bits without the sign, fractional bits (total width
``k + i + f``). hls4ml describes it by ``(keep_negative, bits, integers)``: sign, total width and integer width
*including* the sign (``ap_fixed<bits, integers>``, or ``ap_ufixed<bits, integers>`` without a sign). An element of
zero width is always zero; in hls4ml's convention it is stored as ``(0, 0, 0)``.

Every function takes and returns float64 arrays (a type as a tuple of three arrays of one shape), except the
``union`` and text helpers, which return Python numbers and strings.
"""

import numpy as np
from keras import ops

#: A zero needs no bit. Its type for ``minimal_kif``: ``"neutral"`` (``(0, -inf, -inf)``: it never widens the
#: union of a group of types) or ``"hls4ml"`` (``(0, 0, 0)``: as hls4ml's bit-exact flow counts it, so that a zero
#: among values below 1 widens the group's type to ``i = 0``).
ZEROS = ("neutral", "hls4ml")


def as_numpy(x):
    """``x`` (a tensor, a variable or an array) as a float64 NumPy array."""
    return np.asarray(ops.convert_to_numpy(x), dtype=np.float64)


def total_bits(kif):
    """Total width ``k + i + f`` of each element of the type ``kif``, clamped at zero."""
    k, i, f = kif
    return np.maximum(np.asarray(k, np.float64) + i + f, 0.0)


def all_values(k, i, f):
    """Every value of ``fixed<k, i, f>`` in raw-bit order (index ``n`` holds the value whose raw bits are ``n``)."""
    b = k + i + f
    n = np.arange(2**b, dtype=np.float64)
    if k:
        n = np.where(n >= 2 ** (b - 1), n - 2**b, n)
    return n * 2.0**-f


def kbi_from_kif(kif):
    """hls4ml's ``(keep_negative, bits, integers)`` of the type ``kif`` (all zero where the width is zero)."""
    k, i, f = (np.asarray(a, np.float64) for a in kif)
    bits = total_bits((k, i, f))
    live = bits > 0
    return np.where(live, k, 0.0), bits, np.where(live, k + i, 0.0)


def kif_from_kbi(kbi):
    """The ``(k, i, f)`` of hls4ml's ``(keep_negative, bits, integers)`` (all zero where ``bits`` is zero)."""
    k, bits, integers = (np.asarray(a, np.float64) for a in kbi)
    live = bits > 0
    return np.where(live, k, 0.0), np.where(live, integers - k, 0.0), np.where(live, bits - integers, 0.0)


def fewest_fractional_bits(values):
    """The fewest fractional bits that hold each value exactly (``-inf`` for a zero), read from its binary
    mantissa: exact for every float64."""
    v = np.asarray(values, dtype=np.float64)
    mantissa, exponent = np.frexp(v)
    m = np.abs(mantissa * 2.0**53).astype(np.int64)  # exact: |mantissa| < 1
    lowest = np.where(m > 0, m & -m, 1)  # the lowest set bit of the mantissa
    return np.where(v != 0, 53.0 - exponent - np.log2(lowest), -np.inf)


def integer_bits(values):
    """The fewest integer bits (sign excluded) of each value, any step: ``floor(log2 v) + 1`` for ``v > 0`` (so that
    ``v < 2^i``), ``ceil(log2 -v)`` for ``v < 0`` (so that ``v >= -2^i``), ``-inf`` for a zero."""
    v = np.asarray(values, dtype=np.float64)
    mantissa, exponent = np.frexp(v)  # |v| = |mantissa| * 2^exponent, 0.5 <= |mantissa| < 1: exact
    power_of_two = np.abs(mantissa) == 0.5
    i = np.where(v > 0, exponent, exponent - power_of_two).astype(np.float64)
    return np.where(v == 0, -np.inf, i)


def minimal_kif(values, zeros="neutral"):
    """The smallest type ``(k, i, f)`` of each value: ``f`` the fewest fractional bits that hold it exactly, ``k``
    its sign and ``i`` the fewest integer bits; a zero gets no bits (``zeros``: see ``ZEROS``)."""
    if zeros not in ZEROS:
        raise ValueError(f"minimal_kif: zeros={zeros!r}; allowed: {', '.join(ZEROS)}")
    v = np.asarray(values, dtype=np.float64)
    zero_i = -np.inf if zeros == "neutral" else 0.0
    f = fewest_fractional_bits(v)
    return (np.where(v < 0, 1.0, 0.0), np.where(v == 0, zero_i, integer_bits(v)), np.where(v == 0, zero_i, f))


def union_kif(kif, live_only=True):
    """One type ``(k, i, f)`` (Python ints) holding every element of ``kif``: the most sign, integer and fractional
    bits, over the elements of non-zero width only when ``live_only``; ``None`` when no element counts."""
    k, i, f = np.broadcast_arrays(*(np.asarray(a, np.float64) for a in kif))
    counted = total_bits((k, i, f)) > 0 if live_only else np.isfinite(i) & np.isfinite(f)
    if not np.any(counted):
        return None
    return tuple(int(np.max(a[counted])) for a in (k, i, f))


def hls_type_name(k, bits, integers):
    """``ap_fixed<bits,integers>`` or ``ap_ufixed<bits,integers>``: hls4ml's C++ name of one type."""
    return f"{'ap_fixed' if k else 'ap_ufixed'}<{int(bits)},{int(integers)}>"
