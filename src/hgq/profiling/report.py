"""Per-layer cost report of an H-model or a proxy model: ``profile(model, data=None)`` returns a ``CostReport``.

One ``LayerRecord`` per layer (model order, nested models flattened, input layers included) and a ``Summary``.
Every cost comes from the cost model (``hgq.cost.layer_costs``, fed the types ``hgq.cost.output_kif`` propagates
through the graph); this module walks the model and adds identities, output widths and totals. The definitions of
every field are in ``docs/cost_report.md``; the LUT, DSP and latency columns are estimates (``hgq.cost.estimates``).
"""

import dataclasses

import keras
import numpy as np

from .. import graph
from ..calibration import trace_minmax
from ..cost import estimates, iter_hlayers, layer_costs, output_kif, parallel_factors, total_bits
from ..data import input_arrays
from ..model_kind import model_kind
from ..quantizer.types import union_kif
from ..families.registry import CostRule, require_specs

#: Version of the BOPs counting rules (``docs/bops.md``) that the report applies.
RULES_VERSION = 1

ESTIMATE_NOTE = ("lut_est, dsp_est and latency_est_cycles are estimates from bit widths and layer geometry "
                 "(fully unrolled, io_parallel), not synthesis results; see docs/cost_report.md")


@dataclasses.dataclass
class LayerRecord:
    """Costs of one layer; ``None`` means unknown (a float layer) or not applicable (no weights)."""

    index: int
    name: str
    type: str
    input_shapes: list
    output_shapes: list
    params: int
    macs: int
    bops: float | None
    weight_bits_mean: float | None
    weight_bits_max: float | None
    pruned_fraction: float | None
    act_bits_mean: float | None
    act_bits_max: float | None
    accumulator_bits: int | None
    weight_memory_bits: int | None
    lut_est: float | None
    dsp_est: float | None
    latency_est_cycles: int | None


@dataclasses.dataclass
class Summary:
    """Model-wide totals (sums over the records whose value is known) and types."""

    model: str
    kind: str
    rules_version: int
    layers: int
    params: int
    macs: int
    bops: float
    model_memory_bits: int
    float32_memory_bits: int
    lut_est: float
    dsp_est: float
    latency_est_cycles: int
    input_types: list
    output_types: list
    unquantized_layers: list
    dsp_min_bits: int
    note: str = ESTIMATE_NOTE


@dataclasses.dataclass
class CostReport:
    """The records and the summary; every output format renders this one structure."""

    records: list
    summary: Summary

    def to_dict(self):
        """Plain Python data (lists, numbers, strings, ``None``), ready for ``json.dumps``."""
        return {"summary": dataclasses.asdict(self.summary),
                "records": [dataclasses.asdict(r) for r in self.records]}

    @classmethod
    def from_dict(cls, data):
        """The report that ``to_dict`` (or its JSON) describes."""
        return cls(records=[LayerRecord(**r) for r in data["records"]], summary=Summary(**data["summary"]))


def _feature_shapes(shapes):
    return [[None if s is None else int(s) for s in shape[1:]] for shape in shapes]


def _type_text(kif):
    """``fixed<W,I>`` / ``ufixed<W,I>`` holding every element (union of the per-element types), with stats."""
    if kif is None:
        return "float"
    union = union_kif(kif)
    if union is None:
        return "zero width"
    bits, (k, i, f) = total_bits(kif), union
    name = "fixed" if k else "ufixed"
    return (f"{name}<{k + i + f},{k + i}> (per element: mean {np.mean(bits):.2f}, max {int(np.max(bits))} bits, "
            f"{bits.size} elements)")


