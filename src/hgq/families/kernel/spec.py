"""Specs of the layers that multiply by a kernel: plain Keras ``Dense``, ``Conv1D``, ``Conv2D`` and ``EinsumDense`` (as
proxy and float models hold them) and their H-layers (``HDense``, ``HConv1D``, ``HConv2D``, ``HEinsumDense`` and the
batch-norm fused versions)."""

import keras
import numpy as np

from ...proxy_layers.precision import PROXY_DTYPE, refuse_wide_accumulator
from ...proxy_layers.quantize import quantize_output
from ...quantizer.intervals import linear_kif
from ...quantizer.types import as_numpy
from ..activation.layer import EXACT_ACTIVATIONS
from ..activation.spec import h_activation
from ..composite import CostsOfTheHLayer, composite_costs, part_kernels
from ..costs import accumulator_bits, kernel_costs
from ..kernel_view import HKernelView, PlainKernelView
from ..registry import LayerSpec, OwnTypes, ProxyRule, input_shapes, register, spec_of
from .batchnorm import HConv1DBatchNorm, HConv2DBatchNorm, HDenseBatchNorm, HEinsumDenseBatchNorm
from .conv import HConv1D, HConv2D
from ..copy import copy_batchnorm, copy_weight
from .dense import HDense
from .depthwise import HDepthwiseConv1D, HDepthwiseConv2D
from .einsum_dense import HEinsumDense
from .einsum_geometry import EinsumGeometry
from .geometry import ConvGeometry, DenseGeometry, DepthwiseGeometry
from .separable import HSeparableConv1D, HSeparableConv2D
from .mixin import check_activation


def quantize_kernel_layer(layer, x, options, h_class, fused_class):
    """``quantize_model``'s H-layer of a float Dense, Conv or EinsumDense ``layer`` on ``x``: ``h_class`` (or, with a
    batch normalization to absorb, ``fused_class``) from the layer's config, its kernel and bias (and the batch
    normalization's variables) copied; an activation other than linear and ReLU as an ``HActivation`` after it."""
    cfg = layer.get_config()
    activation = keras.activations.serialize(keras.activations.get(cfg.pop("activation", None)))
    bn = options.batchnorm
    if bn is not None:
        cfg.update(momentum=bn.momentum, epsilon=bn.epsilon, center=bn.center, scale=bn.scale)
    exact = activation in EXACT_ACTIVATIONS
    h = (h_class if bn is None else fused_class).from_config(
        {**cfg, **options.h_kwargs(), "activation": activation if exact else "linear"})
    y = h(x)
    copy_weight(h.kernel, layer.kernel)
    if layer.bias is not None:
        copy_weight(h.bias, layer.bias)
    if bn is not None:
        copy_batchnorm(h, bn)
    if exact:
        return y
    return h_activation(activation, f"{layer.name}_activation", options)(y)


def with_batch_axis(kif):
    return tuple(np.asarray(a)[None] for a in kif)


def without_batch_axis(kif):
    return tuple(np.asarray(a)[0] for a in kif)


@register(keras.layers.Dense)
class DenseSpec(LayerSpec):
    """``keras.layers.Dense`` on inputs of any rank (the kernel meets the last axis at every position)."""

    output_units_key = "units"
    pruning_structures = ("unstructured", "structured", "pattern", "block")
    reuses_multipliers = False

    def geometry(self, layer):
        return DenseGeometry(input_shapes(layer)[0][1:])

    def kernels(self, layer):
        return [PlainKernelView(layer, self.geometry(layer), self.reuses_multipliers)]

    def output_kif(self, layer, input_kifs):
        activation = layer.get_config().get("activation")
        if input_kifs[0] is None or activation not in EXACT_ACTIVATIONS:
            return None
        kernel, bias, _ = self.kernels(layer)[0].weights()
        k, i, f = linear_kif(self.geometry(layer), without_batch_axis(input_kifs[0]), kernel, bias)
        return with_batch_axis((np.zeros_like(k) if activation == "relu" else k, i, f))

    def costs(self, layer, input_kifs, parallel_factor, dsp_min_bits):
        return kernel_costs(self.kernels(layer), input_kifs[0] if input_kifs else None, parallel_factor,
                            dsp_min_bits)

    def h_classes(self, layer):
        """``(H-layer class, its batch-norm fused class)`` that ``quantize_model`` makes of ``layer``."""
        return HDense, HDenseBatchNorm

    def quantized(self, layer, args, kwargs, options):
        return quantize_kernel_layer(layer, args[0], options, *self.h_classes(layer))

    def fuses_batchnorm(self, layer):
        return keras.activations.serialize(layer.activation) == "linear"


