"""The data behind ``hgq.profiling.numerical``: values per variable and per layer output, bit widths, and (from
``ranges``) the range each fixed-point type can represent. NumPy only (no matplotlib).

Conventions:

- A *row* is one variable (``<layer>/<weight>``) or one layer output (``<layer>``; model inputs under their input
  layer's name). Its ``values`` are the **non-zero absolute** values (bit-width rows keep every width, zeros
  included). Rows with no non-zero value are left out (nothing to show on a log axis).
- A precision *range* is ``(low, high) = (-f, i)`` in log2 units: a fixed-point type with ``f`` fractional and
  ``i`` integer bits (sign excluded) represents magnitudes from ``2**-f`` to ``2**i``. Each row names the keys
  under which its range is looked up (``Row.keys``, first match wins).
"""

import inspect
from dataclasses import dataclass

import keras
import numpy as np

from .. import graph
from ..cost import iter_hlayers, kernel_views, layer_bit_widths
from ..data import input_arrays
from ..families.hlayer import HLayer
from ..model_kind import H_MODEL, PROXY, model_kind
from ..proxy_layers.fixed_point_quantizer import FixedPointQuantizer
from ..quantizer.types import as_numpy
from .ranges import hls_weight_label, modelgraph_ranges, proxy_ranges


@dataclass
class Row:
    """One distribution: ``label`` (the y tick label), ``values`` (1-D float64) and the range look-up ``keys``."""

    label: str
    values: np.ndarray
    keys: tuple = ()


@dataclass
class Profile:
    """Everything ``numerical`` draws. ``None`` marks what is not drawn."""

    weights: list
    activations: list = None
    bits: list = None
    weight_ranges: dict = None
    activation_ranges: dict = None


def nonzero_abs(values):
    """The non-zero absolute values of ``values``, flattened, as float64."""
    a = np.abs(as_numpy(values)).reshape(-1)
    return a[a != 0]


def _rows(pairs):
    rows = [Row(label, nonzero_abs(values), keys or (label,)) for label, values, keys in pairs]
    return [row for row in rows if row.values.size]


# -- weights ----------------------------------------------------------------------------------------------------

def weight_rows(model):
    """One row per weight variable of ``model`` (nested models included), labelled ``<layer>/<variable>``.

    H-layers with kernels contribute what the proxy model holds (``exported_kernel_and_bias``: the quantized, and
    for the batch-norm layers fused, kernel and bias); other H-layers (their variables are quantizer state) and
    ``FixedPointQuantizer`` layers (their weights are types) contribute nothing; any other layer contributes its
    variables as they are.
    """
    pairs = []
    for _, layer in graph.flat_layers(model):
        if isinstance(layer, HLayer):
            for view in kernel_views(layer):
                kernel, bias, _ = view.layer.exported_kernel_and_bias()
                pairs.append((f"{view.name}/kernel", kernel, None))
                if bias is not None:
                    pairs.append((f"{view.name}/bias", bias, None))
        elif not isinstance(layer, FixedPointQuantizer):
            pairs.extend((f"{layer.name}/{v.name}", v, None) for v in layer.weights)
    return _rows(pairs)


def modelgraph_weight_rows(hls_model):
    """One row per weight of an hls4ml ``ModelGraph`` (``weight`` is labelled ``kernel``)."""
    return _rows((hls_weight_label(layer, key), w.data, None)
                 for layer in hls_model.get_layers() for key, w in layer.weights.items())


def bit_width_rows(model):
    """Total bit widths of every H-layer: ``<layer>/kernel`` (per weight) and ``<layer>/output`` (per output
    element, from the recorded ranges; left out while the layer has none). Zeros (pruned) are kept."""
    return [Row(f"{layer.name}/{kind}", bits) for layer in iter_hlayers(model)
            for kind, bits in layer_bit_widths(layer, missing_ok=True).items()]


# -- activations ------------------------------------------------------------------------------------------------

def _takes_training(layer):
    try:
        return "training" in inspect.signature(layer.call).parameters
    except (TypeError, ValueError):
        return False


def _run_recording(model, inputs, record):
    """Run ``model`` eagerly in inference mode on ``inputs``, calling ``record(layer, output)`` for every layer,
    layers of nested models included (the nested model itself is not recorded)."""

    def call(layer, *args, **kwargs):
        if _takes_training(layer):
            kwargs["training"] = False
        out = layer(*args, **kwargs)
        record(layer, out)
        return out

    return graph.run(model, inputs, call)


