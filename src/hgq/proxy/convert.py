"""``to_proxy_model``: turn an H-model into plain Keras layers plus ``FixedPointQuantizer`` layers.

Conversion is a registry: ``convert_layer`` dispatches on the layer's type, one small function per type.
Every proxy layer computes in float64, so accumulations stay exact up to 53 bits.
"""

import functools
import warnings

import keras
import numpy as np
from keras import ops

from ..cost import iter_hlayers
from ..layers import HActivation, HDense, HQuantize
from ..layers.kernel import check_activation
from .fixed_point_quantizer import FixedPointQuantizer

PROXY_DTYPE = "float64"
EXACT_ACTIVATIONS = ("linear", "relu")


class ProxyContext:
    """Export options shared by the converters."""

    def __init__(self, aggressive):
        self.aggressive = aggressive

    @property
    def overflow(self):
        return "WRAP" if self.aggressive else "SAT"


def _np(x):
    return np.asarray(ops.convert_to_numpy(x), dtype=np.float64)


def export_kbi(quantizer, feature_shape):
    """hls4ml's ``(keep_negative, bits, integers)`` of an activation quantizer, shaped ``(1, *features)``,
    or ``(1,)`` each when all elements share one type."""
    k, i, f = (_np(a) for a in quantizer.kif())
    b = np.maximum(k + i + f, 0)
    k, integers = np.where(b > 0, k, 0), np.where(b > 0, k + i, 0)
    arrays = [np.broadcast_to(a, (1, *feature_shape)) for a in (k, b, integers)]
    if all(np.unique(a).size == 1 for a in arrays):
        arrays = [a.reshape(-1)[:1] for a in arrays]
    return arrays


def output_quantizer(layer, ctx, rounding, name=None, overrides=None):
    """A ``FixedPointQuantizer`` reproducing ``layer.paq`` at inference, and its ``(k, b, i)`` to set once built.

    ``overrides``: hls4ml configuration the quantizer carries (e.g. the layer's parallelization factor).
    """
    k, b, integers = export_kbi(layer.paq, layer.output.shape[1:])
    q = FixedPointQuantizer(kbi_shape=k.shape, RND=rounding, SAT=ctx.overflow, fusible=bool(k.size == 1),
                            overrides=overrides, name=name or f"{layer.name}_q", dtype=PROXY_DTYPE)
    return q, (k, b, integers)


def _quantize(layer, x, ctx, rounding, name=None, overrides=None):
    q, kbi = output_quantizer(layer, ctx, rounding, name, overrides)
    y = q(x)
    q.set_kbi(*kbi)
    return y


def _bias_absorbs_rounding(layer):
    """True when each output unit has one step everywhere, so a per-unit bias can carry the half step."""
    f = _np(layer.paq.fractional_bits())
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
    return _quantize(layer, x, ctx, inference_rounding(layer.paq), name=layer.name)


@convert_layer.register
def _(layer: HActivation, x, ctx):
    name = keras.activations.serialize(layer.activation)
    name = name if isinstance(name, str) else getattr(layer.activation, "__name__", str(name))
    if name not in EXACT_ACTIVATIONS:
        warnings.warn(f"HActivation {layer.name!r} ({name}): hls4ml evaluates {name} with its own lookup "
                      "tables, so this layer of the proxy is not bit-exact with hls4ml", stacklevel=3)
    if name != "linear":
        x = keras.layers.Activation(name, name=layer.name, dtype=PROXY_DTYPE)(x)
    return _quantize(layer, x, ctx, inference_rounding(layer.paq))


def exported_kernel_bias(layer):
    """The quantized kernel and bias (``None`` without one) of a kernel layer, and its output rounding.

    Where the output rounds half up and each channel has one step at every position, the bias carries the
    half step and the quantizer truncates (free in hardware).
    """
    kernel = _np(layer.quantized_kernel(False))
    rounding = inference_rounding(layer.paq)
    bias = _np(layer.quantized_bias()) if layer.use_bias else None
    if bias is not None and rounding == "RND" and _bias_absorbs_rounding(layer):
        f = _np(layer.paq.fractional_bits())
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
    return _quantize(layer, y, ctx, rounding, overrides=overrides)


@convert_layer.register
def _(layer: HDense, x, ctx):
    return export_kernel_layer(layer, functools.partial(keras.layers.Dense, layer.units), x, ctx)


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


def to_proxy_model(model, aggressive=True):
    """Export an H-model as a proxy model: plain Keras layers with exactly quantized weights, and
    ``FixedPointQuantizer`` layers where the H-model quantizes.

    On data inside the calibrated range the proxy equals the H-model exactly; hls4ml reproduces the proxy
    bit for bit (see the docs for the layers where it cannot).

    Args:
        model: a calibrated (``trace_minmax``) or trained H-model, functional or Sequential.
        aggressive: ``True`` wraps on overflow (cheapest logic, trusts the calibration); ``False`` saturates.
    """
    if not isinstance(model, keras.Model) or not model.built:
        raise ValueError("to_proxy_model: expected a built keras.Model")
    if not list(iter_hlayers(model)):
        raise ValueError(f"to_proxy_model: model {model.name!r} contains no hgq layer")
    check_exportable(model)
    ctx = ProxyContext(aggressive)
    functional = keras.Model(model.inputs, model.outputs, name=model.name)
    inputs = keras.tree.map_structure(
        lambda t: keras.Input(batch_shape=t.shape, dtype=PROXY_DTYPE, name=t.name), functional.input)

    def call_function(layer, *args, **kwargs):
        return convert_layer(layer, args[0], ctx)

    proxy = keras.models.clone_model(functional, input_tensors=inputs, clone_function=lambda layer: layer,
                                     call_function=call_function)
    return keras.Model(proxy.inputs, proxy.outputs, name=f"{model.name}_proxy")
