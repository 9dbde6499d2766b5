"""H-layers (trainable heterogeneous quantization)."""

from ..families.activation import HActivation
from .attention import HMultiHeadAttention
from ..families.hlayer import HLayer
from ..families.kernel import (HConv1D, HConv1DBatchNorm, HConv2D, HConv2DBatchNorm, HDense, HDenseBatchNorm,
                              HEinsumDense, HEinsumDenseBatchNorm)
from ..families.einsum import HEinsum
from ..families.merge import HAdd, HMaximum, HMinimum, HMultiply, HSubtract
from ..families.normalization import HBatchNormalization
from .passthrough import (PAveragePooling1D, PAveragePooling2D, PConcatenate, PFlatten, PMaxPooling1D,
                          PMaxPooling2D, PReshape)
from ..families.quantize import HQuantize, Signature
from ..families.softmax import HSoftmax

__all__ = ["HActivation", "HAdd", "HBatchNormalization", "HConv1D", "HConv1DBatchNorm", "HConv2D", "HConv2DBatchNorm",
           "HDense", "HDenseBatchNorm", "HEinsum", "HEinsumDense", "HEinsumDenseBatchNorm", "HLayer", "HMaximum",
           "HMinimum", "HMultiHeadAttention", "HMultiply", "HQuantize", "HSoftmax", "HSubtract",
           "PAveragePooling1D", "PAveragePooling2D", "PConcatenate", "PFlatten", "PMaxPooling1D", "PMaxPooling2D",
           "PReshape", "Signature"]
