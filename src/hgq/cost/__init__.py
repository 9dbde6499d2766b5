"""The cost model: every cost of every layer, from one place.

- ``bops``: exact BOPs of H-models (what training minimizes and ``trace_minmax`` returns) and ``beta``.
- ``kernel``: kernels through one protocol (``KernelView``, given by each layer's spec), per-weight BOPs
  (``weight_bops``) and parallel factors.
- ``layer``: all the costs of one layer given its input types (``layer_costs``), which the cost report shows.
- ``types``: the type of every layer's output; ``bitwidths``: width statistics; ``estimates``: LUT, DSP and
  latency formulas.

Every layer type answers through its spec (``hgq.specs``); a type without one is refused by name.
"""

from . import estimates
from .bitwidths import bit_width_summary, layer_bit_widths, width_stats
from .bops import get_beta, iter_hlayers, layer_bops, set_beta, total_bops
from .kernel import KernelView, kernel_views, parallel_factors, weight_bops
from .layer import LayerCosts, accumulator_bits, kernel_costs, layer_costs
from .types import output_kif
from ..quantizer.types import total_bits

__all__ = ["KernelView", "LayerCosts", "accumulator_bits", "bit_width_summary", "estimates", "get_beta",
           "iter_hlayers", "kernel_costs", "kernel_views", "layer_bit_widths", "layer_bops", "layer_costs",
           "output_kif", "parallel_factors", "set_beta", "total_bits", "total_bops", "weight_bops", "width_stats"]