@register(keras.layers.Conv1D, keras.layers.Conv2D)
class ConvSpec(DenseSpec):
    """``keras.layers.Conv1D``/``Conv2D`` (channels last, no dilation, one group): the firmware reuses its
    multipliers over the output positions, ``parallel_factor`` of them at once."""

    output_units_key = "filters"
    pruning_structures = ("unstructured", "structured", "pattern")
    reuses_multipliers = True

    def geometry(self, layer):
        return ConvGeometry(input_shapes(layer)[0][1:], layer.kernel_size, layer.strides, layer.padding)

    def h_classes(self, layer):
        one = isinstance(layer, keras.layers.Conv1D)
        return (HConv1D, HConv1DBatchNorm) if one else (HConv2D, HConv2DBatchNorm)


@register(keras.layers.DepthwiseConv1D, keras.layers.DepthwiseConv2D)
class DepthwiseConvSpec(ConvSpec):
    """``keras.layers.DepthwiseConv1D``/``DepthwiseConv2D`` (channels last, no dilation): hls4ml computes
    ``depth_multiplier=1`` only, has no Resource implementation of it in io_parallel (its code asserts), and its 1-D
    and 2-D headers share an include guard (hls4ml 1.3), so one model holds one kind."""

    output_units_key = None
    pruning_structures = ("unstructured",)
    resource = False

    def geometry(self, layer):
        return DepthwiseGeometry(input_shapes(layer)[0][1:], layer.kernel_size, layer.strides, layer.padding)

    def h_classes(self, layer):
        one = isinstance(layer, keras.layers.DepthwiseConv1D)
        return (HDepthwiseConv1D, None) if one else (HDepthwiseConv2D, None)

    def fuses_batchnorm(self, layer):
        return False

    def hls4ml_header(self, layer):
        one = isinstance(layer, keras.layers.DepthwiseConv1D)
        return "NNET_SEPARABLE_CONV2D_LATENCY_H_", f"nnet_sepconv{1 if one else 2}d_latency.h"

    def hls4ml_refusal(self, layer):
        if layer.depth_multiplier != 1:
            return (f"depth_multiplier={layer.depth_multiplier} (hls4ml computes depth_multiplier=1 only); use 1, or "
                    "a DepthwiseConv with depth_multiplier=1 and a 1x1 convolution after it")
        return None


@register(keras.layers.EinsumDense)
class EinsumDenseSpec(DenseSpec):
    """``keras.layers.EinsumDense``, any equation: hls4ml builds it with ``io_parallel`` only, not with its Resource
    strategy (hls4ml 1.3 fails with a ``TypeError`` on its reuse factor), and refuses equations that sum a letter of
    one operand only (a direct sum)."""

    output_units_key = None
    pruning_structures = ("unstructured",)
    io_stream = False
    resource = False

    def geometry(self, layer):
        return EinsumGeometry(layer.equation, input_shapes(layer)[0][1:], layer.kernel.shape)

    def h_classes(self, layer):
        return HEinsumDense, HEinsumDenseBatchNorm

    def fuses_batchnorm(self, layer):
        return super().fuses_batchnorm(layer) and layer.bias_axes is not None  # its statistics: the bias's shape

    def hls4ml_refusal(self, layer):
        sums = self.geometry(layer).direct_sums
        return f"its equation {layer.equation!r} sums {', '.join(sums)} in one operand only" if sums else None


