"""What the proxy of every family builds on, below the families: the proxy's quantizer ``FixedPointQuantizer`` (public
as ``hgq.proxy.FixedPointQuantizer``; its spec and hls4ml handler are the quantize family's), the proxy's float64
(``precision``), new quantizers on proxy tensors (``quantize``) and chains of two-input layers, as hls4ml's merges
and concatenates take two (``chain``). The cost model, the saturation pass and the proxy read them too. A family's own proxy layer (``UnaryLUT``, ``Einsum``, ``BatchNormalization``, ``Softmax``) lives in
its package under ``hgq.families``; ``hgq.proxy`` re-exports them all."""

from .fixed_point_quantizer import FixedPointQuantizer

__all__ = ["FixedPointQuantizer"]
