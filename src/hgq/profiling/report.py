"""Per-layer cost report of an H-model or a proxy model: ``profile(model, data=None)`` returns a ``CostReport``.

One ``LayerRecord`` per layer (model order, nested models flattened, input layers included) and a ``Summary``.
The definitions of every field are in ``docs/cost_report.md``; the LUT, DSP and latency columns are estimates
(``estimates.py``).
"""

import dataclasses
import math

import keras
import numpy as np
from keras import ops

from ..calibration import trace_minmax
from ..cost import iter_hlayers
from ..layers import HActivation, HAdd
from ..layers.base import QuantizedOutput, producer_of, through_nested_models
from ..proxy import FixedPointQuantizer, UnaryLUT
from ..proxy.convert import as_numpy
from ..proxy.passthrough import PLAIN_LAYERS
from ..quantizer import fixed_point as fxp
from . import estimates

#: Version of the BOPs counting rules (``docs/bops.md``) that the report applies.
RULES_VERSION = 1

ESTIMATE_NOTE = ("lut_est, dsp_est and latency_est_cycles are estimates from bit widths and layer geometry "
                 "(fully unrolled, io_parallel), not synthesis results; see docs/cost_report.md")

#: The P-layer whose type rules a plain Keras layer of a proxy model follows.
_P_LAYER_OF = {plain: p_layer for p_layer, plain in PLAIN_LAYERS.items()}
_ACTIVATIONS = (HActivation, UnaryLUT, keras.layers.Activation, keras.layers.ReLU)
_POOLINGS = (keras.layers.MaxPooling1D, keras.layers.MaxPooling2D, keras.layers.AveragePooling1D,
             keras.layers.AveragePooling2D)


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



def _total_bits(kif):
    return np.maximum(kif[0] + kif[1] + kif[2], 0.0)


def _shapes(layer, attribute):
    """Feature shapes (batch axis dropped) of the layer's input or output tensors; ``[]`` if not unique."""
    try:
        tensors = keras.tree.flatten(getattr(layer, attribute))
    except (AttributeError, ValueError, RuntimeError):
        return []
    return [[None if s is None else int(s) for s in t.shape[1:]] for t in tensors]


def _producers(layer):
    """The layers that feed ``layer`` (through nested models), ``[]`` if unknown."""
    try:
        tensors = keras.tree.flatten(layer.input)
    except (AttributeError, ValueError, RuntimeError):
        return []
    return [through_nested_models(producer_of(t)) for t in tensors]


def _flat_layers(model, prefix=""):
    """``(name, layer)`` of every layer, nested models flattened (``outer/inner`` names, their inputs skipped)."""
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            yield from _flat_layers(layer, f"{prefix}{layer.name}/")
        elif not isinstance(layer, keras.layers.InputLayer):
            yield prefix + layer.name, layer


def minimal_kif(values):
    """Element-wise smallest fixed-point type ``(k, i, f)`` of each value (zero width for zeros).

    ``f`` is the fewest fractional bits that represent the value exactly (from its binary mantissa), ``k``
    its sign and ``i`` the fewest integer bits, as for any quantized weight.
    """
    v = np.asarray(values, dtype=np.float64)
    mantissa, exponent = np.frexp(v)
    m = np.abs(mantissa * 2.0**53).astype(np.int64)  # exact: |mantissa| < 1
    lowest = np.where(m > 0, m & -m, 1)
    f = np.where(v != 0, 53 - exponent - np.log2(lowest).astype(np.int64), 0).astype(np.float64)
    return tuple(as_numpy(a) for a in fxp.kif_from_range(ops.convert_to_tensor(v), ops.convert_to_tensor(v),
                                                    ops.convert_to_tensor(f)))


def _as_kif(kif, shape):
    return tuple(np.broadcast_to(as_numpy(a), (1, *shape)) for a in kif)


def _p_layer_kif(layer, input_kifs, input_shapes):
    """Output types of a plain pass-through layer (proxy), from the P-layer of the same configuration."""
    twin = _P_LAYER_OF[type(layer)].from_config(layer.get_config())
    shapes = [(None, *s) for s in input_shapes]
    twin.build(shapes if len(shapes) > 1 else shapes[0])
    tensors = [tuple(ops.convert_to_tensor(a.astype("float32")) for a in kif) for kif in input_kifs]
    twin.input_kifs = lambda: tensors  # the P-layer's rules, fed the known input types
    return twin.output_kif()


