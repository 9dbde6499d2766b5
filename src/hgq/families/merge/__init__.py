"""The merge family: the element-wise merges of quantized inputs ``HAdd``, ``HSubtract``, ``HMultiply``, ``HMaximum``,
``HMinimum``, ``HAverage`` on their base ``HMerge`` (``layers``) and the specs of those and of the float ``Add``,
``Subtract``, ``Multiply``, ``Maximum``, ``Minimum`` and ``Average`` they export to (``spec``). Importing this package registers the specs;
``hgq.layers`` re-exports the layers."""

from . import spec  # noqa: F401  (registers the specs)
from .layers import HAdd, HAverage, HMaximum, HMinimum, HMultiply, HSubtract

__all__ = ["HAdd", "HAverage", "HMaximum", "HMinimum", "HMultiply", "HSubtract"]
