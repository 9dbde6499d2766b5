"""What the specs of composite layers (attention, separable convolutions: H-layers made of H-layer parts) share:
their costs are their parts' (``composite_costs``), their kernels the parts' kernels (``part_kernels``); the float
layers they replace have no costs of their own (``CostsOfTheHLayer``)."""

import dataclasses
import math

from .costs import LayerCosts
from .registry import CostRule, UnsupportedLayerError, spec_of


def part_kernels(layer):
    """The kernels (``KernelView``) of every part of the composite ``layer``."""
    return [view for part in layer.parts() for view in spec_of(part, "kernels", CostRule).kernels(part)]


def composite_costs(layer, dsp_min_bits, steps, weighed):
    """The costs of the composite ``layer``: its parts' summed (each given the types its inputs have), the width
    statistics over the weights of the parts ``weighed``, the largest accumulator, and the latency of the critical
    path ``steps`` (tuples of parts that run side by side, in order)."""
    specs = {part: spec_of(part, "layer_costs", CostRule) for part in layer.parts()}
    parts = {part: spec.costs(part, part.input_types(), spec.parallel_factor(part), dsp_min_bits)
             for part, spec in specs.items()}
    total = {}
    for field in dataclasses.fields(LayerCosts):
        values = [getattr(costs, field.name) for costs in parts.values()]
        total[field.name] = None if any(v is None for v in values) else sum(values)
    for field in ("weight_bits_mean", "weight_bits_max", "pruned_fraction"):
        total[field] = _over_weights(field, [parts[p] for p in weighed], [math.prod(p.kernel.shape) for p in weighed])
    total["latency_est_cycles"] = sum(max(parts[part].latency_est_cycles or 0 for part in step) for step in steps)
    total["accumulator_bits"] = max(costs.accumulator_bits or 0 for costs in parts.values())
    return LayerCosts(**total)


def _over_weights(field, costs, sizes):
    """A width statistic of the weights of several parts together (the mean weighted by their sizes)."""
    values = [getattr(c, field) for c in costs]
    if any(v is None for v in values):
        return None
    if field == "weight_bits_max":
        return max(values)
    return sum(v * n for v, n in zip(values, sizes)) / sum(sizes)


class CostsOfTheHLayer:
    """Spec mixin of a float layer that ``quantize_model`` replaces with a composite H-layer (``h_layer``, its name):
    its kernels and costs are the H-layer's, and asked of the float layer they are refused by name."""

    h_layer = None

    def kernels(self, layer):
        raise self._refusal(layer)

    def costs(self, layer, input_kifs, parallel_factor, dsp_min_bits):
        raise self._refusal(layer)

    def _refusal(self, layer):
        return UnsupportedLayerError(f"layer {layer.name!r}: the costs of a float {type(layer).__name__} are not "
                                     f"modelled; make an {self.h_layer} of it (hgq.quantize_model)")
