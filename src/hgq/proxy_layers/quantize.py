"""New ``FixedPointQuantizer`` layers on proxy tensors, in hls4ml's types: what every proxy converter (a spec's
``convert``, a QKeras converter) quantizes with."""

import numpy as np

from ..quantizer.types import as_numpy, kbi_from_kif
from .fixed_point_quantizer import FixedPointQuantizer
from .precision import PROXY_DTYPE


def apply_quantizer(x, kbi, rounding, overflow, name, overrides=None):
    """Call a new ``FixedPointQuantizer`` of types ``kbi = (keep_negative, bits, integers)`` on the proxy tensor
    ``x`` and return its output.

    The arrays are stored shaped ``(1, *features)`` as hls4ml requires; where all elements share one type the
    quantizer is ``fusible`` (hls4ml then reads the first element's type only, and may fuse the quantizer into its
    input), which ``hgq.proxy.saturation`` can take back. ``overrides``: hls4ml configuration the quantizer carries
    (e.g. a layer's parallelization factor).
    """
    arrays = [np.broadcast_to(np.asarray(a), (1, *x.shape[1:])) for a in kbi]
    fusible = all(np.unique(a).size == 1 for a in arrays)
    q = FixedPointQuantizer(kbi_shape=arrays[0].shape, RND=rounding, SAT=overflow, fusible=fusible,
                            overrides=overrides, name=name, dtype=PROXY_DTYPE)
    y = q(x)
    q.set_kbi(*arrays)
    return y


def quantize_output(layer, x, ctx, rounding=None, name=None, overrides=None):
    """``layer.paq`` at inference, as a ``FixedPointQuantizer`` named ``name`` (default ``<layer name>_q``);
    ``rounding`` defaults to the quantizer's own hls4ml rounding."""
    rounding = rounding or layer.paq.hls_rounding()
    kbi = kbi_from_kif(tuple(as_numpy(a) for a in layer.paq.kif()))
    return apply_quantizer(x, kbi, rounding, ctx.overflow, name or f"{layer.name}_q", overrides)
