"""Export helpers every proxy converter uses: new ``FixedPointQuantizer`` layers on proxy tensors, in hls4ml's types.
Every proxy layer computes in float64, so accumulations stay exact up to 53 bits.
"""

import numpy as np

from ..backend import float64_is_exact
from ..proxy_layers.fixed_point_quantizer import FixedPointQuantizer
from ..quantizer.types import as_numpy, kbi_from_kif

PROXY_DTYPE = "float64"

#: Widest accumulator the proxy computes exactly: float64's significand.
EXACT_ACCUMULATOR_BITS = 53


def require_exact_float64(caller):
    """Raise ``ValueError`` when the backend would compute the float64 proxy in float32."""
    if not float64_is_exact():
        raise ValueError(f"{caller}: the proxy computes in float64, which the JAX backend truncates to float32 "
                           "unless 64-bit mode is on: set JAX_ENABLE_X64=1 before importing JAX")


def refuse_wide_accumulator(layer, bits, ctx):
    """Refuse a layer whose sums need ``bits`` > ``EXACT_ACCUMULATOR_BITS`` (the proxy would round them; hls4ml would
    not)."""
    if bits > EXACT_ACCUMULATOR_BITS:
        raise ValueError(f"{ctx.caller}: layer {layer.name!r} needs a {bits}-bit accumulator, but the proxy computes in "
                         f"float64, exact up to {EXACT_ACCUMULATOR_BITS} bits; train with a larger beta or calibrate "
                         "on data of a smaller range to narrow its input or weight types")


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
