"""H-layers (trainable heterogeneous quantization) and P-layers (quantized values moved without cost).

Each layer lives in the package of its family under ``hgq.families`` (with its specs, its proxy layer and its hls4ml
handler); this package re-exports them. Importing it imports every family, which registers every spec."""

from ..families.activation import HActivation, HPReLU
from ..families.attention import HMultiHeadAttention
from ..families.einsum import HEinsum
from ..families.embedding import HEmbedding
from ..families.hlayer import HLayer
from ..families.layernorm import HLayerNormalization
from ..families.kernel import (HConv1D, HConv1DBatchNorm, HConv2D, HConv2DBatchNorm, HDense, HDenseBatchNorm,
                               HDepthwiseConv1D, HDepthwiseConv2D, HEinsumDense, HEinsumDenseBatchNorm,
                               HSeparableConv1D, HSeparableConv2D)
from ..families.merge import HAdd, HAverage, HMaximum, HMinimum, HMultiply, HSubtract
from ..families.normalization import HBatchNormalization
from ..families.passthrough import (PAveragePooling1D, PAveragePooling2D, PConcatenate, PCropping1D, PCropping2D,
                                    PFlatten, PGlobalAveragePooling1D, PGlobalAveragePooling2D, PGlobalMaxPooling1D,
                                    PGlobalMaxPooling2D, PMaxPooling1D, PMaxPooling2D, PPermute, PReshape,
                                    PUpSampling1D, PUpSampling2D, PZeroPadding1D, PZeroPadding2D)
from ..families.quantize import HQuantize, Signature
from ..families.recurrent import HGRU, HLSTM, HBidirectional
from ..families.softmax import HSoftmax

__all__ = ["HActivation", "HAdd", "HAverage", "HBatchNormalization", "HBidirectional", "HConv1D", "HConv1DBatchNorm",
           "HConv2D", "HConv2DBatchNorm", "HDense", "HDenseBatchNorm", "HDepthwiseConv1D", "HDepthwiseConv2D",
           "HEinsum", "HEinsumDense", "HEinsumDenseBatchNorm", "HEmbedding", "HGRU", "HLayer", "HLSTM",
           "HLayerNormalization", "HMaximum", "HMinimum", "HMultiHeadAttention", "HMultiply", "HPReLU", "HQuantize",
           "HSeparableConv1D", "HSeparableConv2D", "HSoftmax", "HSubtract", "PAveragePooling1D", "PAveragePooling2D",
           "PConcatenate", "PCropping1D", "PCropping2D", "PFlatten", "PGlobalAveragePooling1D",
           "PGlobalAveragePooling2D", "PGlobalMaxPooling1D", "PGlobalMaxPooling2D", "PMaxPooling1D", "PMaxPooling2D",
           "PPermute", "PReshape", "PUpSampling1D", "PUpSampling2D", "PZeroPadding1D", "PZeroPadding2D", "Signature"]
