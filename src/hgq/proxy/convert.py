"""``to_proxy_model``: turn an H-model into plain Keras layers plus ``FixedPointQuantizer`` layers.

Conversion is a registry: ``convert_layer`` dispatches on the layer's type, one small function per type.
Every proxy layer computes in float64, so accumulations stay exact up to 53 bits.
"""

import functools

import keras
import numpy as np
from keras import ops

from ..cost import iter_hlayers
from ..layers import HAdd, HDense, HQuantize
from ..layers.kernel import check_activation
from .fixed_point_quantizer import FixedPointQuantizer

PROXY_DTYPE = "float64"


class ProxyContext:
    """Export options shared by the converters."""

    def __init__(self, aggressive, unary_lut_max_table_size=1024):
        self.aggressive = aggressive
        self.unary_lut_max_table_size = unary_lut_max_table_size

    @property
    def overflow(self):
        return "WRAP" if self.aggressive else "SAT"


def as_numpy(x):
    """``x`` (a tensor or array) as a float64 NumPy array."""
    return np.asarray(ops.convert_to_numpy(x), dtype=np.float64)


def export_kbi(quantizer):
    """hls4ml's ``(keep_negative, bits, integers)`` of an activation quantizer (zero where ``bits`` is 0)."""
    k, i, f = (as_numpy(a) for a in quantizer.kif())
    b = np.maximum(k + i + f, 0)
    return np.where(b > 0, k, 0), b, np.where(b > 0, k + i, 0)


def apply_quantizer(x, kbi, rounding, overflow, name, overrides=None):
    """Call a new ``FixedPointQuantizer`` of types ``kbi = (keep_negative, bits, integers)`` on the proxy tensor
    ``x`` and return its output.

    The arrays are stored shaped ``(1, *features)`` as hls4ml requires, or ``(1,)`` each when all elements share
    one type (then ``fusible``). ``overrides``: hls4ml configuration the quantizer carries (e.g. a layer's
    parallelization factor).
    """
    arrays = [np.broadcast_to(np.asarray(a), (1, *x.shape[1:])) for a in kbi]
    fusible = all(np.unique(a).size == 1 for a in arrays)
    if fusible:
        arrays = [a.reshape(-1)[:1] for a in arrays]
    q = FixedPointQuantizer(kbi_shape=arrays[0].shape, RND=rounding, SAT=overflow, fusible=fusible,
                            overrides=overrides, name=name, dtype=PROXY_DTYPE)
    y = q(x)
    q.set_kbi(*arrays)
    return y


def quantize_output(layer, x, ctx, rounding, name=None, overrides=None):
    """``layer.paq`` at inference, as a ``FixedPointQuantizer`` named ``name`` (default ``<layer name>_q``)."""
    return apply_quantizer(x, export_kbi(layer.paq), rounding, ctx.overflow, name or f"{layer.name}_q", overrides)


def _bias_absorbs_rounding(layer):
    """True when each output unit has one step everywhere, so a per-unit bias can carry the half step."""
    f = as_numpy(layer.paq.fractional_bits())
    per_unit = f.reshape(-1, f.shape[-1])
    return bool(np.all(per_unit == per_unit[:1]))


def inference_rounding(quantizer):
    return "TRN" if quantizer.rounding == "floor" else "RND"


@functools.singledispatch
def convert_layer(layer, x, ctx):
    """Build the proxy of ``layer`` on the proxy tensor(s) ``x``; return the output tensor(s)."""
    raise ValueError(f"to_proxy_model: layer {layer.name!r} of type {type(layer).__name__} cannot be exported; "
                     "build the model from hgq layers (HQuantize first)")


@convert_layer.register
def _(layer: HQuantize, x, ctx):
    return quantize_output(layer, x, ctx, inference_rounding(layer.paq), name=layer.name)


def exported_kernel_bias(layer):
    """The quantized kernel and bias (``None`` without one) of a kernel layer, and its output rounding.

    Where the output rounds half up and each channel has one step at every position, the bias carries the
    half step and the quantizer truncates (free in hardware).
    """
    kernel = as_numpy(layer.quantized_kernel(False))
    rounding = inference_rounding(layer.paq)
    bias = as_numpy(layer.quantized_bias()) if layer.use_bias else None
    if bias is not None and rounding == "RND" and _bias_absorbs_rounding(layer):
        f = as_numpy(layer.paq.fractional_bits())
        bias = bias + np.broadcast_to(2.0 ** -(f.reshape(-1, f.shape[-1])[0] + 1), bias.shape)
        rounding = "TRN"
    return kernel, bias, rounding


