"""Proxy models: plain Keras plus fixed-point quantizers, the format hls4ml converts bit-exactly."""

from .fixed_point_quantizer import FixedPointQuantizer
from .hls import convert_to_hls4ml, hls4ml_predict
from .model import to_proxy_model
from .unary_lut import UnaryLUT

__all__ = ["FixedPointQuantizer", "UnaryLUT", "convert_to_hls4ml", "hls4ml_predict", "to_proxy_model"]