class HKernelSpecMixin:
    """What H kernel layers add to their plain layer's spec: quantized weights, their own output types, export."""

    def plain_layer(self, layer, activation, use_bias):
        """The plain Keras layer of the proxy (same geometry, float64, named like ``layer``)."""
        raise NotImplementedError

    def kernels(self, layer):
        return [HKernelView(layer, self.geometry(layer), self.reuses_multipliers)]

    def output_kif(self, layer, input_kifs):
        return tuple(as_numpy(a) for a in layer.output_kif())

    def check_accumulator(self, layer, ctx):
        """Refuse a layer whose sums ``Σ x·w + b`` the proxy's float64 cannot hold exactly."""
        in_kif = layer.input_types()[0]
        refuse_wide_accumulator(layer, max(accumulator_bits(view, in_kif) for view in self.kernels(layer)), ctx)

    def convert(self, layer, x, ctx):
        """The plain layer holding the exported kernel and bias, then the output quantizer."""
        self.check_accumulator(layer, ctx)
        kernel, bias, rounding = layer.exported_kernel_and_bias()
        activation = check_activation(layer.name, layer.activation)
        plain = self.plain_layer(layer, None if activation == "linear" else activation, bias is not None)
        y = plain(x)
        plain.set_weights([kernel] if bias is None else [kernel, bias])
        return quantize_output(layer, y, ctx, rounding, overrides=self.hls_overrides(layer))

    def hls_overrides(self, layer):
        """hls4ml configuration the output quantizer carries for the plain layer."""
        return None


class ParallelPositionsMixin:
    """What a convolution's H-layer hands hls4ml: its ``parallel_factor``."""

    def hls_overrides(self, layer):
        # hls4ml reads the firmware parallelism of the convolution from its output quantizer
        return {"layers": {layer.name: {"parallelization_factor": layer.parallel_factor}}}

    def parallel_factor(self, layer):
        return layer.parallel_factor


@register(HDepthwiseConv1D, HDepthwiseConv2D)
class HDepthwiseConvSpec(ParallelPositionsMixin, HKernelSpecMixin, DepthwiseConvSpec):
    def plain_layer(self, layer, activation, use_bias):
        plain = keras.layers.DepthwiseConv1D if isinstance(layer, HDepthwiseConv1D) else keras.layers.DepthwiseConv2D
        return plain(layer.kernel_size, strides=layer.strides, padding=layer.padding,
                     depth_multiplier=layer.depth_multiplier, activation=activation, use_bias=use_bias,
                     name=layer.name, dtype=PROXY_DTYPE)



@register(HDense)
class HDenseSpec(HKernelSpecMixin, DenseSpec):
    def plain_layer(self, layer, activation, use_bias):
        return keras.layers.Dense(layer.units, activation=activation, use_bias=use_bias, name=layer.name,
                                  dtype=PROXY_DTYPE)


@register(HEinsumDense)
class HEinsumDenseSpec(HKernelSpecMixin, EinsumDenseSpec):
    def plain_layer(self, layer, activation, use_bias):
        # the equation with any ellipsis spelled out: Keras' EinsumDense infers wrong shapes for one (Keras 3.15)
        g = self.geometry(layer)
        return keras.layers.EinsumDense(f"{g.inp},{g.ker}->{g.out}", g.output_shape, activation=activation,
                                        bias_axes=layer.bias_axes if use_bias else None, name=layer.name,
                                        dtype=PROXY_DTYPE)


@register(HConv1D, HConv2D)
class HConvSpec(ParallelPositionsMixin, HKernelSpecMixin, ConvSpec):
    def plain_layer(self, layer, activation, use_bias):
        plain = keras.layers.Conv1D if isinstance(layer, HConv1D) else keras.layers.Conv2D
        return plain(layer.filters, layer.kernel_size, strides=layer.strides, padding=layer.padding,
                     activation=activation, use_bias=use_bias, name=layer.name, dtype=PROXY_DTYPE)


@register(HSeparableConv1D, HSeparableConv2D)
class HSeparableConvSpec(OwnTypes, LayerSpec):
    """A composite of a depthwise and a pointwise convolution: its kernels are the two parts', its costs their sum,
    its proxy the two parts' (a ``DepthwiseConv`` and a 1x1 ``Conv``, as hls4ml splits a separable convolution)."""

    pruning_structures = ("unstructured",)
    resource = False

    def kernels(self, layer):
        return part_kernels(layer)

    def costs(self, layer, input_kifs, parallel_factor, dsp_min_bits):
        return composite_costs(layer, dsp_min_bits, [(layer.depthwise,), (layer.pointwise,)], layer.parts())

    def convert(self, layer, x, ctx):
        for part in layer.parts():
            x = spec_of(part, ctx.caller, ProxyRule).convert(part, x, ctx)
        return x


