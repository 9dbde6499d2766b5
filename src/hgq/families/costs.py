"""What a layer costs, in the words every spec answers in (``LayerSpec.costs``): ``LayerCosts``, and the costs of
the two kinds of multiplying layers, by kernels (``kernel_costs``) and of two activations (``product_costs``).
``docs/cost_report.md`` defines every field; ``hgq.cost.layer_costs`` asks a layer's spec for them.
"""

import dataclasses
import math

import numpy as np

from ..quantizer.intervals import einsum_kif, linear_kif
from ..quantizer.types import total_bits, union_kif
from . import estimates


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


def width_stats(bits):
    """``{"mean", "min", "max", "pruned", "size"}`` of an array of total bit widths: the mean, smallest and largest
    width, the fraction ``pruned`` of zero-width elements and the number of elements."""
    bits = np.asarray(bits, dtype=np.float64)
    return {"mean": float(bits.mean()), "min": float(bits.min()), "max": float(bits.max()),
            "pruned": float(np.mean(bits == 0)), "size": int(bits.size)}


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
