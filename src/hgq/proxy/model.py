"""``to_proxy_model``: turn an H-model into plain Keras layers plus ``FixedPointQuantizer`` layers, each layer by its
spec's converter (``hgq.specs``) on a walk of the model's graph (``hgq.graph.run``)."""

import keras

from .. import graph
from ..layers import HLayer
from ..proxy_layers.precision import PROXY_DTYPE, require_exact_float64
from ..families.registry import ProxyRule, require_specs, spec_of
from .context import Context
from .saturation import narrow_to_input_precision


def check_exportable(model):
    """Raise if some quantizer of ``model`` has never recorded a range or does not produce fixed-point values."""
    for layer in graph.layers_of_type(model, HLayer):
        for q in layer.quantizers():
            if not q.conf["exact_q_value"]:
                raise ValueError(f"to_proxy_model: layer {layer.name!r} quantizes with exact_q_value=False, so its "
                                 "values are not fixed-point numbers; train with exact_q_value=True to export")
            if not q.is_calibrated():
                raise ValueError(f"to_proxy_model: layer {layer.name!r} was never calibrated or trained (its "
                                 "quantizer has no recorded range); run hgq.trace_minmax(model, data) first")


def to_proxy_model(model, aggressive=True, unary_lut_max_table_size=1024):
    """Export an H-model as a proxy model: plain Keras layers with exactly quantized weights, and
    ``FixedPointQuantizer`` layers where the H-model quantizes. Nested models are inlined: the proxy is flat.

    On data inside the calibrated range the proxy equals the H-model exactly; hls4ml reproduces the proxy
    bit for bit (see the docs for the layers where it cannot).

    Args:
        model: a calibrated (``trace_minmax``) or trained H-model, functional or Sequential.
        aggressive: ``True`` wraps on overflow (cheapest logic, trusts the calibration); ``False`` saturates.
        unary_lut_max_table_size: an ``HActivation`` other than ReLU/linear/softmax becomes a ``UnaryLUT``
            (bit-exact) when its input type has at most this many values (``2 ** bits``); larger inputs fall back
            to hls4ml's built-in activation (not bit-exact; custom functions raise).

    Raises:
        ValueError: naming the layer, for a model or layer that cannot be exported (shared layers included), and
            on a backend that computes float64 in float32 (JAX without 64-bit mode).
    """
    if not isinstance(model, keras.Model) or not model.built:
        raise ValueError("to_proxy_model: expected a built keras.Model")
    require_exact_float64("to_proxy_model")
    require_specs(model, "to_proxy_model", ProxyRule)
    if not graph.layers_of_type(model, HLayer):
        raise ValueError(f"to_proxy_model: model {model.name!r} contains no hgq layer")
    graph.check_no_shared_layers(model)
    check_exportable(model)
    ctx = Context("to_proxy_model", aggressive, unary_lut_max_table_size)
    inputs = [keras.Input(batch_shape=t.shape, dtype=PROXY_DTYPE, name=t.name) for t in model.inputs]

    def convert(layer, *args, **kwargs):
        # the tensor(s) of the call: one argument as it was given (a tensor or a list), else all, keyword ones after
        tensors = [*args, *(v for v in kwargs.values() if isinstance(v, keras.KerasTensor))]
        return spec_of(layer, ctx.caller, ProxyRule).convert(layer, tensors[0] if len(tensors) == 1 else tensors, ctx)

    outputs = graph.run(model, inputs, convert)
    proxy = keras.Model(inputs, keras.tree.flatten(outputs), name=f"{model.name}_proxy")
    return narrow_to_input_precision(proxy)