def activation_rows(model, X, batch_size=1024, hmodel_keys=None):
    """One row per model input (named after its input layer) and per layer output of ``model`` on ``X``
    (inference mode, nested models' layers included, a layer called more than once pooled into one row).

    The ranges of inputs are looked up under ``input:<n>``; of an H-layer's output under ``<layer>_q`` then
    ``<layer>`` (the names of its quantizer in the proxy), of any other layer under its name.
    """
    arrays = input_arrays(model, X, "numerical")
    hmodel_keys = model_kind(model) == H_MODEL if hmodel_keys is None else hmodel_keys
    collected, keys = {}, {}
    for n, producer in enumerate(graph.model_input_layers(model)):
        label = producer.name if producer is not None else f"input_{n}"
        collected[label], keys[label] = [nonzero_abs(arrays[n])], (f"input:{n}", label)

    def record(layer, out):
        outs = keras.tree.flatten(out)
        for m, y in enumerate(outs):
            label = layer.name if len(outs) == 1 else f"{layer.name}[{m}]"
            if label not in collected:
                collected[label] = []
                keys[label] = (f"{layer.name}_q", layer.name) if hmodel_keys and isinstance(layer, HLayer) \
                    else (layer.name,)
            collected[label].append(nonzero_abs(y))

    n = len(arrays[0])
    for start in range(0, n, int(batch_size)):
        _run_recording(model, [a[start:start + int(batch_size)] for a in arrays], record)
    rows = [Row(label, np.concatenate(parts), keys[label]) for label, parts in collected.items()]
    return [row for row in rows if row.values.size]


def modelgraph_activation_rows(hls_model, X):
    """Layer outputs of an hls4ml ``ModelGraph`` on ``X``.

    When the graph was converted from a Keras model (``hls_model.config.config["KerasModel"]``, e.g. a proxy,
    which hls4ml reproduces bit for bit) that model is run; no compilation and no ``Trace`` setting is needed.
    Otherwise every layer's trace is switched on and ``hls_model.trace`` compiles and runs the C simulation.
    """
    keras_model = hls_model.config.config.get("KerasModel")
    if isinstance(keras_model, keras.Model):
        return activation_rows(keras_model, X, hmodel_keys=False)
    arrays = [np.ascontiguousarray(a, dtype=np.float64) for a in (X if isinstance(X, (list, tuple)) else [X])]
    for layer in hls_model.get_layers():
        layer.set_attr("trace", True)
    _, trace = hls_model.trace(arrays if len(arrays) > 1 else arrays[0])
    rows = [Row(var.name, nonzero_abs(a), (f"input:{n}", var.name))
            for n, (var, a) in enumerate(zip(hls_model.get_input_variables(), arrays))]
    rows += [Row(name, nonzero_abs(y), (name,)) for name, y in trace.items()]
    return [row for row in rows if row.values.size]


# -- what to profile --------------------------------------------------------------------------------------------

def is_modelgraph(obj):
    """Whether ``obj`` is an hls4ml ``ModelGraph`` (hls4ml is imported only when ``obj`` comes from it)."""
    if not type(obj).__module__.startswith("hls4ml"):
        return False
    from hls4ml.model.graph import ModelGraph

    return isinstance(obj, ModelGraph)


def _check_proxy(hls_model):
    kind = model_kind(hls_model)
    if kind != PROXY:
        hint = (" it is an H-model: pass it as model= and its proxy (hgq.to_proxy_model) as hls_model="
                if kind == H_MODEL else " it holds no FixedPointQuantizer")
        raise ValueError(f"numerical: hls_model {hls_model.name!r} is not a proxy model;{hint}")


def collect(model=None, hls_model=None, X=None):
    """The ``Profile`` of the combination given (see ``numerical``)."""
    if model is None and hls_model is None:
        raise ValueError("numerical: nothing to profile; give model (a Keras or H-model) and/or hls_model "
                         "(a proxy model or an hls4ml ModelGraph), and X to profile the activations")
    if model is not None:
        graph.require_graph_model(model, "numerical")
    modelgraph = None
    if hls_model is not None:
        if isinstance(hls_model, keras.Model):
            graph.require_graph_model(hls_model, "numerical")
            _check_proxy(hls_model)
        elif is_modelgraph(hls_model):
            modelgraph = hls_model
        else:
            raise ValueError(f"numerical: hls_model must be a proxy model (hgq.to_proxy_model) or an hls4ml "
                             f"ModelGraph, got {type(hls_model).__module__}.{type(hls_model).__name__}")
    if model is not None:
        weights = weight_rows(model)
        activations = activation_rows(model, X) if X is not None else None
        bits = bit_width_rows(model) if model_kind(model) == H_MODEL else None
    elif modelgraph is not None:
        weights = modelgraph_weight_rows(modelgraph)
        activations = modelgraph_activation_rows(modelgraph, X) if X is not None else None
        bits = None
    else:
        weights = weight_rows(hls_model)
        activations = activation_rows(hls_model, X, hmodel_keys=False) if X is not None else None
        bits = None
    profile = Profile(weights, activations, bits)
    if hls_model is not None:  # grey boxes
        profile.weight_ranges, profile.activation_ranges = (
            modelgraph_ranges(modelgraph) if modelgraph is not None else proxy_ranges(hls_model))
    return profile
