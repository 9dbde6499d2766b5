"""The proxy converters of the hgq layers, one module per layer family; importing this package registers them.

``convert`` is the registry's: import it from here to be sure every hgq converter is registered.
"""

from ..registry import convert
from . import activation, kernel, merge, passthrough, quantize

__all__ = ["activation", "convert", "kernel", "merge", "passthrough", "quantize"]
