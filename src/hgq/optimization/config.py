"""The structures that pruning and weight sharing act on. Which of them a layer supports is its spec's
``pruning_structures`` (``hgq.specs``): Dense kernels all four, convolutions all but ``BLOCK``.

1. ``UNSTRUCTURED``: single weights (pruning only).
2. ``STRUCTURED``: whole neurons of a Dense layer (kernel columns) or filters of a convolution
   (``kernel[..., c]``); pruning or weight sharing.
3. ``PATTERN``: the weights one multiplier serves in hls4ml's Resource strategy: the transposed kernel
   (``kernel.T`` for Dense, ``kernel`` moved to ``(C_out, *window, C_in)`` for convolutions), flattened and cut
   into ``pattern_offset`` rows of ``reuse_factor`` consecutive weights; ``consecutive_patterns`` rows form a
   group. Pruning or weight sharing.
4. ``BLOCK``: rectangular blocks of a rank-2 kernel (Dense only).
"""

from enum import Enum


class SUPPORTED_STRUCTURES(Enum):  # hls4ml's name
    UNSTRUCTURED = "unstructured"
    STRUCTURED = "structured"
    PATTERN = "pattern"
    BLOCK = "block"
