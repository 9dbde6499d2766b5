"""Bit-width statistics of H-layers (``hgq.families.costs.width_stats`` of each quantized tensor): the one summary of
widths that ``bit_width_summary``, the cost report and the profiling plots share."""

from ..graph import layers_of_type
from ..families.hlayer import HLayer
from ..quantizer.types import as_numpy
from ..families.costs import width_stats
from .kernel import kernel_views


def layer_bit_widths(layer, missing_ok=False):
    """Total bit width of each element of an H-layer's quantized tensors, as flat float64 arrays:
    ``{"kernel": per weight (layers with a kernel), "output": per output element}``.

    Output widths come from the recorded ranges: a layer never calibrated or trained raises ``ValueError``, or
    with ``missing_ok`` has no ``"output"`` entry.
    """
    widths = {}
    views = kernel_views(layer)
    for view in views:  # one kernel: "kernel"; several (attention): "<projection>/kernel"
        widths["kernel" if len(views) == 1 else f"{view.name}/kernel"] = view.weight_bits().ravel()
    try:
        widths["output"] = as_numpy(layer.output_bits()).ravel()
    except ValueError:
        if not missing_ok:
            raise
    return widths


def bit_width_summary(model):
    """Total bit widths of every H-layer's quantized tensors: ``{layer: {"kernel"|"output": stats}}``.

    ``stats`` (``width_stats``) holds the ``mean``, ``min`` and ``max`` width, the fraction ``pruned`` of
    zero-width elements (pruned weights, or outputs that are always zero) and the number of elements ``size``.
    Output widths come from the recorded ranges: calibrate (``trace_minmax``) first for exact numbers.
    """
    return {layer.name: {kind: width_stats(bits) for kind, bits in layer_bit_widths(layer).items()}
            for layer in layers_of_type(model, HLayer)}