@register(keras.layers.SeparableConv1D, keras.layers.SeparableConv2D)
class SeparableConvSpec(CostsOfTheHLayer, LayerSpec):
    """The float ``keras.layers.SeparableConv1D``/``SeparableConv2D`` (channels last, no dilation): ``quantize_model``
    makes an ``HSeparableConv1D``/``HSeparableConv2D`` of it, its kernels and bias copied. Its costs and kernels are
    the H-layer's: asked of the float layer, they are refused, like any export (hls4ml's Keras-3 reader fails on it)."""

    h_layer = "HSeparableConv"

    def quantized(self, layer, args, kwargs, options):
        cfg = layer.get_config()
        for key, value in (("dilation_rate", cfg["dilation_rate"]), ("data_format", cfg["data_format"])):
            if value not in ((1,) * len(cfg["kernel_size"]), "channels_last"):
                raise ValueError(f"quantize_model: {type(layer).__name__} {layer.name!r} has {key}={value!r}; "
                                 "hls4ml computes dilation_rate=1 and data_format='channels_last' only")
        activation = keras.activations.serialize(keras.activations.get(cfg["activation"]))
        exact = activation in EXACT_ACTIVATIONS
        h_class = HSeparableConv1D if isinstance(layer, keras.layers.SeparableConv1D) else HSeparableConv2D
        h = h_class(cfg["filters"], cfg["kernel_size"], strides=cfg["strides"], padding=cfg["padding"],
                    depth_multiplier=cfg["depth_multiplier"], activation=activation if exact else "linear",
                    use_bias=cfg["use_bias"], name=layer.name, **options.h_kwargs(),
                    **{key: cfg[key] for key in ("depthwise_initializer", "pointwise_initializer", "bias_initializer")})
        y = h(args[0])
        copy_weight(h.depthwise.kernel, layer.depthwise_kernel)
        copy_weight(h.pointwise.kernel, layer.pointwise_kernel)
        if cfg["use_bias"]:
            copy_weight(h.pointwise.bias, layer.bias)
        return y if exact else h_activation(activation, f"{layer.name}_activation", options)(y)


@register(keras.layers.TimeDistributed)
class TimeDistributedSpec(CostsOfTheHLayer, LayerSpec):
    """The float ``keras.layers.TimeDistributed`` of a ``Dense`` or a ``Conv1D``: ``quantize_model`` makes an
    ``HDense`` of the first (a Dense meets the last axis at every position already) and an ``HConv2D`` with kernel
    ``(1, k)`` of the second (the same convolution of each step), named like the wrapper. hls4ml cannot read the
    wrapper on Keras 3, and has no 3-D convolution for a wrapped ``Conv2D``: other wrapped layers are refused."""

    h_layer = "HDense or HConv2D"

    def quantized(self, layer, args, kwargs, options):
        inner = layer.layer
        if type(inner) is keras.layers.Dense:
            dense = _renamed(inner, layer.name, inner.get_config(), (None, inner.kernel.shape[0]))
            return quantize_kernel_layer(dense, args[0], options, HDense, HDenseBatchNorm)
        if type(inner) is keras.layers.Conv1D:
            cfg = inner.get_config()
            cfg.update(kernel_size=(1, *cfg["kernel_size"]), strides=(1, *cfg["strides"]),
                       dilation_rate=(1, *cfg["dilation_rate"]))
            conv = _renamed(inner, layer.name, cfg, (None, *cfg["kernel_size"], inner.kernel.shape[-2]),
                            keras.layers.Conv2D)
            return quantize_kernel_layer(conv, args[0], options, HConv2D, HConv2DBatchNorm)
        raise ValueError(f"quantize_model: TimeDistributed {layer.name!r} wraps a {type(inner).__name__}; hgq maps "
                         "TimeDistributed of Dense and of Conv1D (hls4ml has no 3-D convolution): apply the layer to "
                         "the steps another way")


def _renamed(inner, name, cfg, input_shape, cls=None):
    """A copy of the float layer ``inner`` (of ``cls``, by default its own class) from ``cfg``, named ``name``, built
    for ``input_shape``, its weights reshaped into the copy's."""
    copy = (cls or type(inner)).from_config({**cfg, "name": name})
    copy.build(input_shape)
    copy.set_weights([np.reshape(w, v.shape) for w, v in zip(inner.get_weights(), copy.weights)])
    return copy