def export_kernel_layer(layer, plain_layer, x, ctx, overrides=None):
    """The proxy of a kernel layer: ``plain_layer(activation=, use_bias=, name=, dtype=)`` (a Keras layer of the
    same geometry) holding the exported kernel and bias, then the output quantizer."""
    kernel, bias, rounding = exported_kernel_bias(layer)
    activation = check_activation(layer.name, layer.activation)
    plain = plain_layer(activation=None if activation == "linear" else activation, use_bias=bias is not None,
                        name=layer.name, dtype=PROXY_DTYPE)
    y = plain(x)
    plain.set_weights([kernel] if bias is None else [kernel, bias])
    return quantize_output(layer, y, ctx, rounding, overrides=overrides)


@convert_layer.register
def _(layer: HDense, x, ctx):
    return export_kernel_layer(layer, functools.partial(keras.layers.Dense, layer.units), x, ctx)


@convert_layer.register
def _(layer: HAdd, x, ctx):
    """``keras.layers.Add`` in float64 (exact: the inputs are fixed-point), then the output quantizer. More than
    two inputs become a chain of two-input adds (hls4ml's merge takes two), named ``<name>``, ``<name>_1``, ..."""
    layer.quantized_input_layers()  # every input must be quantized (names the layers otherwise)
    tensors = list(x)
    y = tensors[0]
    for n, t in enumerate(tensors[1:]):
        y = keras.layers.Add(name=layer.name if n == 0 else f"{layer.name}_{n}", dtype=PROXY_DTYPE)([y, t])
    return quantize_output(layer, y, ctx, inference_rounding(layer.paq))


def check_exportable(model):
    """Raise if some quantizer of ``model`` has never recorded a range or does not produce fixed-point values."""
    for layer in iter_hlayers(model):
        for q in layer.quantizers():
            if not q.conf["exact_q_value"]:
                raise ValueError(f"to_proxy_model: layer {layer.name!r} quantizes with exact_q_value=False, so its "
                                 "values are not fixed-point numbers; train with exact_q_value=True to export")
            if not q.is_calibrated():
                raise ValueError(f"to_proxy_model: layer {layer.name!r} was never calibrated or trained (its "
                                 "quantizer has no recorded range); run hgq.trace_minmax(model, data) first")


def to_proxy_model(model, aggressive=True, unary_lut_max_table_size=1024):
    """Export an H-model as a proxy model: plain Keras layers with exactly quantized weights, and
    ``FixedPointQuantizer`` layers where the H-model quantizes.

    On data inside the calibrated range the proxy equals the H-model exactly; hls4ml reproduces the proxy
    bit for bit (see the docs for the layers where it cannot).

    Args:
        model: a calibrated (``trace_minmax``) or trained H-model, functional or Sequential.
        aggressive: ``True`` wraps on overflow (cheapest logic, trusts the calibration); ``False`` saturates.
        unary_lut_max_table_size: an ``HActivation`` other than ReLU/linear/softmax becomes a ``UnaryLUT``
            (bit-exact) when its input type has at most this many values (``2 ** bits``); larger inputs fall back
            to hls4ml's built-in activation (not bit-exact; custom functions raise).
    """
    if not isinstance(model, keras.Model) or not model.built:
        raise ValueError("to_proxy_model: expected a built keras.Model")
    if not list(iter_hlayers(model)):
        raise ValueError(f"to_proxy_model: model {model.name!r} contains no hgq layer")
    check_exportable(model)
    ctx = ProxyContext(aggressive, unary_lut_max_table_size)
    functional = keras.Model(model.inputs, model.outputs, name=model.name)
    inputs = keras.tree.map_structure(
        lambda t: keras.Input(batch_shape=t.shape, dtype=PROXY_DTYPE, name=t.name), functional.input)

    def call_function(layer, *args, **kwargs):
        if isinstance(layer, keras.Model):
            return inline_nested(layer, args[0])
        return convert_layer(layer, args[0], ctx)

    def inline_nested(sub, x):
        # A nested model (functional or Sequential) is converted layer by layer on the outer tensors, so the
        # proxy is flat: no keras.Model inside it.
        if not sub.built or not getattr(sub, "inputs", None):
            raise ValueError(f"to_proxy_model: nested model {sub.name!r} has no defined inputs; build it "
                             "(e.g. give its first layer an input shape) before exporting")
        sub_functional = keras.Model(sub.inputs, sub.outputs, name=sub.name)
        x = keras.tree.pack_sequence_as(sub_functional.input, keras.tree.flatten(x))
        # clone_model cannot take tensors of an enclosing graph as inputs; the graph walk it uses internally can.
        return sub_functional._run_through_graph(x, operation_fn=lambda op: op, call_fn=call_function)

    proxy = keras.models.clone_model(functional, input_tensors=inputs, clone_function=lambda layer: layer,
                                     call_function=call_function)
    return keras.Model(proxy.inputs, proxy.outputs, name=f"{model.name}_proxy")
