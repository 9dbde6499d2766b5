"""Group regularizers that push whole weight groups (neurons, filters, DSP patterns, blocks) towards zero
(``alpha``) or towards their mean (``beta``, weight sharing), in ``keras.ops`` (any backend)."""

import keras
import numpy as np
from keras import ops

from ..config import SUPPORTED_STRUCTURES
from .masking import group_map


class _Structure:
    """The fields of ``OptimizationAttributes`` that ``group_map`` reads."""

    def __init__(self, structure_type, block_shape, pattern_offset, consecutive_patterns):
        self.structure_type = structure_type
        self.block_shape = tuple(block_shape)
        self.pattern_offset = pattern_offset
        self.consecutive_patterns = consecutive_patterns


@keras.saving.register_keras_serializable(package="hgq.optimization")
class DenseRegularizer(keras.regularizers.Regularizer):
    """``alpha · ‖group L2 norms‖_norm + beta · ‖group variances‖_norm`` over the groups of a kernel.

    Args:
        alpha: sparsity penalty (pushes groups to zero).
        beta: variance penalty (pushes the weights of a group to their mean).
        norm: 1 or 2, the norm over groups.
        structure_type: a ``SUPPORTED_STRUCTURES`` or its value (``"unstructured"``, ``"structured"``,
            ``"pattern"``, ``"block"``).
        block_shape, pattern_offset, consecutive_patterns: as in ``OptimizationAttributes``.

    Example:
        >>> layer.kernel.regularizer = DenseRegularizer(1e-4, structure_type="structured")
    """

    def __init__(self, alpha, beta=0, norm=1, structure_type=SUPPORTED_STRUCTURES.UNSTRUCTURED, block_shape=(1, 1),
                 pattern_offset=1, consecutive_patterns=1):
        if norm not in (1, 2):
            raise ValueError(f"{type(self).__name__}: norm must be 1 or 2, got {norm!r}")
        self.alpha, self.beta, self.norm = float(alpha), float(beta), int(norm)
        self.structure_type = SUPPORTED_STRUCTURES(structure_type)
        self.block_shape = tuple(block_shape)
        self.pattern_offset, self.consecutive_patterns = int(pattern_offset), int(consecutive_patterns)

    def _norm(self, x):
        return ops.sum(ops.abs(x)) if self.norm == 1 else ops.sqrt(ops.sum(ops.square(x)))

    def __call__(self, weights):
        if self.structure_type == SUPPORTED_STRUCTURES.UNSTRUCTURED:
            return self.alpha * self._norm(weights) + self.beta * ops.var(weights)
        structure = _Structure(self.structure_type, self.block_shape, self.pattern_offset, self.consecutive_patterns)
        ids = group_map(tuple(weights.shape), structure).ravel()
        n = int(ids.max()) + 1
        count = ops.convert_to_tensor(np.bincount(ids, minlength=n).astype("float32"), weights.dtype)
        ids = ops.convert_to_tensor(ids.astype("int32"))
        flat = ops.reshape(weights, (-1,))
        sq = ops.segment_sum(ops.square(flat), ids, num_segments=n)
        mean = ops.segment_sum(flat, ids, num_segments=n) / count
        variance = ops.maximum(sq / count - ops.square(mean), 0.0)
        return self.alpha * self._norm(ops.sqrt(sq + 1e-12)) + self.beta * self._norm(variance)

    def get_config(self):
        return {"alpha": self.alpha, "beta": self.beta, "norm": self.norm, "structure_type": self.structure_type.value,
                "block_shape": self.block_shape, "pattern_offset": self.pattern_offset,
                "consecutive_patterns": self.consecutive_patterns}


@keras.saving.register_keras_serializable(package="hgq.optimization")
class Conv2DRegularizer(DenseRegularizer):
    """``DenseRegularizer`` refusing ``block`` structures (hls4ml's regularizer of convolution kernels; the loop
    checks each layer's structures against its spec and uses ``DenseRegularizer``). Same arguments."""

    def __init__(self, alpha, beta=0, norm=1, structure_type=SUPPORTED_STRUCTURES.UNSTRUCTURED, pattern_offset=1,
                 consecutive_patterns=1, block_shape=(1, 1)):
        super().__init__(alpha, beta, norm, structure_type, block_shape, pattern_offset, consecutive_patterns)
        if self.structure_type == SUPPORTED_STRUCTURES.BLOCK:
            raise ValueError("Conv2DRegularizer: block structures are supported for rank-2 (Dense) kernels only")


def regularizer_for(opt, alpha, beta):
    """The group regularizer of a kernel for its ``OptimizationAttributes`` ``opt`` (a structure that its layer's
    spec supports: ``pruning_structures``)."""
    return DenseRegularizer(alpha if opt.pruning else 0, beta if opt.weight_sharing else 0, norm=1,
                            structure_type=opt.structure_type, block_shape=opt.block_shape,
                            pattern_offset=opt.pattern_offset, consecutive_patterns=opt.consecutive_patterns)
