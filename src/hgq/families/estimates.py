"""Hardware estimates of one layer: DSPs, LUTs and latency in clock cycles.

These are **estimates** from bit widths and layer geometry, not synthesis results; ``docs/cost_report.md``
gives their sources and limits. Every function here is a small formula on bit widths and layer geometry.
"""

import math

import numpy as np

#: A multiplication goes to a DSP when both operands are at least this wide. hls4ml's own Vivado DSP estimator
#: (``hls4ml.optimization.dsp_aware_pruning.objectives.vivado_objectives``) counts no DSP for weights narrower
#: than 9 bits; the report applies the same threshold to each multiplication, to both operands (a product with
#: a narrow operand is a few shifted additions, which synthesis puts in LUTs).
DSP_MIN_BITS = 9

#: Cycles of the multiplier stage and of the output stage (bias, activation, quantization) of a multiplying layer.
MULTIPLIER_CYCLES = 1
OUTPUT_CYCLES = 1


def multiplier_split(weight_input_bits, in_bits, w_bits, dsp_min_bits=DSP_MIN_BITS):
    """Split a layer's multiplications between DSPs and LUTs.

    A multiplication of an input element of width ``b_in`` by a weight of width ``b_w`` (both non-zero) goes to
    a DSP when ``b_in >= dsp_min_bits`` and ``b_w >= dsp_min_bits``, else to LUTs.

    Args:
        weight_input_bits: the layer's geometry, ``weight_input_bits(x)``: for each weight the sum of the input
            values ``x`` it multiplies over all output positions, as NumPy (see ``hgq.cost.KernelView``).
        in_bits: width of each input element, shaped ``(1, *input features)``.
        w_bits: width of each weight, shaped like the kernel.
        dsp_min_bits: the threshold above.

    Returns:
        ``(lut_bops, dsp_count)``: the BOPs of the LUT multiplications and the number of DSP multiplications.
    """
    wide_in = np.where(in_bits >= dsp_min_bits, 1.0, 0.0)
    wide_w = np.where(w_bits >= dsp_min_bits, 1.0, 0.0)
    dsp_count = float(np.sum(weight_input_bits(wide_in) * wide_w))
    dsp_bops = float(np.sum(weight_input_bits(in_bits * wide_in) * (w_bits * wide_w)))
    return float(np.sum(weight_input_bits(in_bits) * w_bits)) - dsp_bops, dsp_count


def kernel_latency(fan_in, groups=1):
    """Clock cycles of a multiplying layer: ``MULTIPLIER_CYCLES + ceil(log2(fan_in)) + OUTPUT_CYCLES + groups - 1``.

    One cycle per pipeline stage: the multipliers, one level of a binary adder tree per doubling of the terms,
    the output; ``groups`` sets of outputs computed one after the other on the same (pipelined) multipliers
    (a convolution's output positions divided by its ``parallel_factor``) add one cycle each.

    Args:
        fan_in: the largest number of non-zero products summed into one output.
        groups: how many times the multipliers are reused (1: fully parallel).
    """
    adder_levels = math.ceil(math.log2(fan_in)) if fan_in > 1 else 0
    multipliers = MULTIPLIER_CYCLES if fan_in > 0 else 0
    return multipliers + adder_levels + OUTPUT_CYCLES + groups - 1


def reduction_latency(n):
    """Clock cycles of an ``n``-input element-wise reduction (sum of ``n`` inputs, max or mean over a pool of
    ``n``): ``ceil(log2(n))`` levels of a binary tree."""
    return math.ceil(math.log2(n)) if n > 1 else 0
