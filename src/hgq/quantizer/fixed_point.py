"""Stateless fixed-point arithmetic, written with ``keras.ops`` only.

A fixed-point type is described by ``(k, i, f)``: sign bit, integer bits (sign excluded) and
fractional bits; its total width is ``k + i + f``. Every function here is exact in floating
point as long as the numbers involved fit in the mantissa: scaling by ``2**f`` only moves the
exponent, and ``floor`` of a float is exact.
"""

import math

import keras
import numpy as np
from keras import ops

from ..backend import compiled

LN2 = math.log(2.0)

#: Integer bits reported for a value that is exactly zero (no bit needed).
ZERO_INT_BITS = -128.0

#: The one rounding table. Per training rounding strategy: how the trained model rounds at inference, and the
#: hls4ml rounding mode that computes the same.
ROUNDINGS = {
    "standard_round": ("standard_round", "RND"),
    "stochastic_round": ("standard_round", "RND"),
    "fast_uniform_noise_injection": ("standard_round", "RND"),
    "floor": ("floor", "TRN"),
}

#: Per hls4ml rounding mode: the ``round_to_grid`` rounding that computes it.
HLS_ROUNDINGS = {"TRN": "floor", "RND": "standard_round", "RND_CONV": "half_even"}

#: hls4ml overflow modes (see ``apply_overflow``).
OVERFLOWS = ("WRAP", "SAT", "SAT_SYM")


def training_rounding(strategy, bias_absorbs_rounding):
    """The rounding a quantizer trains with: ``strategy``, where ``"auto"`` rounds half up when a bias can absorb
    the half-step offset (exported as truncation plus a shifted bias, free in hardware) and floors otherwise."""
    if strategy == "auto":
        return "standard_round" if bias_absorbs_rounding else "floor"
    return strategy


def inference_rounding(rounding):
    """How values trained with ``rounding`` are rounded at inference."""
    return ROUNDINGS[rounding][0]


def hls_rounding(rounding):
    """hls4ml's rounding mode (``"RND"``, ``"TRN"``) of values trained with ``rounding``."""
    return ROUNDINGS[rounding][1]


#: Per float dtype: the integer dtype of the same size, mantissa bits and exponent bias.
_FLOAT_LAYOUT = {"float16": ("int16", 10, 15), "bfloat16": ("int16", 7, 127), "float32": ("int32", 23, 127),
                 "float64": ("int64", 52, 1023)}


def pow2(e):
    """``2**e`` in the dtype of ``e`` (exact for integer ``e``)."""
    e = ops.convert_to_tensor(e)
    return ops.power(ops.convert_to_tensor(2.0, dtype=e.dtype), e)


def pow2_and_inverse(n):
    """``(2**n, 2**-n)`` for integer-valued ``n`` (in a float dtype), built from the exponent bits: exact, and much
    cheaper than ``pow`` (one exponent for both). Exact for ``|n|`` below the exponent bias (float32: up to 126; a
    quantizer's bit widths are clipped far inside it); beyond, the nearest powers of that range."""
    n = ops.convert_to_tensor(n)
    int_dtype, mantissa_bits, bias = _FLOAT_LAYOUT[keras.backend.standardize_dtype(n.dtype)]
    biased = ops.clip(ops.cast(n, int_dtype), 1 - bias, bias - 1) + bias
    return (ops.view(ops.left_shift(biased, mantissa_bits), n.dtype),
            ops.view(ops.left_shift(2 * bias - biased, mantissa_bits), n.dtype))


def floor(x):
    """``floor(x)`` in the dtype of ``x``. For float64 not ``ops.floor``: on every backend but TensorFlow, Keras
    computes ``ops.floor``/``ops.ceil`` of a float64 tensor in float32 (``keras.backend.result_type`` maps float64
    to float32 there, even in JAX's 64-bit mode), which is off by one for values within a float32 ulp of an
    integer. ``ops.round`` (half to even) keeps the dtype and is exact; it is at most 0.5 from ``x``, so it is the
    floor unless it lies above ``x``. Other dtypes (training) keep the cheaper ``ops.floor``."""
    if keras.backend.standardize_dtype(x.dtype) != "float64":
        return ops.floor(x)
    r = ops.round(x)
    return r - ops.cast(r > x, r.dtype)


