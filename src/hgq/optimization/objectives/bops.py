"""BOPs of hgq's H-layers as the pruning objective: pruning and bit-width training then lower the same cost.

A weight's resource is its BOPs, ``hgq.cost.weight_bops``: the width of the weight times the widths of the input
elements it multiplies (summed over a convolution's output positions). The widths are read when the attributes
are built (``get_attributes_from_keras_model``: ``args['weight_bops']``), so the sparsity is relative to the
layer's BOPs at that moment, as hls4ml's objectives are relative to the unpruned layer.

Unlike hls4ml's objectives, the groups of one layer do not all cost the same: the loop must give the knapsack the
item weights ``BOPsEstimator.group_resources(attrs, n_groups)`` (one column per group, in the loop's group order)
instead of repeating ``layer_savings``, which is only the mean saving of a group.
"""

import numpy as np

from ..config import SUPPORTED_STRUCTURES
from .base import ObjectiveEstimator, pruning_only, unstructured


def _bops(attrs):
    return attrs.args.get("weight_bops") if attrs.weight_shape else None


def group_bops(per_weight, attrs):
    """Per-weight BOPs summed over each group of the layer's structure, in the loop's group order."""
    opt = attrs.optimization_attributes
    kind = opt.structure_type
    if kind == SUPPORTED_STRUCTURES.UNSTRUCTURED:
        return per_weight.reshape(-1)  # C order, as np.indices(kernel.shape)
    if kind == SUPPORTED_STRUCTURES.STRUCTURED:
        return per_weight.reshape(-1, per_weight.shape[-1]).sum(axis=0)  # neurons / filters
    if kind == SUPPORTED_STRUCTURES.PATTERN:  # the transposed kernel, flattened, in groups of consecutive rows
        transposed = np.moveaxis(per_weight, -1, 0).reshape(-1)
        return transposed.reshape(opt.pattern_offset // opt.consecutive_patterns, -1).sum(axis=1)
    raise ValueError(f"BOPsEstimator: {kind.value} structures are not supported (layer {attrs.name!r})")


class BOPsEstimator(ObjectiveEstimator):
    """BOPs of H kernel layers (HDense, HConv1D, HConv2D and their batch-norm fused versions), unstructured.

    Layers without known BOPs (plain Keras layers, H-layers whose input is not quantized) are not optimizable.
    Needs no hls4ml config: ``get_attributes_from_keras_model`` gives what it needs.
    """

    #: The resources are bit widths: ``optimize_model(hold_bit_widths=True)`` can keep them from growing while it
    #: fine-tunes a step (``hgq.optimization.keras.widths``).
    depends_on_bit_widths = True

    #: A weight's value is its magnitude times its BOPs: with the magnitude alone, the knapsack removed the widest
    #: weights first (the most BOPs per unit of value), which bit-width training made wide because they matter, and
    #: at hls4ml's example settings every step lost the accuracy (docs/optimization.md).
    values_scale_with_resources = True

    @classmethod
    def is_layer_optimizable(cls, layer_attributes):
        return (True, unstructured()) if _bops(layer_attributes) is not None else (False, None)

    @classmethod
    def layer_resources(cls, layer_attributes):
        bops = _bops(layer_attributes)
        return [0] if bops is None else [int(np.sum(bops))]

    @classmethod
    def layer_savings(cls, layer_attributes):
        """The mean BOPs of a group (rounded, at least 1): for reports only; use ``group_resources``."""
        bops = _bops(layer_attributes)
        if bops is None or not pruning_only(layer_attributes, "BOPs"):
            return [0]
        return [max(1, round(float(np.mean(group_bops(bops, layer_attributes)))))]

    @classmethod
    def group_resources(cls, layer_attributes, n_groups):
        """The BOPs of each group, shape ``(1, n_groups)``."""
        bops = _bops(layer_attributes)
        if bops is None:
            return np.zeros((1, n_groups), dtype=np.int64)
        groups = group_bops(np.asarray(bops), layer_attributes)
        if groups.shape[0] != n_groups:
            raise ValueError(f"BOPsEstimator: layer {layer_attributes.name!r} has {groups.shape[0]} groups of its "
                             f"structure, the loop asked for {n_groups}")
        return groups.astype(np.int64).reshape(1, -1)
