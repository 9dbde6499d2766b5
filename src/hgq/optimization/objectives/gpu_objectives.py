"""FLOPs on a GPU: structured pruning of neurons and filters (the only objective that shrinks the model)."""

import logging

import numpy as np

from ..config import SUPPORTED_STRUCTURES
from . import ObjectiveEstimator, has_weights, is_conv, is_dense, output_positions, pruning_only, structured

log = logging.getLogger(__name__)


def _check_kind(attrs):
    if not (is_dense(attrs) or is_conv(attrs)):
        raise ValueError(f"GPUFLOPEstimator: FLOPs of {attrs.layer_type.__name__} {attrs.name!r} are unknown "
                         "(Dense, Conv1D and Conv2D only)")


class GPUFLOPEstimator(ObjectiveEstimator):
    """FLOPs of a layer: ``2·|W|·positions + n_out`` (a multiply and an add per weight at each output position,
    plus the biases), where ``positions`` is 1 for a Dense on vectors and the output pixels of a convolution.
    One neuron/filter saves ``2·|W| / n_out · positions + 1``."""

    @classmethod
    def is_layer_optimizable(cls, layer_attributes):
        return (True, structured()) if has_weights(layer_attributes) else (False, None)

    @classmethod
    def layer_resources(cls, layer_attributes):
        if not has_weights(layer_attributes):
            return [0]
        _check_kind(layer_attributes)
        shape = layer_attributes.weight_shape
        return [int(2 * np.prod(shape) * output_positions(layer_attributes) + shape[-1])]

    @classmethod
    def layer_savings(cls, layer_attributes):
        if not has_weights(layer_attributes) or not pruning_only(layer_attributes, "FLOPs"):
            return [0]
        _check_kind(layer_attributes)
        if layer_attributes.optimization_attributes.structure_type != SUPPORTED_STRUCTURES.STRUCTURED:
            log.warning("FLOPs are saved by structured pruning; use the attributes from is_layer_optimizable(...)")
            return [0]
        shape = layer_attributes.weight_shape
        return [int(2 * np.prod(shape[:-1]) * output_positions(layer_attributes) + 1)]