def _output_kif(layer, input_kifs, input_shapes, output_shape):
    """``(k, i, f)`` of each output element, shaped ``(1, *output_shape)``, or ``None`` when unknown (float)."""
    if isinstance(layer, QuantizedOutput):
        try:
            kif = layer.output_kif()
        except ValueError:  # a P-layer fed by a float input
            return None
    elif isinstance(layer, FixedPointQuantizer):
        k, b, integers = (a.astype(np.float64) for a in layer.kbi())
        kif = (k, np.where(b > 0, integers - k, 0.0), np.where(b > 0, b - integers, 0.0))
    elif isinstance(layer, UnaryLUT):
        kif = tuple(float(a) for a in layer.kif_out)
    elif type(layer) in _P_LAYER_OF and input_kifs and all(k is not None for k in input_kifs):
        kif = _p_layer_kif(layer, input_kifs, input_shapes)
    else:
        return None
    return _as_kif(kif, output_shape)


def _bilinear(layer):
    """The layer's multiply-accumulate on float64 arrays (its own geometry), as NumPy."""
    if hasattr(layer, "convolution_op"):
        return lambda x, w: as_numpy(layer.convolution_op(ops.convert_to_tensor(x), ops.convert_to_tensor(w)))
    return lambda x, w: as_numpy(ops.matmul(ops.convert_to_tensor(x), ops.convert_to_tensor(w)))


def _is_kernel_layer(layer):
    return isinstance(layer, (keras.layers.Dense, keras.layers.Conv1D, keras.layers.Conv2D))


def _weights(layer):
    """Kernel values and types, bias values and types (zeros of width 0 without a bias).

    H-layers: the quantized kernel and bias with their quantizers' types. Plain layers (proxy): each value's
    minimal fixed-point type.
    """
    if hasattr(layer, "kq"):
        kernel = layer.quantized_kernel(False)
        w_kif = layer.kq.kif(kernel)
        if layer.use_bias:
            bias = layer.quantized_bias()
            b_kif = fxp.kif_from_range(bias, bias, ops.cast(layer.bias_fractional_bits(), bias.dtype))
        else:
            bias = np.zeros(kernel.shape[-1])
            b_kif = (bias, bias, bias)
        return as_numpy(kernel), tuple(as_numpy(a) for a in w_kif), as_numpy(bias), tuple(as_numpy(a) for a in b_kif)
    kernel = as_numpy(layer.kernel)
    bias = as_numpy(layer.bias) if layer.use_bias else np.zeros(kernel.shape[-1])
    return kernel, minimal_kif(kernel), bias, minimal_kif(bias)


def accumulator_bits(bilinear, in_kif, kernel, w_kif, bias, b_kif):
    """Width of the fixed-point type that holds every output's sum ``Σ x·w + b`` exactly.

    Integer part and sign: from the interval bound of the sums over the input types' ranges
    (``[-k·2^i, 2^i - 2^-f]`` per element) and the weight values. Fractional part: the largest ``f_in + f_w``
    over the input channels and weights that meet (both of non-zero width; input ``f`` maximized over
    positions), and the bias's ``f``. 0 when every term is zero.
    """
    k, i, f = in_kif
    live_in = (k + i + f) > 0
    hi = np.where(live_in, 2.0**i - 2.0**-f, 0.0)
    lo = np.where(live_in, -k * 2.0**i, 0.0)
    w_pos, w_neg = np.maximum(kernel, 0.0), np.minimum(kernel, 0.0)
    acc_hi = float(np.max(bilinear(hi, w_pos) + bilinear(lo, w_neg) + bias))
    acc_lo = float(np.min(bilinear(lo, w_pos) + bilinear(hi, w_neg) + bias))
    if acc_hi == 0.0 and acc_lo == 0.0:
        return 0
    c_in = kernel.shape[-2]
    f_in = np.max(np.where(live_in, f, -np.inf).reshape(-1, c_in), axis=0)
    f_w = np.where(_total_bits(w_kif) > 0, w_kif[2], -np.inf).reshape(-1, c_in, kernel.shape[-1])
    f_b = np.where(_total_bits(b_kif) > 0, b_kif[2], -np.inf)
    f_acc = max(float(np.max(f_in[None, :, None] + f_w)), float(np.max(f_b, initial=-np.inf)))
    k_acc, i_acc = fxp.sign_and_int_bits(ops.convert_to_tensor(acc_lo), ops.convert_to_tensor(acc_hi))
    return int(float(k_acc) + float(i_acc) + f_acc)


