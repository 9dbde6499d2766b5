"""hgq: high-granularity quantization for Keras 3, bit-exact with hls4ml."""

__version__ = "0.1.0"

from .calibration import reset_minmax, trace_minmax
from .cost import layer_bops, total_bops
from .proxy import to_proxy_model
from .quantizer import get_default_kq_conf, get_default_paq_conf, set_default_kq_conf, set_default_paq_conf

__all__ = ["__version__", "get_default_kq_conf", "get_default_paq_conf", "layer_bops", "reset_minmax",
           "set_default_kq_conf", "set_default_paq_conf", "to_proxy_model", "total_bops", "trace_minmax"]
