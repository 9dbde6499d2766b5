"""Proxy models: plain Keras plus fixed-point quantizers, the format hls4ml converts bit-exactly."""

from .fixed_point_quantizer import FixedPointQuantizer
from .hls import convert_to_hls4ml, hls4ml_predict
from .model import to_proxy_model
from .unary_lut import UnaryLUT
from .verify import Mismatch, VerifyResult
from .verify import verify as verify  # the function shadows its module's name on purpose

__all__ = ["FixedPointQuantizer", "Mismatch", "UnaryLUT", "VerifyResult", "convert_to_hls4ml", "hls4ml_predict",
           "to_proxy_model", "verify"]
