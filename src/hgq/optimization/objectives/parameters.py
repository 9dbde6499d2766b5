"""The number of non-zero weights as the pruning objective (unstructured pruning)."""

import numpy as np

from .base import ObjectiveEstimator, group_size, has_weights, pruning_only, unstructured


class ParameterEstimator(ObjectiveEstimator):
    """Number of non-zero weights (unstructured pruning)."""

    @classmethod
    def is_layer_optimizable(cls, layer_attributes):
        return (True, unstructured()) if has_weights(layer_attributes) else (False, None)

    @classmethod
    def layer_resources(cls, layer_attributes):
        return [int(np.prod(layer_attributes.weight_shape))] if has_weights(layer_attributes) else [0]

    @classmethod
    def layer_savings(cls, layer_attributes):
        if not has_weights(layer_attributes) or not pruning_only(layer_attributes, "the number of parameters"):
            return [0]
        return [group_size(layer_attributes)]
