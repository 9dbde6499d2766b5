"""The normalization family: ``HBatchNormalization`` (``layer``; the state and arithmetic it shares with the batch-norm
fused kernel layers come from the kernel family), the proxy's ``BatchNormalization`` (``proxy``), the specs of
``HBatchNormalization`` and of the float ``keras.layers.BatchNormalization`` (``spec``) and hls4ml's Keras-3 handler
of ``BatchNormalization`` (``hls_handler``). Importing this package registers the specs and the handler;
``hgq.layers`` re-exports ``HBatchNormalization`` and ``hgq.proxy`` re-exports ``BatchNormalization``."""

from . import hls_handler, spec  # noqa: F401  (registers the specs and the hls4ml handler)
from .layer import HBatchNormalization
from .proxy import BatchNormalization

__all__ = ["BatchNormalization", "HBatchNormalization"]
