"""Saturating quantizers as hls4ml builds them.

hls4ml's bit-exact pass (``hls4ml.model.optimizer.passes.bit_exact``) narrows each quantizer's fractional bits to
those of the values that reach it: where a quantizer keeps ``f`` bits but its input carries only ``lf`` (by
interval arithmetic over the layers before it), the firmware type gets ``min(f, lf)``. For a wrapping quantizer
that changes nothing; for a saturating one (``SAT``) it moves the largest value, ``2^i - 2^-f``, to
``2^i - 2^-lf``. So that the proxy saturates as the firmware does, ``narrow_to_input_precision`` applies the same
narrowing to the proxy's ``SAT`` quantizers. Values inside the calibrated range lie on the input's grid and are
unchanged by it.

A quantizer with one type for every element (``fusible``) is narrowed by hls4ml once for all: it narrows each
element, then keeps the most total and the most integer bits of the results. Where the elements' inputs differ
(one with many integer and few fractional bits, another the reverse), that merged type drops fractional bits that
an element needs, in and out of range. Such a quantizer (other than ``TRN``/``WRAP``, whose type hls4ml keeps as
it is) is handed to hls4ml per element instead.

The types of every layer output are tracked per element by each layer's spec (``hgq.specs``: hls4ml's rules, see
``hgq.quantizer.intervals``); an unquantized input (``None``) is unbounded.
"""

import numpy as np

from .. import graph
from ..cost.types import output_kif
from ..proxy_layers.fixed_point_quantizer import FixedPointQuantizer
from ..quantizer.types import total_bits


def _shared_axes(layer, ndim):
    """The axes along which ``layer`` stores one type: all of them where hls4ml reads one type for every element."""
    if layer.fusible or len(layer.kbi_shape) == 1:
        return tuple(range(ndim))
    return tuple(a for a, n in enumerate(layer.kbi_shape[1:]) if n == 1)


def _narrowed_unevenly(f, used, in_f, in_live):
    """Whether narrowing a one-type quantizer (fractional bits ``f``) to its input's (``in_f``) gives its live, used
    elements different fractional bits. hls4ml merges the narrowed types into one of the most total and the most
    integer bits, which then holds fewer fractional bits than an element with few integer bits needs."""
    narrowed = np.minimum(f, in_f)[used & in_live]
    return narrowed.size > 0 and np.unique(narrowed).size > 1


def _narrow(layer, in_kif):
    """Narrow a quantizer as hls4ml does (module docstring), given the type of its input (``(1, *features)``).

    A one-type (``fusible``) quantizer that hls4ml would narrow unevenly and that is not ``TRN``/``WRAP`` (hls4ml
    keeps the type of those) is stored per element instead (``fusible = False``), so that hls4ml narrows each
    element on its own: exact, where the merged type would drop bits (``io_stream`` then refuses it)."""
    in_live = total_bits(in_kif)[0] > 0
    in_f = np.where(in_live, in_kif[2][0], 0.0)  # hls4ml stores a zero-width element as (0, 0, 0)
    k, b, integers = (np.broadcast_to(a.reshape(layer.kbi_shape), (1, *in_f.shape))[0].astype(np.float64)
                      for a in layer.kbi())
    if (layer.fusible and len(layer.kbi_shape) > 1 and (layer.RND, layer.SAT) != ("TRN", "WRAP")
            and _narrowed_unevenly(b - integers, b > 0, in_f, in_live)):
        layer.fusible = False
    if layer.SAT == "SAT":
        shared = _shared_axes(layer, in_f.ndim)
        lf = np.max(in_f, axis=shared, keepdims=True)
        new_b = np.where(b > 0, integers + np.minimum(b - integers, lf), 0.0)
        zero = new_b <= 0
        layer.set_kbi(*(np.max(np.where(zero, 0.0, a), axis=shared, keepdims=True) for a in (k, new_b, integers)))


def narrow_to_input_precision(proxy):
    """Narrow the fractional bits of the proxy's ``SAT`` quantizers to those of their inputs, as hls4ml does when
    it builds the firmware types (in place; returns ``proxy``)."""
    kifs = {id(layer): None for layer in graph.model_input_layers(proxy)}  # floats: unbounded
    for _, layer in graph.flat_layers(proxy):
        inputs = [kifs.get(id(p)) for p in graph.input_layers(layer)]
        if isinstance(layer, FixedPointQuantizer) and inputs[0] is not None:
            _narrow(layer, inputs[0])
        shapes = graph.output_shapes(layer)
        kifs[id(layer)] = output_kif(layer, inputs, shapes[0][1:]) if len(shapes) == 1 else None
    return proxy
