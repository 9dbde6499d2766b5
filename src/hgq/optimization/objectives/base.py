"""The protocol of an objective (``ObjectiveEstimator``) and the helpers its estimators share.

An objective is used as a class (its methods are class methods), as in hls4ml:
``optimize_model(..., objective=ParameterEstimator, ...)``.

How the optimization loop uses an objective, per layer ``attrs`` (a ``LayerAttributes``):

1. ``ok, opt = objective.is_layer_optimizable(attrs)``; if ``ok``, ``attrs.optimization_attributes = opt``.
2. ``capacity = ((1 - sparsity) * np.array(objective.layer_resources(attrs))).astype(int)``.
3. Rank the layer's groups (weights, neurons/filters, patterns) and solve the knapsack with the item weights
   ``objective.group_resources(attrs, n_groups)``, shape ``(len(layer_resources), n_groups)``. For hls4ml's
   objectives this is ``layer_savings(attrs)`` repeated for every group (all groups of a layer cost the same);
   ``BOPsEstimator`` gives each weight its own BOPs. Groups are in the loop's order: unstructured, the kernel
   flattened in C order; structured, the last kernel axis (neurons, filters); pattern, the groups of
   ``consecutive_patterns`` rows of the transposed kernel (see ``hgq.optimization.config``).

What an objective declares about itself, the loop reads from class attributes of ``ObjectiveEstimator``:
``depends_on_bit_widths`` and ``shrinks_model``. Layer sizes come from the cost model through the attributes
(``args['multiplications']``, ``args['macs']``, ``args['output_positions']``), never from layer types.
"""

import logging

import numpy as np

from ..attributes import OptimizationAttributes
from ..config import SUPPORTED_STRUCTURES

log = logging.getLogger(__name__)


class ObjectiveEstimator:
    """Base class of objectives: the resources of a layer and the savings of one of its groups. Every objective
    given to the loop subclasses it."""

    #: Whether the resources are bit widths (BOPs): ``optimize_model(hold_bit_widths=True)`` can then keep the
    #: widths of kept weights from growing while it fine-tunes a step (``hgq.optimization.keras.widths``).
    depends_on_bit_widths = False

    #: Whether the savings come from removing neurons and filters: the loop then rebuilds the returned model
    #: without them (``hgq.optimization.keras.reduction``).
    shrinks_model = False

    #: Whether a group's knapsack value is its ranking norm times its resources (summed over the objective's
    #: resources): the knapsack then keeps the most important weights per unit of resource and prunes in order of
    #: importance, instead of pruning the most expensive groups first. Set where groups differ in cost because of
    #: what makes them valuable (``BOPsEstimator``: bit-width training widens the weights that matter).
    values_scale_with_resources = False

    @classmethod
    def is_layer_optimizable(cls, layer_attributes):
        """``(optimizable, OptimizationAttributes or None)``: whether the objective can lower this layer's cost,
        and the structure that lowers it best."""
        raise NotImplementedError(f"{cls.__name__}.is_layer_optimizable")

    @classmethod
    def layer_resources(cls, layer_attributes):
        """The layer's resources (one entry per resource of the objective) as if no weight were pruned."""
        raise NotImplementedError(f"{cls.__name__}.layer_resources")

    @classmethod
    def layer_savings(cls, layer_attributes):
        """Resources saved by optimizing one group of the layer's structure (one entry per resource)."""
        raise NotImplementedError(f"{cls.__name__}.layer_savings")

    @classmethod
    def group_resources(cls, layer_attributes, n_groups):
        """Knapsack weights of the layer's ``n_groups`` groups, shape ``(resources, n_groups)``: by default
        ``layer_savings`` for every group."""
        savings = np.asarray(cls.layer_savings(layer_attributes), dtype=np.int64).reshape(-1, 1)
        return np.repeat(savings, n_groups, axis=1)


def has_weights(attrs):
    return bool(attrs.weight_shape)


def multiplications(attrs, who):
    """``((n_in, n_out), macs)`` of the layer's kernel, from the cost model (``args``, set by
    ``get_attributes_from_keras_model``); a clear error when the attributes lack them."""
    try:
        return attrs.args["multiplications"], attrs.args["macs"]
    except KeyError:
        raise ValueError(f"{who}: the multiplications of {attrs.layer_type.__name__} {attrs.name!r} are unknown: "
                         "build the attributes with get_attributes_from_keras_model(model)") from None


def pruning_only(attrs, what):
    """Whether the attributes ask for pruning without weight sharing; warns (and the saving is 0) otherwise."""
    opt = attrs.optimization_attributes
    if opt.weight_sharing:
        log.warning("weight sharing does not decrease %s; use the attributes from is_layer_optimizable(...)", what)
        return False
    if not opt.pruning:
        log.warning("pruning must be enabled to decrease %s; use the attributes from is_layer_optimizable(...)", what)
        return False
    return True


def unstructured():
    return OptimizationAttributes(SUPPORTED_STRUCTURES.UNSTRUCTURED, pruning=True, weight_sharing=False)


def structured():
    return OptimizationAttributes(SUPPORTED_STRUCTURES.STRUCTURED, pruning=True, weight_sharing=False)


def group_size(attrs):
    """Number of weights in one group of the layer's structure."""
    opt = attrs.optimization_attributes
    kind = opt.structure_type
    if kind == SUPPORTED_STRUCTURES.UNSTRUCTURED:
        return 1
    if kind == SUPPORTED_STRUCTURES.STRUCTURED:  # a neuron or filter: the weights of one output
        return multiplications(attrs, "structured pruning")[0][0]
    if kind == SUPPORTED_STRUCTURES.PATTERN:
        return int(np.prod(attrs.weight_shape)) // opt.pattern_offset * opt.consecutive_patterns
    return int(np.prod(opt.block_shape))
