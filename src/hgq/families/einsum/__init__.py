"""The einsum family: ``HEinsum``, the einsum of two quantized tensors (``layer``), the proxy's ``Einsum`` (``proxy``),
the specs of both (``spec``) and hls4ml's Keras-3 handler of ``Einsum`` (``hls_handler``). The equation's letters
are read with the kernel family's ``einsum_geometry``. Importing this package registers the specs and the handler;
``hgq.layers`` re-exports ``HEinsum`` and ``hgq.proxy`` re-exports ``Einsum``."""

from . import hls_handler, spec  # noqa: F401  (registers the specs and the hls4ml handler)
from .layer import HEinsum
from .proxy import Einsum

__all__ = ["Einsum", "HEinsum"]
