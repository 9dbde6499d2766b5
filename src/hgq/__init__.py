"""hgq: high-granularity quantization for Keras 3, bit-exact with hls4ml."""

__version__ = "0.1.0"

from .backend import import_keras

import_keras()  # a missing backend fails here, with the extra to install

from . import callbacks  # noqa: E402
from .specs import builtin as _builtin_specs  # noqa: E402, F401  (registers every layer type's spec)
from .calibration import reset_minmax, trace_minmax
from .callbacks import (BetaScheduler, CalibratedBOPs, FreeBOPs, LogRampBeta, ParetoFront, PiecewiseBeta,
                        ResetMinMax)
from .cost import bit_width_summary, get_beta, layer_bops, set_beta, total_bops
from .pareto import ParetoResult, fit_pareto
from .proxy import to_proxy_model
from .quantize_model import quantize_model
from .quantizer import get_default_kq_conf, get_default_paq_conf, set_default_kq_conf, set_default_paq_conf

__all__ = ["BetaScheduler", "CalibratedBOPs", "FreeBOPs", "LogRampBeta", "ParetoFront", "ParetoResult",
           "PiecewiseBeta", "ResetMinMax", "__version__", "bit_width_summary", "callbacks", "fit_pareto", "get_beta",
           "get_default_kq_conf", "get_default_paq_conf", "layer_bops", "quantize_model", "reset_minmax", "set_beta", "set_default_kq_conf",
           "set_default_paq_conf", "to_proxy_model", "total_bops", "trace_minmax"]
