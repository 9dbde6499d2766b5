"""The fixed-point math against an independent integer model of ap_fixed."""

import math
import zlib
from fractions import Fraction

import keras
import numpy as np
import pytest
from keras import ops

from hgq.proxy import FixedPointQuantizer
from hgq.quantizer import fixed_point as fxp
from hgq.quantizer.types import total_bits


def ap_fixed_reference(x, k, b, integers, rnd, sat):
    """ap_fixed<b, integers> (ap_ufixed when k == 0) of a float, computed on Python integers."""
    k, b, integers = int(k), int(b), int(integers)
    if b <= 0:
        return 0.0
    f = b - integers
    scaled = Fraction(float(x)) * Fraction(2) ** f
    if rnd == "TRN":
        n = math.floor(scaled)
    elif rnd == "RND":
        n = math.floor(scaled + Fraction(1, 2))
    else:  # RND_CONV
        n = round(scaled)  # Python rounds Fractions half to even
    lo, hi = (-(2 ** (b - 1)), 2 ** (b - 1) - 1) if k else (0, 2 ** b - 1)
    if sat == "WRAP":
        n = (n - lo) % 2 ** b + lo
    elif sat == "SAT":
        n = min(max(n, lo), hi)
    else:  # SAT_SYM
        n = min(max(n, -hi if k else lo), hi)
    return float(Fraction(n) / Fraction(2) ** f)


def _floor_log2_exact(v):
    m, e = math.frexp(v)  # v = m * 2**e with 0.5 <= m < 1
    return e - 1


def _edge_values(dtype, exponents):
    """Powers of two and their neighbours in ``dtype``."""
    dtype = np.dtype(dtype)
    out = []
    for e in exponents:
        p = dtype.type(2.0 ** e)
        out += [p, np.nextafter(p, dtype.type(0)), np.nextafter(p, dtype.type(np.inf))]
    return np.array(out, dtype=dtype)


@pytest.mark.parametrize("dtype, exponents", [("float32", range(-125, 127)), ("float64", range(-1020, 1023, 7)),
                                              ("float16", range(-13, 15))])
def test_int_bits_exact_around_powers_of_two(dtype, exponents):
    # integer bits are read from the float's exponent and mantissa bits: exact over the whole normal range
    v = _edge_values(dtype, exponents)
    got_max = ops.convert_to_numpy(fxp.int_bits(ops.convert_to_tensor(v)))
    got_min = ops.convert_to_numpy(fxp.int_bits(ops.convert_to_tensor(-v)))
    for value, i_max, i_min in zip(v.astype(float), got_max, got_min):
        assert i_max == _floor_log2_exact(value) + 1, value  # smallest i with value < 2**i
        assert i_min == math.ceil(math.log2(Fraction(value))) if value == 2.0 ** _floor_log2_exact(value) \
            else i_min == _floor_log2_exact(value) + 1, value  # smallest i with -value >= -2**i
    zeros = ops.convert_to_numpy(fxp.int_bits(ops.convert_to_tensor(np.array([0.0, -0.0], dtype=dtype))))
    assert zeros.tolist() == [fxp.ZERO_INT_BITS] * 2


def test_kif_from_range_is_the_smallest_type_that_holds_the_range():
    rng = np.random.default_rng(1)
    f = rng.integers(-3, 8, size=500).astype("float32")
    step = 2.0 ** -f
    lo = np.round(rng.normal(size=500) * 20 / step) * step
    hi = np.maximum(lo, np.round(rng.normal(size=500) * 20 / step) * step)
    k, i, ff = (ops.convert_to_numpy(a) for a in fxp.kif_from_range(*(ops.convert_to_tensor(a.astype("float32"))
                                                                        for a in (lo, hi, f))))
    for kk, ii, fi, a, b in zip(k, i, ff, lo, hi):
        if kk + ii + fi <= 0:
            assert a == b == 0
            continue
        assert -kk * 2.0 ** ii <= a and b <= 2.0 ** ii - 2.0 ** -fi  # fits
        assert not (-kk * 2.0 ** (ii - 1) <= a and b <= 2.0 ** (ii - 1) - 2.0 ** -fi)  # one bit less does not
        assert kk == (a < 0)


def test_empty_range_has_zero_width():
    k, i, f = fxp.kif_from_range(ops.convert_to_tensor([np.inf]), ops.convert_to_tensor([-np.inf]),
                                 ops.convert_to_tensor([3.0]))
    assert total_bits([ops.convert_to_numpy(a) for a in (k, i, f)])[0] == 0


@pytest.mark.parametrize("rnd", ["TRN", "RND", "RND_CONV"])
@pytest.mark.parametrize("sat", ["WRAP", "SAT", "SAT_SYM"])
def test_fixed_point_quantizer_matches_ap_fixed(rnd, sat):
    rng = np.random.default_rng(zlib.crc32(f"{rnd}-{sat}".encode()))
    n = 64
    k = rng.integers(0, 2, size=n)
    b = rng.integers(0, 12, size=n)
    integers = rng.integers(-3, 10, size=n)
    integers = np.where(b > 0, np.maximum(integers, k - 8), 0)
    x = np.concatenate([rng.normal(size=(300, n)) * 2.0 ** rng.integers(-4, 9, size=(300, 1)),
                        np.round(rng.normal(size=(100, n)) * 64) / 128])  # many exact ties
    q = FixedPointQuantizer(kbi_shape=(1, n), RND=rnd, SAT=sat, dtype="float64")
    q.build((None, n))
    q.set_kbi(k, b, integers)
    got = ops.convert_to_numpy(q(ops.convert_to_tensor(x)))
    want = np.array([[ap_fixed_reference(v, k[j], b[j], integers[j], rnd, sat) for j, v in enumerate(row)]
                     for row in x])
    assert np.array_equal(got, want)


