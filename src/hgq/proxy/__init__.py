"""Proxy models: plain Keras plus fixed-point quantizers, the format hls4ml converts bit-exactly."""

from .convert import to_proxy_model
from .fixed_point_quantizer import FixedPointQuantizer
from .hls import convert_to_hls4ml, hls4ml_predict

__all__ = ["FixedPointQuantizer", "convert_to_hls4ml", "hls4ml_predict", "to_proxy_model"]
