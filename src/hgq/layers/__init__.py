"""H-layers (trainable heterogeneous quantization)."""

from .activation import HActivation
from .base import HLayer
from .dense import HDense
from .quantize import HQuantize

__all__ = ["HActivation", "HDense", "HLayer", "HQuantize"]
