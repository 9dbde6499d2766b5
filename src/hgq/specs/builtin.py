"""Importing this module registers the spec of every layer type hgq knows (``import hgq`` does)."""

from . import activation, float_layers, kernel, merge, passthrough, quantize  # noqa: F401