def test_fixed_point_quantizer_rejects_unknown_modes():
    with pytest.raises(ValueError, match="RND='NEAREST'; allowed: TRN, RND, RND_CONV"):
        FixedPointQuantizer(RND="NEAREST")
    with pytest.raises(ValueError, match="SAT='CLAMP'; allowed: WRAP, SAT, SAT_SYM"):
        FixedPointQuantizer(SAT="CLAMP")


@pytest.mark.parametrize("rounding, expected", [
    ("standard_round", [-0.5, -0.5, 0.0, 0.5, 0.5, 1.0]),
    ("floor", [-1.0, -0.5, -0.5, 0.0, 0.5, 0.5]),
    ("half_even", [-1.0, -0.5, 0.0, 0.0, 0.5, 1.0]),
])
def test_round_to_grid_modes_on_ties(rounding, expected):
    x = keras.ops.convert_to_tensor([-0.75, -0.5, -0.25, 0.25, 0.5, 0.75])
    got = ops.convert_to_numpy(fxp.round_to_grid(x, keras.ops.convert_to_tensor(1.0), rounding))
    assert got.tolist() == expected


@pytest.mark.parametrize("dtype, limit", [("float32", 126), ("float64", 1022), ("float16", 14)])
def test_pow2_and_inverse_are_exact_below_the_exponent_bias(dtype, limit):
    n = np.arange(-limit, limit + 1).astype(dtype)
    power, inverse = (ops.convert_to_numpy(p) for p in fxp.pow2_and_inverse(ops.convert_to_tensor(n)))
    assert power.dtype == inverse.dtype == np.dtype(dtype)
    assert np.array_equal(power, np.ldexp(np.ones_like(n), n.astype(int)))
    assert np.array_equal(inverse, np.ldexp(np.ones_like(n), -n.astype(int)))
    beyond = np.array([-limit - 5, limit + 5], dtype)
    power, inverse = (ops.convert_to_numpy(p).tolist() for p in fxp.pow2_and_inverse(ops.convert_to_tensor(beyond)))
    assert power == [2.0 ** -limit, 2.0 ** limit]  # the nearest power of the range, never garbage
    assert inverse == [2.0 ** limit, 2.0 ** -limit]


@pytest.mark.parametrize("rounding", ["standard_round", "floor", "half_even"])
def test_round_to_grid_with_integer_and_continuous_widths(rounding):
    rng = np.random.default_rng(5)
    x = (rng.normal(size=3000) * 2.0 ** rng.integers(-6, 10, size=3000)).astype("float32")
    f = rng.integers(-23, 24, size=3000).astype("float32")
    integer = ops.convert_to_numpy(fxp.round_to_grid(ops.convert_to_tensor(x), ops.convert_to_tensor(f), rounding))
    generic = ops.convert_to_numpy(fxp.round_to_grid(ops.convert_to_tensor(x), ops.convert_to_tensor(f), rounding,
                                                     integer_f=False))
    assert np.array_equal(integer, generic)
    # the same float32 arithmetic in NumPy, with powers of two from ldexp
    reference = {"standard_round": lambda s: np.floor(s + np.float32(0.5)), "floor": np.floor,
                 "half_even": np.round}[rounding]
    one = np.ones_like(x)
    assert np.array_equal(integer, reference(x * np.ldexp(one, f.astype(int))) * np.ldexp(one, -f.astype(int)))
    continuous = ops.convert_to_numpy(fxp.round_to_grid(ops.convert_to_tensor(x), ops.convert_to_tensor(f + 0.4),
                                                        rounding, integer_f=False))
    assert not np.array_equal(continuous, integer)  # a step of 2**-(f + 0.4), not of 2**-f


def test_fast_bit_widths_equal_the_kif_widths():
    """bits_from_range / bits_from_values (used while training) agree with total_bits(kif_from_range(...))."""
    rng = np.random.default_rng(2)
    f = rng.integers(-4, 10, size=4000).astype("float32")
    step = 2.0 ** -f
    v = (np.round(rng.normal(size=4000) * 2.0 ** rng.integers(-6, 8, size=4000) / step) * step).astype("float32")
    v[::7] = 0.0
    v[1::11] = 2.0 ** rng.integers(-3, 6, size=len(v[1::11]))  # powers of two
    lo = np.minimum(v, np.roll(v, 1))
    hi = np.maximum(v, np.roll(v, 1))
    lo[::13], hi[::13] = np.inf, -np.inf  # never recorded
    t = ops.convert_to_tensor
    for fast, (a, b) in ((fxp.bits_from_range(t(lo), t(hi), t(f)), (lo, hi)),
                         (fxp.bits_from_values(t(v), t(f)), (v, v))):
        slow = total_bits([ops.convert_to_numpy(x) for x in fxp.kif_from_range(t(a), t(b), t(f))])
        assert np.array_equal(ops.convert_to_numpy(fast), slow)
