"""All the costs of one layer, given the types of its inputs: ``layer_costs(layer, input_kifs)``.

The one place that says what a layer costs; the cost report (``hgq.profiling.profile``) is a view of it. Kernel
layers (``KernelView``: H-layers and the plain Dense/Conv of proxy models) cost their multiplications; the other
layers cost at most a table (``UnaryLUT``) and a few cycles. ``docs/cost_report.md`` defines every field.
"""

import dataclasses
import math

import keras
import numpy as np
from keras import ops

from ..layers import HActivation, HAdd
from ..layers.base import QuantizedOutput
from ..proxy.fixed_point_quantizer import FixedPointQuantizer
from ..proxy.unary_lut import UnaryLUT
from ..quantizer import fixed_point as fxp
from . import estimates
from .bitwidths import width_stats
from .kernel import kernel_view
from .types import total_bits

_ACTIVATIONS = (HActivation, UnaryLUT, keras.layers.Activation, keras.layers.ReLU)
_POOLINGS = (keras.layers.MaxPooling1D, keras.layers.MaxPooling2D, keras.layers.AveragePooling1D,
             keras.layers.AveragePooling2D)


@dataclasses.dataclass
class LayerCosts:
    """Costs of one layer; ``None`` means unknown (a float layer) or not applicable (no weights)."""

    params: int | None = None
    macs: int | None = None
    bops: float | None = None
    weight_bits_mean: float | None = None
    weight_bits_max: float | None = None
    pruned_fraction: float | None = None
    accumulator_bits: int | None = None
    weight_memory_bits: int | None = None
    lut_est: float | None = None
    dsp_est: float | None = None
    latency_est_cycles: int | None = None


def accumulator_bits(linear, in_kif, kernel, w_kif, bias, b_kif):
    """Width of the fixed-point type that holds every output's sum ``Σ x·w + b`` exactly.

    Integer part and sign: from the interval bound of the sums over the input types' ranges
    (``[-k·2^i, 2^i - 2^-f]`` per element) and the weight values. Fractional part: the largest ``f_in + f_w``
    over the input channels and weights that meet (both of non-zero width; input ``f`` maximized over
    positions), and the bias's ``f``. 0 when every term is zero.

    Args:
        linear: the layer's multiply-accumulate on NumPy arrays, ``linear(x, w)``.
        in_kif: the types ``(k, i, f)`` of the inputs.
        kernel: the kernel.
        w_kif: the types of the kernel.
        bias: the bias.
        b_kif: the types of the bias.
    """
    k, i, f = in_kif
    live_in = (k + i + f) > 0
    hi = np.where(live_in, 2.0**i - 2.0**-f, 0.0)
    lo = np.where(live_in, -k * 2.0**i, 0.0)
    w_pos, w_neg = np.maximum(kernel, 0.0), np.minimum(kernel, 0.0)
    acc_hi = float(np.max(linear(hi, w_pos) + linear(lo, w_neg) + bias))
    acc_lo = float(np.min(linear(lo, w_pos) + linear(hi, w_neg) + bias))
    if acc_hi == 0.0 and acc_lo == 0.0:
        return 0
    c_in = kernel.shape[-2]
    f_in = np.max(np.where(live_in, f, -np.inf).reshape(-1, c_in), axis=0)
    f_w = np.where(total_bits(w_kif) > 0, w_kif[2], -np.inf).reshape(-1, c_in, kernel.shape[-1])
    f_b = np.where(total_bits(b_kif) > 0, b_kif[2], -np.inf)
    f_acc = max(float(np.max(f_in[None, :, None] + f_w)), float(np.max(f_b, initial=-np.inf)))
    k_acc, i_acc = fxp.sign_and_int_bits(ops.convert_to_tensor(acc_lo), ops.convert_to_tensor(acc_hi))
    return int(float(k_acc) + float(i_acc) + f_acc)


