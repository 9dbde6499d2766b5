"""Proxy models: plain Keras plus fixed-point quantizers, the format hls4ml converts bit-exactly."""

from . import activation as _activation  # noqa: F401  (registers the HActivation converter)
from . import conv as _conv  # noqa: F401  (registers the HConv1D/HConv2D converters)
from . import passthrough as _passthrough  # noqa: F401  (registers the P-layer and Signature converters)
from .convert import to_proxy_model
from .fixed_point_quantizer import FixedPointQuantizer
from .hls import convert_to_hls4ml, hls4ml_predict
from .unary_lut import UnaryLUT

__all__ = ["FixedPointQuantizer", "UnaryLUT", "convert_to_hls4ml", "hls4ml_predict", "to_proxy_model"]
