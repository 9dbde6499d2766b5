"""Vivado/Vitis resources of hls4ml layers: DSPs, DSPs and BRAM, flip-flops.

They need ``args['hls4ml_attributes']``, from ``get_attributes_from_keras_model_and_hls4ml_config``.

In the Resource strategy with reuse factor RF, hls4ml's dense kernel computes ``|W| / RF`` products at once, and
multiplier ``m`` serves the weights ``m·RF ... m·RF + RF - 1`` of the transposed kernel (flattened): a *pattern*.
Pruning a whole pattern removes one multiplier (one DSP when the weights are at least
``hgq.cost.estimates.DSP_MIN_BITS`` wide).
"""

import logging
import math

import numpy as np

from ...families.estimates import DSP_MIN_BITS
from ..attributes import OptimizationAttributes
from ..config import SUPPORTED_STRUCTURES
from .base import ObjectiveEstimator, group_size, has_weights, pruning_only, structured, unstructured

log = logging.getLogger(__name__)

#: Width of a BRAM word.
BRAM_WIDTH = 36


def hls(cls, attrs):
    """The layer's ``hls4mlAttributes``, or a clear error naming what to call."""
    try:
        return attrs.args["hls4ml_attributes"]
    except KeyError:
        raise ValueError(f"{cls.__name__} needs the hls4ml settings of layer {attrs.name!r}: build the attributes "
                         "with get_attributes_from_keras_model_and_hls4ml_config(model, hls4ml_config)") from None


def _size(attrs):
    return int(np.prod(attrs.weight_shape))


def _is_resource(h):
    return h.strategy.lower() == "resource"


