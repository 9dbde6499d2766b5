"""The cost model: every cost of every layer, from one place.

- ``bops``: exact BOPs of H-models (what training minimizes and ``trace_minmax`` returns) and ``beta``.
- ``kernel``: multiplying layers through one protocol (``KernelView``), per-weight BOPs (``weight_bops``) and
  parallel factors.
- ``layer``: all the costs of one layer given its input types (``layer_costs``), which the cost report shows.
- ``types``: fixed-point types of plain weights and of every layer's output; ``bitwidths``: width statistics;
  ``estimates``: LUT, DSP and latency formulas.
"""

# bops first: hgq.proxy, imported by the modules below, reads iter_hlayers while this package is initializing
from .bops import get_beta, iter_hlayers, layer_bops, set_beta, total_bops
from . import estimates
from .bitwidths import bit_width_summary, layer_bit_widths, width_stats
from .kernel import KernelView, kernel_view, parallel_factors, weight_bops
from .layer import LayerCosts, accumulator_bits, layer_costs
from .types import output_kif, total_bits, value_kif

__all__ = ["KernelView", "LayerCosts", "accumulator_bits", "bit_width_summary", "estimates", "get_beta",
           "iter_hlayers", "kernel_view", "layer_bit_widths", "layer_bops", "layer_costs", "output_kif",
           "parallel_factors", "set_beta", "total_bits", "total_bops", "value_kif", "weight_bops", "width_stats"]