_IDENTITY_FIELDS = ("index", "name", "type", "input_shapes", "output_shapes")


def _fields(**values):
    """Every cost field of a ``LayerRecord``, ``None`` unless given."""
    return {f.name: values.get(f.name) for f in dataclasses.fields(LayerRecord) if f.name not in _IDENTITY_FIELDS}


def _kernel_fields(layer, in_kif, parallel_factor, dsp_min_bits):
    kernel_size = int(np.prod(layer.kernel.shape))
    bias_size = int(np.prod(layer.bias.shape)) if layer.use_bias else 0
    positions = int(np.prod(layer.output.shape[1:-1]))
    known = dict(params=kernel_size + bias_size, macs=positions * kernel_size)
    bops = layer.bops() if hasattr(layer, "kq") else None  # exactly what trace_minmax sums (raises if unknown)
    if in_kif is None:
        return _fields(**known, bops=bops)  # a float layer: widths unknown
    kernel, w_kif, bias, b_kif = _weights(layer)
    w_bits, b_bits = _total_bits(w_kif), _total_bits(b_kif)
    bilinear = _bilinear(layer)
    in_bits = _total_bits(in_kif)
    if bops is None:
        bops = float(np.sum(bilinear(in_bits, w_bits)))
    lut_bops, dsp_count = estimates.multiplier_split(bilinear, in_bits, w_bits, dsp_min_bits)
    is_conv = hasattr(layer, "convolution_op")
    share = parallel_factor / positions if is_conv else 1.0  # a convolution reuses its multipliers
    fan_in = int(np.max(np.sum(w_bits.reshape(-1, kernel.shape[-1]) > 0, axis=0)))
    groups = math.ceil(positions / parallel_factor) if is_conv else 1
    return _fields(
        **known, bops=bops, weight_bits_mean=float(np.mean(w_bits)), weight_bits_max=float(np.max(w_bits)),
        pruned_fraction=float(np.mean(w_bits == 0)),
        accumulator_bits=accumulator_bits(bilinear, in_kif, kernel, w_kif, bias, b_kif),
        weight_memory_bits=int(np.sum(w_bits) + np.sum(b_bits)),
        lut_est=lut_bops * share, dsp_est=dsp_count * share,
        latency_est_cycles=estimates.kernel_latency(fan_in, groups))


def _other_fields(layer, n_inputs):
    """Layers without a kernel: weightless moves and reductions, UnaryLUT tables, or unknown layers."""
    zero = dict(params=0, macs=0, bops=0.0, weight_memory_bits=0, lut_est=0.0, dsp_est=0.0)
    if isinstance(layer, UnaryLUT):
        table_bits = layer.table_size * max(sum(layer.kif_out), 0)
        return _fields(**{**zero, "params": layer.table_size, "weight_memory_bits": table_bits},
                       latency_est_cycles=1)
    if isinstance(layer, _ACTIVATIONS):
        return _fields(**zero, latency_est_cycles=1)
    if isinstance(layer, (HAdd, keras.layers.Add)):
        return _fields(**zero, latency_est_cycles=estimates.reduction_latency(n_inputs))
    if isinstance(layer, _POOLINGS):
        return _fields(**zero, latency_est_cycles=estimates.reduction_latency(int(np.prod(layer.pool_size))))
    if isinstance(layer, (keras.layers.InputLayer, QuantizedOutput, FixedPointQuantizer)) or not layer.weights:
        return _fields(**zero, latency_est_cycles=0)
    return _fields(params=layer.count_params(), macs=0)  # an unknown layer with weights: costs unknown


def _type_text(kif):
    """``fixed<W,I>`` / ``ufixed<W,I>`` holding every element (union of the per-element types), with stats."""
    if kif is None:
        return "float"
    bits = _total_bits(kif)
    live = bits > 0
    if not np.any(live):
        return "zero width"
    k, i, f = (int(np.max(a[live])) for a in kif)
    name = "fixed" if k else "ufixed"
    return (f"{name}<{k + i + f},{k + i}> (per element: mean {np.mean(bits):.2f}, max {int(np.max(bits))} bits, "
            f"{bits.size} elements)")


