"""The attention family: ``HMultiHeadAttention`` (``layer``), composed of the kernel family's ``HEinsumDense``
projections, the einsum family's ``HEinsum`` and the softmax family's ``HSoftmax``, and the specs of it and of the
float ``keras.layers.MultiHeadAttention`` (``spec``): its kernels, costs and export are its parts'. It has no proxy
layer of its own. Importing this package registers the specs; ``hgq.layers`` re-exports ``HMultiHeadAttention``."""

from . import spec  # noqa: F401  (registers the specs)
from .layer import HMultiHeadAttention

__all__ = ["HMultiHeadAttention"]