def pattern(attrs, reuse_factor, consecutive_patterns=1):
    """Pattern pruning: ``|W| / RF`` patterns (multipliers) of RF weights each."""
    return OptimizationAttributes(SUPPORTED_STRUCTURES.PATTERN, pruning=True, weight_sharing=False,
                                  pattern_offset=_size(attrs) // reuse_factor, consecutive_patterns=consecutive_patterns)


def _patterns_per_multiplier(attrs, h):
    """Whether each pattern of the attributes is exactly the RF weights of one multiplier."""
    opt = attrs.optimization_attributes
    return _size(attrs) // opt.pattern_offset == h.reuse_factor


class VivadoDSPEstimator(ObjectiveEstimator):
    """DSPs: ``|W| / RF`` per layer whose weights are at least ``DSP_MIN_BITS`` wide. Resource strategy: pattern
    pruning (one pattern = one multiplier); Latency strategy: unstructured (each weight is its own multiplier at
    RF=1).

    The threshold is the cost report's (``hgq.cost.estimates.DSP_MIN_BITS``), applied as hls4ml's own estimator
    applies it: to the layer's weight precision, the whole layer in DSPs or none. The report's DSP estimate
    applies it to each multiplication and to both operands, so it puts a product with a narrow weight or a narrow
    input in LUTs."""

    @classmethod
    def _uses_dsp(cls, attrs):
        return has_weights(attrs) and hls(cls, attrs).weight_precision.width >= DSP_MIN_BITS

    @classmethod
    def is_layer_optimizable(cls, layer_attributes):
        if not cls._uses_dsp(layer_attributes):
            return False, None
        h = hls(cls, layer_attributes)
        return (True, pattern(layer_attributes, h.reuse_factor)) if _is_resource(h) else (True, unstructured())

    @classmethod
    def layer_resources(cls, layer_attributes):
        if not cls._uses_dsp(layer_attributes):
            return [0]
        return [_size(layer_attributes) // hls(cls, layer_attributes).reuse_factor]

    @classmethod
    def layer_savings(cls, layer_attributes):
        if not cls._uses_dsp(layer_attributes) or not pruning_only(layer_attributes, "DSPs"):
            return [0]
        h, opt = hls(cls, layer_attributes), layer_attributes.optimization_attributes
        kind = opt.structure_type
        if not _is_resource(h) or kind == SUPPORTED_STRUCTURES.UNSTRUCTURED:
            return [1 if h.reuse_factor == 1 else 0]
        if kind == SUPPORTED_STRUCTURES.STRUCTURED:
            return [1 if h.reuse_factor == h.n_in else 0]
        if kind == SUPPORTED_STRUCTURES.PATTERN:
            return [opt.consecutive_patterns if _patterns_per_multiplier(layer_attributes, h) else 0]
        log.warning("hls4ml has no block sparsity: saving nothing")
        return [0]


class VivadoMultiObjectiveEstimator(ObjectiveEstimator):
    """DSPs and BRAM: ``[|W| / RF, ceil(|W|·bw / (RF·36))]`` (BRAM only for the Resource strategy with RF > 1).
    Pattern pruning groups enough consecutive patterns to free a BRAM word (36 bits, or 72 when ``bw`` does not
    divide 36)."""

    @classmethod
    def is_layer_optimizable(cls, layer_attributes):
        if not has_weights(layer_attributes):
            return False, None
        h = hls(cls, layer_attributes)
        if not (_is_resource(h) and h.reuse_factor > 1):
            return True, unstructured()
        bw = h.weight_precision.width
        consecutive = BRAM_WIDTH // bw if BRAM_WIDTH % bw == 0 else math.ceil(2 * BRAM_WIDTH / bw)
        return True, pattern(layer_attributes, h.reuse_factor, int(consecutive))

    @classmethod
    def layer_resources(cls, layer_attributes):
        if not has_weights(layer_attributes):
            return [0]
        h, size = hls(cls, layer_attributes), _size(layer_attributes)
        dsp = size // h.reuse_factor
        if not (_is_resource(h) and h.reuse_factor > 1):
            return [dsp, 0]
        return [dsp, math.ceil(size * h.weight_precision.width / (h.reuse_factor * BRAM_WIDTH))]

    @classmethod
    def layer_savings(cls, layer_attributes):
        if not has_weights(layer_attributes) or not pruning_only(layer_attributes, "DSPs and BRAM"):
            return [0]
        h, opt = hls(cls, layer_attributes), layer_attributes.optimization_attributes
        if not _is_resource(h):
            return [1 if h.reuse_factor == 1 else 0, 0]
        if h.reuse_factor == 1:
            return [1, 0]
        bw = h.weight_precision.width
        frees_word = (opt.consecutive_patterns * bw == BRAM_WIDTH and BRAM_WIDTH % bw == 0) or (
            opt.consecutive_patterns * bw == 2 * BRAM_WIDTH)
        if opt.structure_type == SUPPORTED_STRUCTURES.PATTERN and _patterns_per_multiplier(layer_attributes, h) \
                and frees_word:
            return [opt.consecutive_patterns, 1]
        log.warning("VivadoMultiObjectiveEstimator: this structure saves neither a DSP nor a BRAM word: saving nothing")
        return [0, 0]


class VivadoFFEstimator(ObjectiveEstimator):
    """Flip-flops (a rough, consistent estimate): weights in FFs unless the Resource strategy puts them in BRAM;
    activations in FFs with io_parallel."""

    @classmethod
    def _mode(cls, attrs):
        h = hls(cls, attrs)
        return h.io_type, ("resource" if _is_resource(h) else "latency")

    @classmethod
    def is_layer_optimizable(cls, layer_attributes):
        if not has_weights(layer_attributes):
            return False, None
        mode = cls._mode(layer_attributes)
        if mode == ("io_stream", "resource"):
            log.warning("FFs are already at their minimum with io_stream and the Resource strategy")
            return False, None
        return True, structured() if mode == ("io_parallel", "resource") else unstructured()

    @classmethod
    def layer_resources(cls, layer_attributes):
        if not has_weights(layer_attributes):
            return [0]
        h, mode = hls(cls, layer_attributes), cls._mode(layer_attributes)
        weights = _size(layer_attributes) * h.weight_precision.width
        outputs = int(np.prod(layer_attributes.output_shape)) * h.output_precision.width
        return [{("io_stream", "resource"): 0, ("io_stream", "latency"): weights,
                 ("io_parallel", "resource"): outputs, ("io_parallel", "latency"): weights + outputs}[mode]]

    @classmethod
    def layer_savings(cls, layer_attributes):
        if not has_weights(layer_attributes) or not pruning_only(layer_attributes, "FFs"):
            return [0]
        h, mode = hls(cls, layer_attributes), cls._mode(layer_attributes)
        kind = layer_attributes.optimization_attributes.structure_type
        bw, out_bw = h.weight_precision.width, h.output_precision.width
        if mode == ("io_stream", "resource"):
            return [0]
        if mode == ("io_parallel", "resource"):
            return [out_bw if kind == SUPPORTED_STRUCTURES.STRUCTURED else 0]
        if kind == SUPPORTED_STRUCTURES.STRUCTURED:  # a neuron: its weights, and its output with io_parallel
            return [h.n_in * bw + (out_bw if mode[0] == "io_parallel" else 0)]
        return [group_size(layer_attributes) * bw]