def _parallel_factors(model):
    """Each proxy convolution's ``parallel_factor``, read from its output quantizer's hls4ml overrides."""
    factors = {}
    for _, layer in _flat_layers(model):
        if isinstance(layer, FixedPointQuantizer):
            for name, cfg in layer.overrides.get("layers", {}).items():
                factors[name] = int(cfg.get("parallelization_factor", 1))
    return factors


def _check_data(model, data):
    arrays = list(data) if isinstance(data, (list, tuple)) else [data]
    if len(arrays) != len(model.inputs):
        raise ValueError(f"profile: model {model.name!r} has {len(model.inputs)} input(s), but data holds "
                         f"{len(arrays)} array(s)")
    for array, inp in zip(arrays, model.inputs):
        expected, got = tuple(inp.shape[1:]), np.shape(array)
        if len(got) != len(expected) + 1 or any(e is not None and e != g for e, g in zip(expected, got[1:])):
            raise ValueError(f"profile: data does not match input {inp.name!r}: expected shape "
                             f"{(None, *expected)}, got {got}")


def _model_kind(layers):
    if any(isinstance(layer, FixedPointQuantizer) for _, layer in layers):
        return "proxy"
    if any(isinstance(layer, QuantizedOutput) for _, layer in layers):
        return "H-model"
    return "unquantized"


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
    if data is not None:
        _check_data(model, data)
        if list(iter_hlayers(model)):
            trace_minmax(model, data)
    input_layers = [producer_of(t) for t in model.inputs]
    layers = [(layer.name, layer) for layer in input_layers] + list(_flat_layers(model))
    factors = _parallel_factors(model)
    kifs, arrival, records = {}, {}, []
    for index, (name, layer) in enumerate(layers):
        out_shapes = _shapes(layer, "output")
        in_shapes = out_shapes if layer in input_layers else _shapes(layer, "input")
        producers = _producers(layer) if layer not in input_layers else []
        in_kifs = [kifs.get(id(p)) for p in producers]
        if _is_kernel_layer(layer):
            fields = _kernel_fields(layer, in_kifs[0] if in_kifs else None,
                                    getattr(layer, "parallel_factor", factors.get(layer.name, 1)), dsp_min_bits)
        else:
            fields = _other_fields(layer, len(producers))
        kif = _output_kif(layer, in_kifs, in_shapes, out_shapes[0]) if len(out_shapes) == 1 else None
        kifs[id(layer)] = kif
        if kif is not None and not isinstance(layer, keras.layers.InputLayer):
            bits = _total_bits(kif)
            fields.update(act_bits_mean=float(np.mean(bits)), act_bits_max=float(np.max(bits)))
        # longest path: a producer outside the records (a nested model's input) counts as the latest so far
        latest = max(arrival.values(), default=0)
        start = max((arrival.get(id(p), latest) for p in producers), default=0)
        arrival[id(layer)] = start + (fields["latency_est_cycles"] or 0)
        records.append(LayerRecord(index=index, name=name, type=type(layer).__name__, input_shapes=in_shapes,
                                   output_shapes=out_shapes, **fields))
    outputs = [kifs.get(id(through_nested_models(producer_of(t)))) for t in model.outputs]
    inputs = [next((kifs[id(layer)] for _, layer in layers if _producers(layer) == [inp]
                    and isinstance(layer, (QuantizedOutput, FixedPointQuantizer))), None) for inp in input_layers]
    params = sum(r.params for r in records)
    summary = Summary(
        model=model.name, kind=_model_kind(layers), rules_version=RULES_VERSION, layers=len(records),
        params=params, macs=sum(r.macs for r in records), bops=float(sum(r.bops or 0.0 for r in records)),
        model_memory_bits=sum(r.weight_memory_bits or 0 for r in records), float32_memory_bits=32 * params,
        lut_est=float(sum(r.lut_est or 0.0 for r in records)), dsp_est=float(sum(r.dsp_est or 0.0 for r in records)),
        latency_est_cycles=max(arrival.values(), default=0), input_types=[_type_text(k) for k in inputs],
        output_types=[_type_text(k) for k in outputs],
        unquantized_layers=[r.name for r in records if r.bops is None], dsp_min_bits=int(dsp_min_bits))
    return CostReport(records=records, summary=summary)
