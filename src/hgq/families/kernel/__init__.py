"""The kernel family: the layers that multiply their input by a quantized kernel, ``HDense`` (``dense``),
``HConv1D``/``HConv2D`` (``conv``, with ``conv_gradient``, the input gradient of a few-channel convolution as a
matmul), ``HDepthwiseConv1D``/``HDepthwiseConv2D`` (``depthwise``), ``HSeparableConv1D``/``HSeparableConv2D``
(``separable``: a depthwise and a pointwise part), ``HEinsumDense`` (``einsum_dense``) and the batch-norm fused
versions (``batchnorm``, with the state and arithmetic ``HBatchNormalization`` shares); what they share: the quantized
kernel and bias and ``check_activation`` (``mixin``), the geometries, which input elements each weight multiplies
(``geometry``, ``einsum_geometry``); the specs of the H-layers and of the float ``Dense``, ``Conv1D``/``Conv2D``,
``DepthwiseConv1D``/``DepthwiseConv2D``, ``SeparableConv1D``/``SeparableConv2D``, ``EinsumDense`` and
``TimeDistributed`` (``spec``). Importing this package registers the specs; ``hgq.layers`` re-exports its layers."""

from . import spec  # noqa: F401  (registers the specs)
from .batchnorm import HConv1DBatchNorm, HConv2DBatchNorm, HDenseBatchNorm, HEinsumDenseBatchNorm
from .conv import HConv1D, HConv2D
from .dense import HDense
from .depthwise import HDepthwiseConv1D, HDepthwiseConv2D
from .einsum_dense import HEinsumDense
from .separable import HSeparableConv1D, HSeparableConv2D

__all__ = ["HConv1D", "HConv1DBatchNorm", "HConv2D", "HConv2DBatchNorm", "HDense", "HDenseBatchNorm",
           "HDepthwiseConv1D", "HDepthwiseConv2D", "HEinsumDense",
           "HEinsumDenseBatchNorm", "HSeparableConv1D", "HSeparableConv2D"]
