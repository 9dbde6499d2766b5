"""Importing this module registers the spec of every layer type hgq knows (``import hgq`` does)."""

from . import activation, attention, einsum, kernel, merge, normalization, passthrough, quantize, softmax  # noqa: F401
