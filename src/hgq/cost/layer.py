"""All the costs of one layer, given the types of its inputs: ``layer_costs(layer, input_kifs)``.

The one place that says what a layer costs; the cost report (``hgq.profiling.profile``) is a view of it. The layer's
spec (``hgq.specs``) answers: a multiplying layer costs its kernels (``hgq.families.costs.kernel_costs``:
multiplications, weights, accumulator), any other layer at most a table and a few cycles. ``docs/cost_report.md``
defines every field.
"""

from ..families import estimates
from ..families.registry import CostRule, spec_of


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
    return spec_of(layer, "layer_costs", CostRule).costs(layer, input_kifs, parallel_factor, dsp_min_bits)
