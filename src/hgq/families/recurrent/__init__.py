"""The recurrent family, all in this package: ``HGRU``, ``HLSTM`` and ``HBidirectional`` (``layer``), hls4ml's static
GRU and LSTM arithmetic they train with and export (``arithmetic``), the proxy's ``GRU``, ``LSTM`` and ``Bidirectional``
(``proxy``), the specs of these and of the float Keras recurrent layers (``spec``) and hls4ml's Keras-3 handlers and
bit-exact rules (``hls_handler``). Importing it registers the specs and the handlers; ``hgq.layers`` re-exports the
H-layers, ``hgq.proxy`` the proxy layers."""

from . import hls_handler, spec  # noqa: F401  (registers the specs and the hls4ml handler)
from .layer import HGRU, HLSTM, HBidirectional
from .proxy import GRU, LSTM, Bidirectional

__all__ = ["GRU", "HGRU", "HLSTM", "LSTM", "Bidirectional", "HBidirectional"]
