"""The recurrent family, all in this package: ``HGRU`` and ``HLSTM`` (``layer``), hls4ml's static GRU and LSTM
arithmetic they train with and export (``arithmetic``), the proxy's ``GRU`` and ``LSTM`` (``proxy``), the specs of
these and of the float Keras recurrent layers (``spec``) and hls4ml's Keras-3 handler and bit-exact rules
(``hls_handler``). Importing it registers the specs and the handler; ``hgq.layers`` re-exports ``HGRU`` and
``HLSTM``, ``hgq.proxy`` re-exports ``GRU`` and ``LSTM``."""

from . import hls_handler, spec  # noqa: F401  (registers the specs and the hls4ml handler)
from .layer import HGRU, HLSTM
from .proxy import GRU, LSTM

__all__ = ["GRU", "HGRU", "HLSTM", "LSTM"]
