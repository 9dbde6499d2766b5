"""The layer normalization family, all in this package: ``HLayerNormalization`` (``layer``), hls4ml's arithmetic it
trains with and exports (``arithmetic``), the proxy's ``LayerNormalization`` (``proxy``), the specs of both and of the
float ``keras.layers.LayerNormalization`` (``spec``) and hls4ml's Keras-3 handler and bit-exact rules
(``hls_handler``). Importing it registers the specs and the handler; ``hgq.layers`` re-exports
``HLayerNormalization`` and ``hgq.proxy`` re-exports ``LayerNormalization``."""

from . import hls_handler, spec  # noqa: F401  (registers the specs and the hls4ml handler)
from .layer import HLayerNormalization
from .proxy import LayerNormalization

__all__ = ["HLayerNormalization", "LayerNormalization"]
