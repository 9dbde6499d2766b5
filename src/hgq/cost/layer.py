"""All the costs of one layer, given the types of its inputs: ``layer_costs(layer, input_kifs)``.

The one place that says what a layer costs; the cost report (``hgq.profiling.profile``) is a view of it. The layer's
spec (``hgq.specs``) answers: a multiplying layer costs its kernels (``kernel_costs``: multiplications, weights,
accumulator), any other layer at most a table and a few cycles. ``docs/cost_report.md`` defines every field.
"""

import dataclasses
import math

import numpy as np

from ..quantizer.intervals import einsum_kif, linear_kif
from ..quantizer.types import total_bits, union_kif
from ..specs.registry import spec_of
from . import estimates
from .bitwidths import width_stats


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


def accumulator_bits(view, in_kif):
    """Width of the fixed-point type that holds every output's sum ``Σ x·w + b`` of the kernel ``view`` exactly,
    given its input types ``in_kif``: the union of the types hls4ml's bit-exact pass derives for the outputs
    (``hgq.quantizer.intervals.linear_kif``, on the exported weights); 0 when every output is zero."""
    kernel, bias, _ = view.weights()
    kif = linear_kif(view.geometry, tuple(np.asarray(a)[0] for a in in_kif), kernel, bias)
    union = union_kif(kif)
    return 0 if union is None else int(sum(union))


def kernel_costs(views, in_kif, parallel_factor, dsp_min_bits):
    """The costs of a layer that multiplies its input by the kernels ``views`` (``KernelView``), given the input's
    type (``None``: a float input, widths unknown)."""
    params = sum(sum(view.sizes()) for view in views)
    macs = sum(view.macs() for view in views)
    exact = [view.exact_bops() for view in views]  # None for a plain layer: counted from the input types
    if in_kif is None:
        return LayerCosts(params=params, macs=macs, bops=None if None in exact else float(sum(exact)))
    in_bits = total_bits(in_kif)
    w_bits = [view.weight_bits() for view in views]
    b_bits = [total_bits(view.weights()[2]) for view in views]
    bops = float(sum(float(np.sum(view.weight_input_bits(in_bits) * w)) if e is None else e
                     for view, w, e in zip(views, w_bits, exact)))
    lut, dsp, latency = 0.0, 0.0, 0
    for view, w in zip(views, w_bits):
        lut_bops, dsp_count = estimates.multiplier_split(view.weight_input_bits, in_bits, w, dsp_min_bits)
        positions = view.output_positions()
        share = parallel_factor / positions if view.reuses_multipliers else 1.0
        groups = math.ceil(positions / parallel_factor) if view.reuses_multipliers else 1
        lut, dsp = lut + lut_bops * share, dsp + dsp_count * share
        latency = max(latency, estimates.kernel_latency(view.fan_in(w), groups))
    stats = width_stats(np.concatenate([w.ravel() for w in w_bits]))
    return LayerCosts(
        params=params, macs=macs, bops=bops, weight_bits_mean=stats["mean"], weight_bits_max=stats["max"],
        pruned_fraction=stats["pruned"], accumulator_bits=max(accumulator_bits(view, in_kif) for view in views),
        weight_memory_bits=int(sum(np.sum(w) + np.sum(b) for w, b in zip(w_bits, b_bits))), lut_est=lut,
        dsp_est=dsp, latency_est_cycles=latency)


def product_costs(equation, input_kifs, input_shapes, exact_bops, dsp_min_bits):
    """The costs of a layer that multiplies two activations, ``einsum(equation, a, b)`` (no ellipsis; batch axes
    included), given the inputs' types (``None``: a float input) and feature shapes. Every product multiplies two
    widths: BOPs are the sum of ``bits_a * bits_b`` over all products (``exact_bops`` when the layer knows them)."""
    def products(a, b):
        return np.einsum(equation, a, b)

    ones = [np.ones((1, *shape)) for shape in input_shapes]
    known = dict(params=0, macs=int(np.sum(products(*ones))), weight_memory_bits=0)
    if any(kif is None for kif in input_kifs):
        return LayerCosts(**known, bops=exact_bops)
    bits = [total_bits(kif) for kif in input_kifs]
    wide = [np.where(b >= dsp_min_bits, 1.0, 0.0) for b in bits]
    bops = float(np.sum(products(*bits))) if exact_bops is None else exact_bops
    union = union_kif(einsum_kif(equation, *input_kifs))
    return LayerCosts(**known, bops=bops, accumulator_bits=0 if union is None else int(sum(union)),
                      lut_est=bops - float(np.sum(products(bits[0] * wide[0], bits[1] * wide[1]))),
                      dsp_est=float(np.sum(products(*wide))),
                      latency_est_cycles=estimates.kernel_latency(int(np.max(products(*ones)))))


def layer_costs(layer, input_kifs, parallel_factor=1, dsp_min_bits=estimates.DSP_MIN_BITS):
    """Every cost of ``layer`` (a ``LayerCosts``), given the types of its inputs.

    Args:
        layer: a layer of an H-model, of a proxy model or of a plain Keras model, called in its model.
        input_kifs: the ``(k, i, f)`` of each input (NumPy, each shaped ``(1, *features)``; ``None`` where the
            input is a float), as ``hgq.cost.output_kif`` gives them for the layers that feed it.
        parallel_factor: output positions a convolution computes at once (``parallel_factors``).
        dsp_min_bits: a multiplication goes to a DSP when both operands are at least this wide (estimate).

    Raises:
        hgq.specs.UnsupportedLayerError: for a layer whose type hgq does not know.
    """
    return spec_of(layer, "layer_costs").costs(layer, input_kifs, parallel_factor, dsp_min_bits)
