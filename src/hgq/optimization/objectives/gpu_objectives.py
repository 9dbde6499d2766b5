"""FLOPs on a GPU: structured pruning of neurons and filters (the only objective that shrinks the model)."""

import logging

from ..config import SUPPORTED_STRUCTURES
from .base import ObjectiveEstimator, has_weights, multiplications, pruning_only, structured

log = logging.getLogger(__name__)


class GPUFLOPEstimator(ObjectiveEstimator):
    """FLOPs of a layer: ``2·MACs + n_out`` (a multiply and an add per multiplication, plus the biases), with the
    MACs of the cost model (``hgq.cost.KernelView.macs``: each weight at every output position, so hls4ml's
    ``2·|W|·positions + n_out``). One neuron/filter saves ``2·MACs / n_out + 1``."""

    shrinks_model = True

    @classmethod
    def is_layer_optimizable(cls, layer_attributes):
        return (True, structured()) if has_weights(layer_attributes) else (False, None)

    @classmethod
    def layer_resources(cls, layer_attributes):
        if not has_weights(layer_attributes):
            return [0]
        (_, n_out), macs = multiplications(layer_attributes, cls.__name__)
        return [int(2 * macs + n_out)]

    @classmethod
    def layer_savings(cls, layer_attributes):
        if not has_weights(layer_attributes) or not pruning_only(layer_attributes, "FLOPs"):
            return [0]
        (_, n_out), macs = multiplications(layer_attributes, cls.__name__)
        if layer_attributes.optimization_attributes.structure_type != SUPPORTED_STRUCTURES.STRUCTURED:
            log.warning("FLOPs are saved by structured pruning; use the attributes from is_layer_optimizable(...)")
            return [0]
        return [int(2 * macs // n_out + 1)]
