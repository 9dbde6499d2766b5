"""The softmax family, all in this package: ``HSoftmax`` (``layer``), hls4ml's table arithmetic it trains with and
exports (``tables``), the proxy's ``Softmax`` (``proxy``), the specs of ``HSoftmax``, of ``Softmax`` and of the float
``keras.layers.Softmax`` (``spec``) and hls4ml's Keras-3 handler of ``Softmax`` (``hls_handler``). Importing it
registers the specs and the handler; ``hgq.layers`` re-exports ``HSoftmax`` and ``hgq.proxy`` re-exports
``Softmax``, so ``import hgq`` imports it."""

from . import hls_handler, spec  # noqa: F401  (registers the specs and the hls4ml handler)
from .layer import HSoftmax
from .proxy import Softmax

__all__ = ["HSoftmax", "Softmax"]
