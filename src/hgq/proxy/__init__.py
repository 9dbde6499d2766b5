"""Proxy models: plain Keras plus fixed-point quantizers, the format hls4ml converts bit-exactly."""

from .convert import to_proxy_model
from .fixed_point_quantizer import FixedPointQuantizer

__all__ = ["FixedPointQuantizer", "to_proxy_model"]
