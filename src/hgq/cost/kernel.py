"""The kernels of a model's layers as their specs give them (``hgq.families.kernel_view.KernelView``), per-weight BOPs
and the parallel factors of the layers that reuse their multipliers."""

import numpy as np

from .. import graph
from ..proxy_layers.fixed_point_quantizer import FixedPointQuantizer
from ..quantizer.types import as_numpy
from ..families.registry import CostRule, find_spec


def kernel_views(layer):
    """The kernels of ``layer`` as its spec gives them (``[]`` for a layer that does not multiply)."""
    spec = find_spec(layer, CostRule)
    return [] if spec is None else spec.kernels(layer)


def weight_bops(layer, in_bits=None):
    """BOPs of each weight of a layer with one kernel, shaped like the kernel: ``weight_input_bits(in_bits)`` times the
    weight's width (zero for a pruned weight). For an H-layer they sum to ``layer.bops()``.

    Args:
        layer: an H kernel layer, or a plain Keras Dense/Conv of a proxy model.
        in_bits: width of each input element, shaped ``(1, *input features)``; default: the H-layer's
            ``input_bits()`` (from its calibrated input).
    """
    views = kernel_views(layer)
    if len(views) != 1:
        raise ValueError(f"weight_bops: {type(layer).__name__} {layer.name!r} does not multiply by one kernel")
    view = views[0]
    in_bits = as_numpy(layer.input_bits()) if in_bits is None else in_bits
    w_bits = view.weight_bits()
    return np.broadcast_to(view.weight_input_bits(in_bits) * w_bits, w_bits.shape)


def parallel_factors(model):
    """``{layer name: parallel factor}`` of every layer of ``model`` whose kernels reuse their multipliers over the
    output positions (convolutions): the output positions it computes at once. An H-layer's own
    ``parallel_factor``; for a plain convolution of a proxy model the ``parallelization_factor`` of the hls4ml
    ``overrides`` that its output ``FixedPointQuantizer`` carries (1 without)."""
    overrides = {}
    for layer in graph.layers_of_type(model, FixedPointQuantizer):
        for name, cfg in layer.overrides.get("layers", {}).items():
            overrides[name] = int(cfg.get("parallelization_factor", 1))
    return {layer.name: overrides.get(layer.name, find_spec(layer, CostRule).parallel_factor(layer))
            for _, layer in graph.flat_layers(model) if any(v.reuses_multipliers for v in kernel_views(layer))}