def _kernel_costs(view, in_kif, parallel_factor, dsp_min_bits):
    kernel_size, bias_size = view.sizes()
    positions = view.output_positions()
    known = dict(params=kernel_size + bias_size, macs=positions * kernel_size)
    bops = view.exact_bops()
    if in_kif is None:
        return LayerCosts(**known, bops=bops)  # a float input: widths unknown
    kernel, w_kif, bias, b_kif = view.weights()
    w_bits, b_bits = view.weight_bits(), total_bits(b_kif)
    in_bits = total_bits(in_kif)
    if bops is None:
        bops = float(np.sum(view.weight_input_bits(in_bits) * w_bits))
    lut_bops, dsp_count = estimates.multiplier_split(view.weight_input_bits, in_bits, w_bits, dsp_min_bits)
    share = parallel_factor / positions if view.is_conv else 1.0  # a convolution reuses its multipliers
    fan_in = int(np.max(np.sum(w_bits.reshape(-1, kernel.shape[-1]) > 0, axis=0)))
    groups = math.ceil(positions / parallel_factor) if view.is_conv else 1
    stats = width_stats(w_bits)
    return LayerCosts(
        **known, bops=bops, weight_bits_mean=stats["mean"], weight_bits_max=stats["max"],
        pruned_fraction=stats["pruned"], accumulator_bits=accumulator_bits(view.linear, in_kif, kernel, w_kif,
                                                                           bias, b_kif),
        weight_memory_bits=int(np.sum(w_bits) + np.sum(b_bits)), lut_est=lut_bops * share,
        dsp_est=dsp_count * share, latency_est_cycles=estimates.kernel_latency(fan_in, groups))


def _other_costs(layer, n_inputs):
    """Layers without a kernel: weightless moves and reductions, UnaryLUT tables, or unknown layers."""
    zero = dict(params=0, macs=0, bops=0.0, weight_memory_bits=0, lut_est=0.0, dsp_est=0.0)
    if isinstance(layer, UnaryLUT):
        table_bits = layer.table_size * max(sum(layer.kif_out), 0)
        return LayerCosts(**{**zero, "params": layer.table_size, "weight_memory_bits": table_bits},
                          latency_est_cycles=1)
    if isinstance(layer, _ACTIVATIONS):
        return LayerCosts(**zero, latency_est_cycles=1)
    if isinstance(layer, (HAdd, keras.layers.Add)):
        return LayerCosts(**zero, latency_est_cycles=estimates.reduction_latency(n_inputs))
    if isinstance(layer, _POOLINGS):
        return LayerCosts(**zero, latency_est_cycles=estimates.reduction_latency(int(np.prod(layer.pool_size))))
    if isinstance(layer, (keras.layers.InputLayer, QuantizedOutput, FixedPointQuantizer)) or not layer.weights:
        return LayerCosts(**zero, latency_est_cycles=0)
    return LayerCosts(params=layer.count_params(), macs=0)  # an unknown layer with weights: costs unknown


def layer_costs(layer, input_kifs, parallel_factor=1, dsp_min_bits=estimates.DSP_MIN_BITS):
    """Every cost of ``layer`` (a ``LayerCosts``), given the types of its inputs.

    Args:
        layer: a layer of an H-model, of a proxy model or of a plain Keras model, called in its model.
        input_kifs: the ``(k, i, f)`` of each input (NumPy, each shaped ``(1, *features)``; ``None`` where the
            input is a float), as ``hgq.cost.output_kif`` gives them for the layers that feed it.
        parallel_factor: output positions a convolution computes at once (``parallel_factors``).
        dsp_min_bits: a multiplication goes to a DSP when both operands are at least this wide (estimate).
    """
    view = kernel_view(layer)
    if view is None:
        return _other_costs(layer, len(input_kifs))
    return _kernel_costs(view, input_kifs[0] if input_kifs else None, parallel_factor, dsp_min_bits)
