"""The passthrough family: the P-layers, which move quantized values without arithmetic cost and carry their types
(``PFlatten``, ``PReshape``, ``PPermute``, ``PConcatenate``, ``PMaxPooling1D/2D``, ``PAveragePooling1D/2D``,
``PGlobalMaxPooling1D/2D``, ``PGlobalAveragePooling1D/2D``, ``PZeroPadding1D/2D``, ``PCropping1D/2D``,
``PUpSampling1D/2D``: ``layers``), and the
specs of them, of the plain Keras layers they export to, of global pooling and of ``Dropout`` (``spec``). Pooling
windows come from the kernel family's ``geometry``. Importing this package registers the specs; ``hgq.layers``
re-exports the P-layers."""

from . import hls_handler, spec  # noqa: F401  (registers the specs, the hls4ml handlers and type rules)
from .layers import (PAveragePooling1D, PAveragePooling2D, PConcatenate, PCropping1D, PCropping2D, PFlatten,
                     PGlobalAveragePooling1D, PGlobalAveragePooling2D, PGlobalMaxPooling1D, PGlobalMaxPooling2D,
                     PMaxPooling1D, PMaxPooling2D, PPermute, PReshape, PUpSampling1D, PUpSampling2D, PZeroPadding1D,
                     PZeroPadding2D)

__all__ = ["PAveragePooling1D", "PAveragePooling2D", "PConcatenate", "PCropping1D", "PCropping2D", "PFlatten",
           "PGlobalAveragePooling1D", "PGlobalAveragePooling2D", "PGlobalMaxPooling1D", "PGlobalMaxPooling2D",
           "PMaxPooling1D", "PMaxPooling2D", "PPermute", "PReshape", "PUpSampling1D", "PUpSampling2D",
           "PZeroPadding1D", "PZeroPadding2D"]
