"""H-layers (trainable heterogeneous quantization)."""

from .activation import HActivation
from .add import HAdd
from .batchnorm import HConv1DBatchNorm, HConv2DBatchNorm, HDenseBatchNorm
from .base import HLayer
from .conv import HConv1D, HConv2D
from .dense import HDense
from .einsum_dense import HEinsumDense
from .passthrough import (PAveragePooling1D, PAveragePooling2D, PConcatenate, PFlatten, PMaxPooling1D,
                          PMaxPooling2D, PReshape, Signature)
from .quantize import HQuantize

__all__ = ["HActivation", "HAdd", "HConv1D", "HConv1DBatchNorm", "HConv2D", "HConv2DBatchNorm", "HDense",
           "HDenseBatchNorm", "HEinsumDense", "HLayer", "HQuantize",
           "PAveragePooling1D", "PAveragePooling2D", "PConcatenate", "PFlatten", "PMaxPooling1D", "PMaxPooling2D",
           "PReshape", "Signature"]
