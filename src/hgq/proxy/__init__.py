"""Proxy models: plain Keras plus fixed-point quantizers, the format hls4ml converts bit-exactly."""

from ..families.activation import UnaryLUT
from ..families.einsum import Einsum
from ..families.layernorm import LayerNormalization
from ..families.normalization import BatchNormalization
from ..families.recurrent import GRU, LSTM, Bidirectional
from ..families.softmax import Softmax
from ..proxy_layers import FixedPointQuantizer
from .c_simulation import hls4ml_predict
from .hls import convert_to_hls4ml, proxy_predict
from .hls_handlers import register_hls4ml_handlers
from .model import to_proxy_model
from .verify import Mismatch, VerifyResult
from .verify import verify as verify  # the function shadows its module's name on purpose

register_hls4ml_handlers()  # so that hls4ml converts the proxy layers quietly, whoever calls it

__all__ = ["BatchNormalization", "Bidirectional", "Einsum", "FixedPointQuantizer", "GRU", "LSTM", "LayerNormalization",
           "Mismatch", "Softmax", "UnaryLUT", "VerifyResult",
           "convert_to_hls4ml", "hls4ml_predict", "proxy_predict", "to_proxy_model", "verify"]
