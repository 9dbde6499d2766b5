"""The proxy computes in float64: its dtype, and the two refusals that keep that exact (a backend that truncates
float64, an accumulator wider than float64's significand)."""

from ..backend import float64_is_exact

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