def _record(index, name, layer, producers, kifs, factor, dsp_min_bits):
    """The ``LayerRecord`` of one layer and its output type (``None``: a float or several outputs)."""
    out_shapes = _feature_shapes(graph.output_shapes(layer))
    is_input = isinstance(layer, keras.layers.InputLayer)
    in_shapes = out_shapes if is_input else _feature_shapes(graph.input_shapes(layer))
    in_kifs = [kifs.get(id(p)) for p in producers]
    costs = dataclasses.asdict(layer_costs(layer, in_kifs, factor, dsp_min_bits))
    kif = output_kif(layer, in_kifs, out_shapes[0]) if len(out_shapes) == 1 else None
    if kif is not None and not is_input:
        bits = total_bits(kif)
        costs.update(act_bits_mean=float(np.mean(bits)), act_bits_max=float(np.max(bits)))
    else:
        costs.update(act_bits_mean=None, act_bits_max=None)
    record = LayerRecord(index=index, name=name, type=type(layer).__name__, input_shapes=in_shapes,
                         output_shapes=out_shapes, **costs)
    return record, kif


def profile(model, data=None, dsp_min_bits=estimates.DSP_MIN_BITS):
    """Per-layer cost report of an H-model or a proxy model.

    Args:
        model: a built ``keras.Model``: an H-model (exact counts from its quantizers), a proxy model
            (``to_proxy_model``; weight widths from the values) or a plain Keras model (widths unknown).
        data: optional inputs (an array, or a list for several inputs); given, an H-model is calibrated on
            them first with ``trace_minmax``. A shape that does not match the model raises ``ValueError``.
        dsp_min_bits: a multiplication goes to a DSP when both operands are at least this wide (estimate).

    Returns:
        A ``CostReport``: one ``LayerRecord`` per layer and a ``Summary``.
    """
    if not isinstance(model, keras.Model) or not model.built:
        raise ValueError("profile: expected a built keras.Model")
    require_specs(model, "profile", CostRule)  # a layer type hgq does not know is refused by name, before any work
    if data is not None:
        arrays = input_arrays(model, data, "profile")
        if iter_hlayers(model):
            trace_minmax(model, arrays)
    input_layers = graph.model_input_layers(model)
    layers = [(layer.name, layer) for layer in input_layers] + list(graph.flat_layers(model))
    factors = parallel_factors(model)
    kifs, arrival, records, producers_of = {}, {}, [], {}
    for index, (name, layer) in enumerate(layers):
        producers = [] if layer in input_layers else graph.input_layers(layer)
        producers_of[id(layer)] = producers
        record, kifs[id(layer)] = _record(index, name, layer, producers, kifs, factors.get(layer.name, 1),
                                          dsp_min_bits)
        # longest path: a producer outside the records (a nested model's input) counts as the latest so far
        latest = max(arrival.values(), default=0)
        start = max((arrival.get(id(p), latest) for p in producers), default=0)
        arrival[id(layer)] = start + (record.latency_est_cycles or 0)
        records.append(record)
    outputs = [kifs.get(id(graph.through_nested_models(graph.producer_of(t)))) for t in model.outputs]
    # each input's type: that of the quantizer it feeds (the first layer it feeds whose output type is known)
    inputs = [next((kifs[id(layer)] for _, layer in layers if producers_of[id(layer)] == [inp]
                    and kifs[id(layer)] is not None), None) for inp in input_layers]
    params = sum(r.params for r in records)
    summary = Summary(
        model=model.name, kind=model_kind(model), rules_version=RULES_VERSION, layers=len(records),
        params=params, macs=sum(r.macs for r in records), bops=float(sum(r.bops or 0.0 for r in records)),
        model_memory_bits=sum(r.weight_memory_bits or 0 for r in records), float32_memory_bits=32 * params,
        lut_est=float(sum(r.lut_est or 0.0 for r in records)), dsp_est=float(sum(r.dsp_est or 0.0 for r in records)),
        latency_est_cycles=max(arrival.values(), default=0), input_types=[_type_text(k) for k in inputs],
        output_types=[_type_text(k) for k in outputs],
        unquantized_layers=[r.name for r in records if r.bops is None], dsp_min_bits=int(dsp_min_bits))
    return CostReport(records=records, summary=summary)
