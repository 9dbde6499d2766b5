"""H-layers (trainable heterogeneous quantization)."""

from ..families.activation import HActivation
from .add import HAdd
from .batchnorm import HConv1DBatchNorm, HConv2DBatchNorm, HDenseBatchNorm, HEinsumDenseBatchNorm
from .attention import HMultiHeadAttention
from ..families.hlayer import HLayer
from .conv import HConv1D, HConv2D
from .dense import HDense
from .einsum import HEinsum
from .einsum_dense import HEinsumDense
from .merge import HMaximum, HMinimum, HMultiply, HSubtract
from .normalization import HBatchNormalization
from .passthrough import (PAveragePooling1D, PAveragePooling2D, PConcatenate, PFlatten, PMaxPooling1D,
                          PMaxPooling2D, PReshape)
from ..families.quantize import HQuantize, Signature
from ..families.softmax import HSoftmax

__all__ = ["HActivation", "HAdd", "HBatchNormalization", "HConv1D", "HConv1DBatchNorm", "HConv2D", "HConv2DBatchNorm",
           "HDense", "HDenseBatchNorm", "HEinsum", "HEinsumDense", "HEinsumDenseBatchNorm", "HLayer", "HMaximum",
           "HMinimum", "HMultiHeadAttention", "HMultiply", "HQuantize", "HSoftmax", "HSubtract",
           "PAveragePooling1D", "PAveragePooling2D", "PConcatenate", "PFlatten", "PMaxPooling1D", "PMaxPooling2D",
           "PReshape", "Signature"]
