"""The quantize family: the layers that put a float input on a fixed-point grid, ``HQuantize`` (``layer``) and
``Signature`` (``signature``), the specs of model inputs, of both layers and of the proxy's ``FixedPointQuantizer``
(``spec``) and hls4ml's Keras-3 handler of ``FixedPointQuantizer`` (``hls_handler``). ``FixedPointQuantizer`` itself
sits below the families, in ``hgq.proxy_layers``: every family's proxy quantizes with it. Importing this package
registers the specs and the handler; ``hgq.layers`` re-exports ``HQuantize`` and ``Signature``."""

from . import hls_handler, spec  # noqa: F401  (registers the specs and the hls4ml handler)
from .layer import HQuantize
from .signature import Signature

__all__ = ["HQuantize", "Signature"]
