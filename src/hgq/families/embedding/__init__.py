"""The embedding family: ``HEmbedding`` (``layer``), its spec and the float ``Embedding``'s (``spec``), hls4ml's
Keras-3 handler of ``Embedding`` and its bit-exact type rule (``hls_handler``). Importing this package registers the
specs and the handler; ``hgq.layers`` re-exports ``HEmbedding``."""

from . import hls_handler, spec  # noqa: F401  (registers the specs and the hls4ml handler)
from .layer import HEmbedding

__all__ = ["HEmbedding"]
