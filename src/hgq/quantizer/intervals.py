"""The types of sums and products of fixed-point values, as hls4ml's bit-exact pass derives them (NumPy).

A value of type ``(k, i, f)`` lies in ``[-k·2^i, 2^i - 2^-f]`` on the grid ``2^-f``; an element of zero width is the
constant 0. A sum of products ``Σ x·w + b`` of such values by constant weights lies in the interval that interval
arithmetic gives, on the finest grid of its terms: a product has ``f_x + f_w`` fractional bits (``f_w`` the fewest
that hold the weight; a zero weight adds no term), a zero-width or padded input counts ``f = 0`` (hls4ml stores it as
``(0, 0, 0)``), a non-zero bias its own. The result's type is the smallest that holds the interval on that grid;
an output that can only be zero has zero width. hls4ml computes the same (``hls4ml.utils.qinterval``).
"""

import numpy as np

from .types import fewest_fractional_bits, integer_bits, total_bits

#: Largest number of (position, term, output) triples evaluated at once (memory of the fractional-bit maximum).
_CHUNK = 1 << 22


def bounds(kif):
    """``(low, high, f)`` of each element of the type ``kif``: its range and fractional bits (``(0, 0, 0)`` for an
    element of zero width)."""
    k, i, f = (np.asarray(a, np.float64) for a in kif)
    live = total_bits((k, i, f)) > 0
    return (np.where(live, -k * 2.0**i, 0.0), np.where(live, 2.0**i - 2.0**-f, 0.0), np.where(live, f, 0.0))


def kif_of_interval(low, high, f):
    """The smallest type holding each ``[low, high]`` on the grid ``2^-f`` (zero width where it is ``{0}``)."""
    zero = (low == 0) & (high == 0)
    k = np.where(low < 0, 1.0, 0.0)
    i = np.maximum(integer_bits(low), integer_bits(high))
    return np.where(zero, 0.0, k), np.where(zero, 0.0, i), np.where(zero, 0.0, f)


def _max_plus(f_cols, f_w):
    """``max over terms t of f_cols[g, p, t] + f_w[g, t, n]``, shaped ``(groups, positions, outputs)``; a term of
    weight ``-inf`` (a zero weight) counts for nothing."""
    groups, positions, terms = f_cols.shape
    outputs = f_w.shape[-1]
    out = np.full((groups, positions, outputs), -np.inf)
    step = max(1, _CHUNK // max(1, groups * positions * terms))
    for start in range(0, outputs, step):
        block = f_cols[:, :, :, None] + f_w[:, None, :, start:start + step]
        out[..., start:start + step] = np.max(block, axis=2, initial=-np.inf)
    return out


def linear_kif(geometry, in_kif, kernel, bias=None):
    """The type of each output element of a linear layer ``Σ x·w + b`` (no activation), shaped like its output
    features.

    Args:
        geometry: the layer's ``columns``, ``kernel_matrix`` and ``output_features``
            (``hgq.families.kernel.geometry``).
        in_kif: the type of each input element, each array shaped like the input features.
        kernel: the kernel's values.
        bias: the bias's values (broadcastable to the output features), or ``None``.
    """
    low, high, f = (geometry.columns(a, fill=0.0) for a in bounds(in_kif))
    w = geometry.kernel_matrix(np.asarray(kernel, np.float64))
    w_pos, w_neg = np.maximum(w, 0.0), np.minimum(w, 0.0)
    out_high = geometry.output_features(high @ w_pos + low @ w_neg)
    out_low = geometry.output_features(low @ w_pos + high @ w_neg)
    out_f = geometry.output_features(_max_plus(f, fewest_fractional_bits(w)))
    if bias is not None:
        b = np.broadcast_to(np.asarray(bias, np.float64), out_f.shape)
        out_low, out_high = out_low + b, out_high + b
        out_f = np.where(b != 0, np.maximum(out_f, fewest_fractional_bits(b)), out_f)
    return kif_of_interval(out_low, out_high, out_f)


def _joint(equation):
    """``(a, b, out, joint)`` letters of a two-operand einsum (no ellipsis), ``joint`` every letter once."""
    inputs, out = equation.split("->")
    a, b = inputs.split(",")
    return a, b, out, "".join(dict.fromkeys(a + b))


def einsum_kif(equation, kif_a, kif_b):
    """The type of each output element of ``einsum(equation, a, b)`` of two typed tensors: per term the interval of
    the product (its four corner products) on the grid ``2^-(f_a + f_b)`` (a zero-width element counting ``f = 0``,
    as hls4ml stores it), summed over the letters the output lacks.

    Args:
        equation: the einsum equation, without ellipsis, of the arrays as given (batch axis included or not).
        kif_a, kif_b: the types of the two operands, each array shaped like its operand.
    """
    a, b, out, joint = _joint(equation)
    (low_a, high_a, f_a), (low_b, high_b, f_b) = bounds(kif_a), bounds(kif_b)
    corners = [np.einsum(f"{a},{b}->{joint}", x, y) for x in (low_a, high_a) for y in (low_b, high_b)]
    ones = np.ones(corners[0].shape)
    terms_f = np.einsum(f"{a},{joint}->{joint}", f_a, ones) + np.einsum(f"{b},{joint}->{joint}", f_b, ones)
    contracted = tuple(n for n, c in enumerate(joint) if c not in out)
    order = [c for c in joint if c in out]
    low = np.sum(np.minimum.reduce(corners), axis=contracted)
    high = np.sum(np.maximum.reduce(corners), axis=contracted)
    f = np.max(terms_f, axis=contracted) if contracted else terms_f
    perm = [order.index(c) for c in out]
    return kif_of_interval(*(np.transpose(x, perm) for x in (low, high, f)))
