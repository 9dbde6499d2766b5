"""Precision ranges: the log2 magnitudes each fixed-point type can represent, for the grey boxes of
``hgq.profiling.numerical`` (see ``distributions`` for the conventions)."""

import numpy as np

from ..graph import flat_layers
from ..proxy_layers.fixed_point_quantizer import FixedPointQuantizer
from ..quantizer.types import as_numpy, minimal_kif, union_kif

#: hls4ml's names of a layer's weights -> the Keras names used in the row labels.
HLS_WEIGHT_NAMES = {"weight": "kernel", "bias": "bias"}


def hls_weight_label(layer, key):
    """The row label of weight ``key`` of an hls4ml layer: ``<layer>/<weight>`` (``weight`` -> ``kernel``)."""
    return f"{layer.name}/{HLS_WEIGHT_NAMES.get(key, key)}"


def kif_range(k, i, f):
    """``(-f, i)``: the log2 magnitudes a type with sign ``k``, ``i`` integer and ``f`` fractional bits holds."""
    del k  # the sign bit does not change the magnitudes
    return (-float(f), float(i))


def quantizer_range(quantizer):
    """The range of the union type of a ``FixedPointQuantizer`` (max ``i``, max ``f`` over its elements with at
    least one bit), or ``None`` when every element has zero bits."""
    union = union_kif(quantizer.kif())
    return None if union is None else kif_range(*union)


def precision_range(precision):
    """The range of an hls4ml precision type (``width``, ``integer``, ``signed``), or ``None`` for another type."""
    width, integer = getattr(precision, "width", None), getattr(precision, "integer", None)
    if width is None or integer is None:
        return None
    signed = int(bool(getattr(precision, "signed", True)))
    return kif_range(signed, integer - signed, width - integer)


def inferred_weight_kif(values):
    """The ``(k, i, f)`` that hls4ml's bit-exact flow gives a constant array of a proxy: the maximum over the
    elements of each one's smallest type, a zero counting as ``(0, 0, 0)`` (so that zeros among small values
    widen the type to ``i = 0``)."""
    return union_kif(minimal_kif(values, zeros="hls4ml"), live_only=False)


def proxy_ranges(proxy):
    """``(weight ranges, activation ranges)`` of a proxy model.

    Weights: the type hls4ml infers for each variable (``inferred_weight_kif``), keyed ``<layer>/<variable>``.
    Activations: each ``FixedPointQuantizer``'s union type, keyed by its name. The proxy's inputs are floats: no
    range.
    """
    weights, activations = {}, {}
    for _, layer in flat_layers(proxy):
        if isinstance(layer, FixedPointQuantizer):
            r = quantizer_range(layer)
            if r is not None:
                activations[layer.name] = r
            continue
        for v in layer.weights:
            values = as_numpy(v)
            if np.any(values != 0):
                weights[f"{layer.name}/{v.name}"] = kif_range(*inferred_weight_kif(values))
    return weights, activations


def modelgraph_ranges(hls_model):
    """``(weight ranges, activation ranges)`` of an hls4ml ``ModelGraph``: each weight's precision keyed
    ``<layer>/<weight>`` (``weight`` -> ``kernel``), each layer's output precision keyed by its name and each
    input's also as ``input:<n>``."""
    weights, activations = {}, {}
    for layer in hls_model.get_layers():
        for key, w in layer.weights.items():
            r = precision_range(w.type.precision)
            if r is not None:
                weights[hls_weight_label(layer, key)] = r
        r = precision_range(layer.get_output_variable().type.precision)
        if r is not None:
            activations[layer.name] = r
    for n, var in enumerate(hls_model.get_input_variables()):
        r = precision_range(var.type.precision)
        if r is not None:
            activations[f"input:{n}"] = r
    return weights, activations


def range_of(row, ranges):
    """The first of ``row.keys`` found in ``ranges``, or ``None``."""
    for key in row.keys:
        if key in (ranges or {}):
            return ranges[key]
    return None
