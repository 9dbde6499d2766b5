"""The cost model: every cost of every layer, from one place.

- ``bops``: exact BOPs of H-models (what training minimizes and ``trace_minmax`` returns) and ``beta``.
- ``kernel``: the kernels of a layer (``kernel_views``: ``KernelView``s, given by its spec), per-weight BOPs
  (``weight_bops``) and parallel factors.
- ``layer``: all the costs of one layer given its input types (``layer_costs``), which the cost report shows.
- ``types``: the type of every layer's output; ``bitwidths``: width statistics.

Every layer type answers through its spec (``hgq.specs``); a type without one is refused by name. The words the
specs answer in sit below the cost model, with the specs, and are re-exported here: ``KernelView``
(``hgq.families.kernel_view``), ``LayerCosts``, ``kernel_costs``, ``accumulator_bits``, ``width_stats``
(``hgq.families.costs``) and ``estimates``, the LUT, DSP and latency formulas (``hgq.families.estimates``).
"""

from ..quantizer.types import total_bits
from ..families import estimates
from ..families.costs import LayerCosts, accumulator_bits, kernel_costs, width_stats
from ..families.kernel_view import KernelView
from .bitwidths import bit_width_summary, layer_bit_widths
from .bops import get_beta, iter_hlayers, layer_bops, set_beta, total_bops
from .kernel import kernel_views, parallel_factors, weight_bops
from .layer import layer_costs
from .types import output_kif

__all__ = ["KernelView", "LayerCosts", "accumulator_bits", "bit_width_summary", "estimates", "get_beta",
           "iter_hlayers", "kernel_costs", "kernel_views", "layer_bit_widths", "layer_bops", "layer_costs",
           "output_kif", "parallel_factors", "set_beta", "total_bits", "total_bops", "weight_bops", "width_stats"]
