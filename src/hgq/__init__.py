"""hgq: high-granularity quantization for Keras 3, bit-exact with hls4ml."""

__version__ = "0.1.0"


def _refuse_hgq2():
    """Stop with an ``ImportError`` when HGQ2 (distribution ``hgq2``) is installed in this environment: it installs a
    top-level ``hgq`` package too, so one of the two has overwritten the other's files. One metadata look-up (about a
    millisecond; Keras imports ``importlib.metadata`` anyway)."""
    from importlib.metadata import PackageNotFoundError, distribution

    try:
        other = distribution("hgq2")
    except PackageNotFoundError:
        return
    raise ImportError(
        f"hgq (distribution hgq-keras) and HGQ2 (distribution hgq2 {other.version}, in {other.locate_file('')}) are "
        "installed in the same environment; both install a top-level package 'hgq', so one has overwritten the "
        "other's files. Use a virtual environment for each: here run 'pip uninstall hgq2 hgq-keras', then install "
        "hgq-keras again ('pip install hgq-keras', or 'pip install -e .' in a clone); install hgq2 in another one "
        "('python -m venv .venv-hgq2 && .venv-hgq2/bin/pip install hgq2').")


_refuse_hgq2()

from .backend import import_keras  # noqa: E402

import_keras()  # a missing backend fails here, with the extra to install

from . import callbacks  # noqa: E402
from . import layers  # noqa: E402, F401  (imports every layer family: registers every spec and hls4ml handler)
from . import specs  # noqa: E402, F401  (the spec API, as hgq.specs)
from .calibration import exported_outputs, reset_minmax, trace_minmax
from .callbacks import (BetaScheduler, CalibratedBOPs, FreeBOPs, LogRampBeta, ParetoFront, PiecewiseBeta,
                        ResetMinMax)
from .cost import bit_width_summary, get_beta, layer_bops, set_beta, total_bops
from .pareto import ParetoResult, fit_pareto
from .proxy import to_proxy_model
from .quantize_model import quantize_model
from .quantizer import get_default_kq_conf, get_default_paq_conf, set_default_kq_conf, set_default_paq_conf

__all__ = ["BetaScheduler", "CalibratedBOPs", "FreeBOPs", "LogRampBeta", "ParetoFront", "ParetoResult",
           "PiecewiseBeta", "ResetMinMax", "__version__", "bit_width_summary", "callbacks", "exported_outputs",
           "fit_pareto", "get_beta", "get_default_kq_conf", "get_default_paq_conf", "layer_bops", "quantize_model",
           "reset_minmax", "set_beta", "set_default_kq_conf", "set_default_paq_conf", "to_proxy_model", "total_bops",
           "trace_minmax"]