@compiled("rounding", "integer_f")
def round_to_grid(x, f, rounding, noise=None, integer_f=True):
    """Quantize ``x`` to the grid ``2**-f``.

    Args:
        x: values.
        f: fractional bits, broadcastable to ``x``.
        rounding: ``"standard_round"`` (half up), ``"floor"``, ``"half_even"``,
            ``"stochastic_round"`` or ``"fast_uniform_noise_injection"``.
        noise: uniform samples in ``[0, 1)`` shaped like ``x``; required by the two random modes.
        integer_f: whether ``f`` holds integers (a fixed-point result; the steps are then built exactly from the
            exponent bits); ``False`` for the continuous bit widths of ``exact_q_value=False``.
    """
    f = ops.cast(f, x.dtype)
    scale, inverse = pow2_and_inverse(f) if integer_f else (pow2(f), None)
    scaled = x * scale
    if rounding == "standard_round":
        q = floor(scaled + 0.5)
    elif rounding == "floor":
        q = floor(scaled)
    elif rounding == "half_even":
        q = ops.round(scaled)
    elif rounding == "stochastic_round":
        q = floor(scaled + noise)
    elif rounding == "fast_uniform_noise_injection":
        q = scaled + (noise - 0.5)
    else:
        raise ValueError(f"unknown rounding {rounding!r}")
    return q * inverse if integer_f else q / scale  # a product is cheaper than a quotient


def int_bits(v):
    """Integer bits (sign excluded) of the smallest type holding the value ``v``, any step: ``floor(log2(v)) + 1``
    for ``v > 0`` (so that ``v < 2**i``), ``ceil(log2(-v))`` for ``v < 0`` (so that ``v >= -2**i``), ZERO_INT_BITS
    for a zero. Read exactly from the float's bits (no ``log2``): the exponent of ``|v|``, or for a negative ``v`` of
    the float just below ``|v|``, which drops to the next exponent exactly when ``|v|`` is a power of two."""
    int_dtype, mantissa_bits, bias = _FLOAT_LAYOUT[keras.backend.standardize_dtype(v.dtype)]
    width = 8 * np.dtype(int_dtype).itemsize
    raw = ops.view(v, int_dtype)
    sign = ops.right_shift(raw, width - 1)  # -1 for a negative value, else 0
    magnitude = ops.bitwise_and(raw, ops.convert_to_tensor(2 ** (width - 1) - 1, int_dtype))  # the bits of |v|
    exponent = ops.right_shift(magnitude + sign, mantissa_bits)
    return ops.where(v == 0, ZERO_INT_BITS, ops.cast(exponent, v.dtype) - (bias - 1))


def sign_and_int_bits(vmin, vmax):
    """Sign bit and integer bits of the smallest type holding ``[vmin, vmax]`` (any step)."""
    k = ops.cast(vmin < 0, vmin.dtype)
    return k, ops.maximum(int_bits(vmin), int_bits(vmax))  # a positive vmin or a negative vmax never needs more


@compiled()
def kif_from_range(vmin, vmax, f):
    """Sign, integer and fractional bits of the smallest type holding ``[vmin, vmax]`` at step ``2**-f``.

    Elements whose range is empty (``vmax < vmin``, never recorded) or exactly zero get zero width.
    """
    k, i = sign_and_int_bits(ops.cast(vmin, f.dtype), ops.cast(vmax, f.dtype))
    zero_width = (k + i + f <= 0) | (vmax < vmin)
    k = ops.where(zero_width, 0.0, k)
    i = ops.where(zero_width, -f, i)
    return k, i, f


def bits_from_range(vmin, vmax, f):
    """``total_bits(kif_from_range(vmin, vmax, f))`` in fewer ops; the gradient flows through ``f`` only."""
    k, i = sign_and_int_bits(ops.cast(vmin, f.dtype), ops.cast(vmax, f.dtype))
    width = ops.stop_gradient(k + i) + f
    return ops.where((width <= 0) | (vmax < vmin), 0.0, width)


def bits_from_values(v, f):
    """``total_bits(kif_from_range(v, v, f))``: each value's own width; the gradient flows through ``f`` only."""
    v = ops.stop_gradient(v)
    width = ops.stop_gradient(ops.cast(v < 0, f.dtype) + int_bits(v)) + f
    return ops.where(width <= 0, 0.0, width)  # a zero: ZERO_INT_BITS + f <= 0


def total_bits(kif):
    """Total width ``k + i + f`` of each element of the type ``kif`` (tensors), clamped at zero: ``types.total_bits``
    on tensors."""
    k, i, f = kif
    return ops.maximum(k + i + f, 0.0)


def apply_overflow(x, k, i, f, overflow):
    """Apply ``"WRAP"``, ``"SAT"`` or ``"SAT_SYM"`` overflow of type ``(k, i, f)`` to grid values ``x``."""
    high = pow2(i) - pow2(-f)
    if overflow == "WRAP":
        low = k * pow2(i)
        return ops.mod(x + low, pow2(i + k)) - low
    if overflow == "SAT":
        return ops.minimum(ops.maximum(x, -k * pow2(i)), high)
    if overflow == "SAT_SYM":
        return ops.minimum(ops.maximum(x, -k * high), high)
    raise ValueError(f"unknown overflow mode {overflow!r}")
