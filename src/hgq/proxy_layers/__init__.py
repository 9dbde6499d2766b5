"""The proxy model's own layer classes, each read by hls4ml through a Keras-3 handler of hgq's
(``hgq.proxy.hls_handlers``): ``FixedPointQuantizer``, ``UnaryLUT``, ``Einsum`` and
``BatchNormalization`` (read with hls4ml's handler of Keras' own). They sit below the specs, the cost model and the
proxy, which read them; public as ``hgq.proxy.*``. Beside them, what every proxy converter builds with: the proxy's
float64 (``precision``) and new quantizers on proxy tensors (``quantize``)."""

from .einsum import Einsum
from .fixed_point_quantizer import FixedPointQuantizer

__all__ = ["Einsum", "FixedPointQuantizer"]
